"""Schedules land at exactly their step, in the trainer and in the training process: a pause
at step 137 stops with the last record at 137 and none past it; a threshold scheduled for step
50 is in force from step 50 on, in the records and in the events; a note lands at its step."""
from __future__ import annotations

import threading
import time

import pytest

from gradscope.config import RunConfig
from gradscope.lab import LabModel
from gradscope.records import RunState
from gradscope.training import Trainer
from trainer_log import Log

FAST = dict(arch="rnn", task="adding", seq_len=8, hidden=6, batch=4, steps=1_000_000, probe_every=5,
            checkpoint_every=50)


def test_a_pause_at_step_137_stops_the_trainer_after_it_headless():
    log = Log()
    trainer = Trainer(RunConfig(**FAST), [log])
    trainer.pause_at(137)
    thread = threading.Thread(target=trainer.run)
    thread.start()
    try:
        assert log.state_seen[RunState.PAUSED].wait(60)
        time.sleep(0.3)                                   # nothing more comes while it is paused
        assert [record.step for record in log.records] == list(range(138))
        assert trainer.step_index == 138 and trainer.state is RunState.PAUSED
        with pytest.raises(ValueError, match="at step 138"):
            trainer.pause_at(100)                         # a step it has passed
    finally:
        trainer.stop()
        thread.join(30)
        trainer.close()


def test_a_threshold_scheduled_for_step_50_is_in_force_from_step_50_and_a_note_lands_at_its_step():
    log = Log()
    with Trainer(RunConfig(**{**FAST, "steps": 80}), [log]) as trainer:
        trainer.change_settings(50, clip_mode="norm", clip_threshold=0.5)
        trainer.note_at(64, "the clipping has settled")
        trainer.run()
    for record in log.records:
        assert record.scalars["clip_threshold"] == (0.5 if record.step >= 50 else 1.0), record.step
    changes = [(e.step, dict(e.detail)) for e in log.events if e.kind == "settings_changed"]
    assert changes == [(50, {"clip_mode": "norm", "clip_threshold": 0.5})]
    assert [(e.step, e.detail["text"]) for e in log.events if e.kind == "note"] == [(64, "the clipping has settled")]
    assert any(record.scalars["clipped"] for record in log.records if record.step >= 50)
    assert not any(record.scalars["clipped"] for record in log.records if record.step < 50)


def test_a_lockstep_pauses_every_run_after_the_same_step():
    from gradscope.training.loop import Lockstep

    logs = [Log(), Log()]
    trainers = [Trainer(RunConfig(**{**FAST, "rho": rho, "init": "orthogonal"}), [log])
                for rho, log in zip((0.5, 1.5), logs)]
    loop = Lockstep(trainers)
    loop.pause_at(41)
    thread = threading.Thread(target=loop.run)
    thread.start()
    try:
        assert all(log.state_seen[RunState.PAUSED].wait(60) for log in logs)
        for log in logs:
            assert [record.step for record in log.records] == list(range(42))
        loop.change_settings(None, lr=0.01)              # checked against both runs, then scheduled
        loop.request_step()
        deadline = time.monotonic() + 30
        while any(len(log.records) < 43 for log in logs) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert [len(log.records) for log in logs] == [43, 43]
        assert all(log.records[-1].scalars["lr"] == 0.01 for log in logs)
    finally:
        loop.stop()
        thread.join(30)
        for trainer in trainers:
            trainer.close()


def test_a_pause_at_step_137_is_exact_live_through_the_lab(tmp_path):
    lab = LabModel(tmp_path, RunConfig(**FAST))
    try:
        lab.reset()                                   # a fresh run, paused before its first step
        assert lab.wait_until(lambda: lab.state == "paused" and bool(lab.slots), 120)
        lab.schedule(50, clip_mode="norm", clip_threshold=0.5)
        lab.run_to(137)
        assert lab.wait_until(lambda: lab.state == "paused" and lab.cursor == 137, 60), (lab.state, lab.cursor)
        time.sleep(0.5)
        lab.pump()
        history = lab.current
        assert lab.cursor == 137 and history.last_step == 137 and history.steps_seen == 138
        steps, thresholds = history.series("clip_threshold")
        assert all(thresholds[steps >= 50] == 0.5) and all(thresholds[steps < 50] == 1.0)
        assert [(e.step, dict(e.detail)) for e in history.markers] == [(50, {"clip_mode": "norm",
                                                                             "clip_threshold": 0.5})]
        path = lab.session_path
    finally:
        lab.close()
    from gradscope.session import open_session

    with open_session(path) as session:
        run = session.runs[0]
        assert list(run.steps) == list(range(138))      # none past 137, every one committed
        assert any(e.kind == "settings_changed" and e.step == 50 for e in run.events)


def test_weight_decay_a_live_setting_declared_in_one_place_reaches_the_update_rule_at_its_step():
    """The live setting added last: its field's declaration and the update rules that take it
    are all it needed; the CLI, the schedule, the records and the events follow."""
    from gradscope.cli import build_parser

    fork = build_parser()._subparsers._group_actions[0].choices["fork"]
    assert "--weight-decay" in {flag for action in fork._actions for flag in action.option_strings}
    log = Log()
    with Trainer(RunConfig(**{**FAST, "steps": 20, "optimizer": "momentum"}), [log]) as trainer:
        trainer.change_settings(12, weight_decay=0.1)
        trainer.run()
        assert all(group["weight_decay"] == 0.1 for group in trainer.optimizer.param_groups)
    assert [record.scalars["weight_decay"] for record in log.records] == [0.0] * 12 + [0.1] * 8
    assert [(e.step, dict(e.detail)) for e in log.events if e.kind == "settings_changed"] == [(12, {"weight_decay": 0.1})]
