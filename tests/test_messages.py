"""The messages between the lab and its training process are frozen dataclasses that cross a
process boundary whole (pickled, as multiprocessing sends them)."""
from __future__ import annotations

import dataclasses
import pickle

import numpy as np
import pytest

from gradscope import messages
from gradscope.config import RunConfig
from gradscope.records import Event, StepRecord


def examples():
    record = StepRecord(3, {"loss": 0.5}, {"hidden_grad_norm": np.arange(4.0)}, wall_time=1.0)
    event = Event(3, "settings_changed", {"lr": 0.01}, 1.0)
    return [
        messages.StartRuns((RunConfig(), RunConfig(arch="lstm")), False, ("arch",), token=4),
        messages.ForkRun("s.gscope", 0, 250, {"clip_threshold": 0.5}, None, True, token=5),
        messages.Resume(), messages.Pause(), messages.StepOnce(), messages.Stop(), messages.Quit(),
        messages.ChangeSettings({"lr": 0.01}, 50, (0,)), messages.PauseAt(137), messages.RunTo(300),
        messages.NoteAt(10, "look"),
        messages.UseSession("other.gscope"),
        messages.Ready(12, "s.gscope", False),
        messages.RunStarted(1, RunConfig(), 0, "cpu", "", (0, 250), "s.gscope", 5, 0),
        messages.Records(1, (record,), (event,), ("running",)),
        messages.RunEnded(1, "finished"), messages.RunFailed(None, "Traceback ..."), messages.Refused("no", 4),
        messages.Crashed(-9),
    ]


def test_every_kind_is_a_frozen_dataclass_and_has_an_example():
    kinds = {type(message) for message in examples()}
    assert kinds == set(messages.COMMANDS) | set(messages.REPORTS)
    for kind in kinds:
        assert dataclasses.is_dataclass(kind) and kind.__dataclass_params__.frozen


@pytest.mark.parametrize("message", examples(), ids=lambda m: type(m).__name__)
def test_a_message_survives_pickling_whole(message):
    copy = pickle.loads(pickle.dumps(message))
    assert type(copy) is type(message)
    if isinstance(message, messages.Records):
        record, original = copy.records[0], message.records[0]
        assert record.step == original.step and dict(record.scalars) == dict(original.scalars)
        np.testing.assert_array_equal(record.arrays["hidden_grad_norm"], original.arrays["hidden_grad_norm"])
        assert not record.arrays["hidden_grad_norm"].flags.writeable
        assert copy.events[0].detail == {"lr": 0.01} and copy.states == ("running",)
    else:
        assert copy == message
