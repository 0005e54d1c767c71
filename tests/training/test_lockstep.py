"""Runs in lockstep: each records exactly what it records trained alone; they stand at one step
whenever the loop looks up; their probes share one probe thread; a run that diverges leaves
the lockstep and the others go on."""
from __future__ import annotations

import threading

import pytest

import numpy as np

from gradscope.config import RunConfig
from gradscope.records import RunState
from gradscope.training import Trainer
from gradscope.training.loop import Lockstep
from trainer_log import Log

BASE = dict(arch="lstm", task="adding", seq_len=8, hidden=6, batch=4, steps=24, probe_every=3, checkpoint_every=10)


def test_each_run_of_a_lockstep_records_what_it_records_alone():
    configs = [RunConfig(**BASE, lr=lr) for lr in (1e-3, 1e-2, 5e-2)]
    alone = []
    for config in configs:
        log = Log()
        with Trainer(config, [log]) as trainer:
            trainer.run()
        alone.append(log)
    together = [Log() for _ in configs]
    trainers = [Trainer(config, [log]) for config, log in zip(configs, together)]
    probe_threads = []

    class Count(Log):
        def on_step_end(self, trainer, record):
            probe_threads.append(sum(t.name == "gradscope-probe" for t in threading.enumerate()))

    trainers[0].callbacks.append(Count())
    try:
        assert Lockstep(trainers).run() == [RunState.FINISHED] * 3
    finally:
        for trainer in trainers:
            trainer.close()
    assert max(probe_threads) == 1                   # one probe thread for the three runs
    for solo, shared in zip(alone, together):
        assert [r.step for r in shared.records] == list(range(24))
        for a, b in zip(solo.records, shared.records):
            assert dict(a.scalars) == dict(b.scalars) and set(a.arrays) == set(b.arrays)
            for name in a.arrays:
                np.testing.assert_array_equal(a.arrays[name], b.arrays[name])


def test_a_run_that_diverges_leaves_the_lockstep_and_the_others_finish():
    wild = RunConfig(**{**BASE, "arch": "rnn", "optimizer": "sgd", "lr": 5.0, "init": "identity", "rho": 3.0,
                        "task": "sine", "nonlinearity": "relu", "seq_len": 30, "steps": 200})
    calm = wild.replace(lr=1e-3, rho=0.5)
    logs = [Log(), Log()]
    trainers = [Trainer(config, [log]) for config, log in zip((wild, calm), logs)]
    try:
        states = Lockstep(trainers).run()
    finally:
        for trainer in trainers:
            trainer.close()
    assert states == [RunState.DIVERGED, RunState.FINISHED]
    assert len(logs[1].records) == 200 and len(logs[0].records) < 200
    assert any(event.kind == "diverged" for event in logs[0].events)


def test_a_change_asked_for_in_the_middle_of_a_round_lands_at_one_step_in_every_run():
    from gradscope.training import Callback

    configs = [RunConfig(**{**BASE, "steps": 12}, lr=lr) for lr in (1e-3, 2e-3, 3e-3)]
    logs = [Log() for _ in configs]
    trainers = [Trainer(config, [log]) for config, log in zip(configs, logs)]
    loop = Lockstep(trainers)

    class MidRound(Callback):                    # trainer 0 has taken step 5, the others have not
        def on_step_end(self, trainer, record):
            if record.step == 5:
                loop.change_settings(None, lr=0.05)
                loop.note_at(9, "nine")

    trainers[0].callbacks.append(MidRound())
    try:
        loop.run()
    finally:
        for trainer in trainers:
            trainer.close()
    for log in logs:
        changes = [(e.step, dict(e.detail)) for e in log.events if e.kind == "settings_changed"]
        assert len(changes) == 1 and changes[0][1] == {"lr": 0.05}
        assert [(e.step, e.detail["text"]) for e in log.events if e.kind == "note"] == [(9, "nine")]
    assert len({[e.step for e in log.events if e.kind == "settings_changed"][0] for log in logs}) == 1


def test_a_pause_for_a_step_under_way_is_refused_not_lost():
    from gradscope.training.schedule import Schedule

    schedule = Schedule()
    schedule.take(5)                              # step 5 has begun
    with pytest.raises(ValueError, match="step 5 is under way or done"):
        schedule.pause_at(5)
    schedule.pause_at(6)
    assert schedule.take(6).pause


def test_a_run_that_reaches_its_total_first_is_finished_at_once():
    short, long = RunConfig(**{**BASE, "steps": 6}), RunConfig(**{**BASE, "steps": 15})
    logs = [Log(), Log()]
    trainers = [Trainer(config, [log]) for config, log in zip((short, long), logs)]
    order = []

    class Watch(Log):
        def on_state_changed(self, trainer, state):
            order.append((trainer.config.steps, state.value, trainers[1].step_index))

    for trainer in trainers:
        trainer.callbacks.append(Watch())
    try:
        assert Lockstep(trainers).run() == [RunState.FINISHED, RunState.FINISHED]
    finally:
        for trainer in trainers:
            trainer.close()
    finished_short = next(entry for entry in order if entry[:2] == (6, "finished"))
    assert finished_short[2] <= 7                  # while the long run was still at its 7th step
    assert [r.step for r in logs[0].records] == list(range(6)) and len(logs[1].records) == 15
