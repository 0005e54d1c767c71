"""What the trainer tests share: a callback that logs every hook call (Lightning-style, so
tests can assert their order), a small configuration, and a train-to-the-end helper."""
from __future__ import annotations

import threading

import numpy as np

from gradscope.config import RunConfig
from gradscope.records import RunState
from gradscope.training import Callback, Trainer


class Log(Callback):
    """Logs every hook call, Lightning-style, so tests can assert their order."""

    def __init__(self):
        self.calls = []
        self.records = []
        self.events = []
        self.checkpoints = []
        self.states = []
        self.state_seen = {state: threading.Event() for state in RunState}

    def on_run_start(self, trainer):
        self.calls.append(("run_start",))

    def on_step_end(self, trainer, record):
        self.calls.append(("step", record.step))
        self.records.append(record)

    def on_event(self, trainer, event):
        self.calls.append(("event", event.kind, event.step))
        self.events.append(event)

    def on_checkpoint(self, trainer, checkpoint):
        self.calls.append(("checkpoint", checkpoint.step))
        self.checkpoints.append(checkpoint)

    def on_state_changed(self, trainer, state):
        self.calls.append(("state", state.value))
        self.states.append(state)
        self.state_seen[state].set()

    def on_run_end(self, trainer):
        self.calls.append(("run_end",))


def small(**changes) -> RunConfig:
    settings = dict(arch="rnn", task="adding", seq_len=8, hidden=6, batch=4, steps=6, checkpoint_every=3,
                    probe_every=2)
    settings.update(changes)
    return RunConfig(**settings)


def train(config, *callbacks):
    log = Log()
    trainer = Trainer(config, [log, *callbacks])
    try:
        state = trainer.run()
    finally:
        trainer.close()
    return trainer, log, state


def assert_same_records(run, records) -> None:
    """Each live record equals the recorded run's record of its step: scalars, and arrays bit
    for bit (a replay, or a fork that reproduces its parent)."""
    for record in records:
        original = run.record(record.step)
        assert dict(record.scalars) == dict(original.scalars), record.step
        assert set(record.arrays) == set(original.arrays), record.step
        for name, array in record.arrays.items():
            np.testing.assert_array_equal(array, original.arrays[name], err_msg=f"{name} at step {record.step}")
