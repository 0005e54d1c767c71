"""Run control from another thread: pause, resume, stop, and stepping by hand or while paused."""
from __future__ import annotations

import threading

from gradscope.records import RunState
from gradscope.training import Trainer
from trainer_log import Log, small


def test_pause_resume_and_stop_from_another_thread():
    log = Log()
    trainer = Trainer(small(steps=100_000, probe_every=0), [log])
    thread = threading.Thread(target=trainer.run)
    thread.start()
    try:
        assert log.state_seen[RunState.RUNNING].wait(20)
        trainer.pause()
        assert log.state_seen[RunState.PAUSED].wait(20)
        paused_at = trainer.step_index
        assert not thread.join(0.3) and trainer.step_index == paused_at   # really paused
        trainer.resume()
        trainer.stop()
        thread.join(20)
        assert not thread.is_alive()
        assert trainer.state is RunState.STOPPED
        assert [r.step for r in log.records] == list(range(trainer.step_index))
    finally:
        trainer.stop()
        thread.join(20)
        trainer.close()


def test_a_step_requested_while_paused_trains_exactly_one_step_and_stays_paused():
    log = Log()
    trainer = Trainer(small(steps=100_000, probe_every=2), [log])
    trainer.pause()                       # paused before the first step, as the GUI starts
    thread = threading.Thread(target=trainer.run)
    thread.start()
    try:
        assert log.state_seen[RunState.PAUSED].wait(20)
        assert trainer.step_index == 0
        waiting = threading.Event()
        for expected in (1, 2, 3):
            trainer.request_step()
            while len(log.records) < expected and not waiting.wait(0.01):
                pass
        thread.join(0.2)
        assert thread.is_alive() and trainer.step_index == 3
        assert [r.step for r in log.records] == [0, 1, 2]
        assert log.records[0].probed and log.records[2].probed   # probes arrive with their step
        assert trainer.state is RunState.PAUSED
        first_pause = log.states.index(RunState.PAUSED)
        assert RunState.RUNNING not in log.states[first_pause:]
    finally:
        trainer.stop()
        thread.join(20)
        trainer.close()
    assert trainer.state is RunState.STOPPED


def test_stepping_by_hand_pauses_between_steps_and_finishes_at_the_end():
    with Trainer(small(steps=2)) as trainer:
        assert trainer.step().step == 0 and trainer.state is RunState.PAUSED
        assert trainer.step().step == 1 and trainer.state is RunState.FINISHED
        assert trainer.step() is None
