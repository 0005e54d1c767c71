"""Builders for the session tests: deterministic records and checkpoints, and a sample file.

A uniquely named module rather than conftest, so that `import` cannot pick up another
test folder's conftest.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from gradscope.config import RunConfig
from gradscope.records import Checkpoint, Event, EventKind, RunState, StepRecord
from gradscope.session import SessionWriter


def make_record(step: int, *, probed: bool) -> StepRecord:
    """A record whose every value is a known function of `step`, with NaN/inf on some steps."""
    rng = np.random.default_rng(step)
    scalars = {"loss": 1.0 / (step + 1), "grad_norm": float(step) * 0.5,
               "clipped": float(step % 3 == 0), "param_grad_norm/rnn.weight_hh_l0": rng.random()}
    if step % 4 == 1:
        scalars["grad_norm"] = float("inf")
    if step % 4 == 2:
        scalars["loss"] = float("nan")
    arrays = {}
    if probed:
        hidden = rng.standard_normal(5).astype(np.float32)
        hidden[step % 5] = np.inf if step % 2 else np.nan
        arrays = {
            "hidden_grad_norm": hidden,
            "gates/forget": rng.random((5, 8)).astype(np.float32),
            "layer_grad_norm": rng.random(3),                                   # float64 [L]
            "conv/filters": rng.standard_normal((4, 2, 3, 3)).astype(np.float32),  # [C_out, C_in, k, k]
            "tokens": rng.integers(0, 100, size=(2, 3)).astype(np.int32),
            "mask": rng.random(6) > 0.5,
            "pixels": rng.integers(0, 255, size=(1, 4, 4)).astype(np.uint8),
            "count": np.array(step, dtype=np.int64),                            # 0-d
            "empty": np.zeros((0, 3), dtype=np.float32),
        }
    return StepRecord(step=step, scalars=scalars, arrays=arrays, wall_time=1000.0 + step)


def make_checkpoint(step: int) -> Checkpoint:
    rng = np.random.default_rng(10_000 + step)
    weights = {"rnn.weight_ih_l0": rng.standard_normal((8, 1)).astype(np.float32),
               "rnn.weight_hh_l0": rng.standard_normal((8, 8)).astype(np.float32),
               "rnn.bias_ih_l0": rng.standard_normal(8).astype(np.float32),
               "rnn.bias_hh_l0": rng.standard_normal(8).astype(np.float32)}
    optimizer = {"state/0/exp_avg": rng.standard_normal((8, 1)).astype(np.float32),
                 "state/0/step": np.array(float(step), dtype=np.float32)}
    return Checkpoint(step=step, weights=weights, optimizer=optimizer)


PROBE_BATCH = {"x": np.arange(4 * 5 * 1, dtype=np.float32).reshape(4, 5, 1),
               "y": np.array([1, 0, 1, 1], dtype=np.int64)}


def write_sample(path: Path, *, steps: int = 12, probe_every: int = 3) -> dict:
    """A two-run session (the second forked from the first); returns what was written."""
    written = {"records": {}, "checkpoints": {}, "events": {}}
    configs = [RunConfig(hidden=8, seq_len=5, probe_every=probe_every, checkpoint_every=5),
               RunConfig(arch="lstm", hidden=8, seq_len=5, clip_mode="norm", clip_threshold=0.5)]
    with SessionWriter(path) as writer:
        for index, config in enumerate(configs):
            parent = None if index == 0 else (0, 5)
            run_id = writer.start_run(config, PROBE_BATCH, parent=parent)
            events = [Event(0, EventKind.RUN_STARTED), Event(4, EventKind.SETTINGS_CHANGED, {"lr": 0.01})]
            records = [make_record(step, probed=step % probe_every == 0) for step in range(steps)]
            checkpoints = [make_checkpoint(step) for step in range(0, steps, 5)]
            for record in records:
                writer.add_step(run_id, record)
            for event in events:
                writer.add_event(run_id, event)
            for checkpoint in checkpoints:
                writer.add_checkpoint(run_id, checkpoint)
            writer.set_state(run_id, RunState.FINISHED if index == 0 else RunState.DIVERGED)
            written["records"][run_id] = records
            written["checkpoints"][run_id] = checkpoints
            written["events"][run_id] = events
    written["configs"] = configs
    return written
