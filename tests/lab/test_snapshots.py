"""The snapshots a run keeps of its first conv layer's filters over training: at most the
store's capacity, the first probe and then every stride-th, and a live run's history keeps
the same ones as a replay of its recording would (both take probes in through `add_block`)."""
from __future__ import annotations

import numpy as np

from gradscope.config import RunConfig
from gradscope.lab.history import RunHistory
from gradscope.lab.snapshots import Snapshots
from gradscope.records import StepBlock, StepRecord


def test_the_kept_probes_are_spread_evenly_whatever_the_run_length():
    for probes in (1, 5, 16, 17, 100, 1000):
        store = Snapshots(capacity=16)
        for step in range(0, 10 * probes, 10):
            store.offer(step, np.full((2, 1, 3, 3), step))
        assert 1 <= len(store) <= 16
        assert store.steps == list(range(0, 10 * probes, 10 * store.stride))[:len(store)]
        assert [int(array.flat[0]) for array in store.arrays] == store.steps
        shown = store.spread(6)
        assert len(shown) == min(6, len(store))
        assert shown[0][0] == 0 and shown[-1][0] == store.steps[-1]


def test_the_history_keeps_the_first_layers_filters_from_every_block():
    history = RunHistory(RunConfig(arch="cnn", task="digits"))
    records = [StepRecord(step=step, wall_time=float(step), scalars={"loss": 1.0},
                          arrays={"filters/layer0": np.full((4, 1, 3, 3), step, dtype=np.float32),
                                  "filters/layer1": np.zeros((4, 4, 3, 3), dtype=np.float32)} if step % 5 == 0
                          else {})
               for step in range(40)]
    for start in range(0, 40, 7):                       # blocks of any size, as a live run's come
        history.add_block(StepBlock.from_records(records[start:start + 7]))
    kept = history.snapshots["filters/layer0"]
    assert kept.steps == list(range(0, 40, 5))
    assert "filters/layer1" not in history.snapshots
