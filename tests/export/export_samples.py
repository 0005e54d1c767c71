"""A session built for the export tests: every kind of series export meets, NaN and inf included.

A uniquely named module rather than conftest, so that `import` cannot pick up another test
folder's conftest.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from gradscope.config import RunConfig
from gradscope.records import RunState, StepRecord
from gradscope.session import SessionWriter

T, H = 5, 4
STEPS = 20
PROBE_EVERY = 3


def make_record(step: int) -> StepRecord:
    rng = np.random.default_rng(step)
    scalars = {"loss": float(rng.random()) / 3.0, "grad_norm": float(rng.standard_normal()) * 1e-7,
               "grad_norm_clipped": 1.0 / 3.0 + step, "clipped": float(step % 2), "lr": 1e-3,
               "clip_threshold": 1.0, "param_grad_norm/rnn.weight_hh_l0": float(rng.random()),
               "zeta": float(step)}
    if step % 5 == 1:
        scalars["grad_norm"] = float("inf")
    if step % 5 == 2:
        scalars["loss"] = float("nan")
    if step % 5 == 3:
        scalars["grad_norm"] = float("-inf")
    if step % 7 != 4:   # a metric that is missing on some steps, as after a non-finite loss
        scalars["metric/accuracy"] = float(rng.random())
    arrays = {}
    if step % PROBE_EVERY == 0:
        hidden = rng.standard_normal(T).astype(np.float32)
        hidden[step % T] = np.inf if step % 2 else np.nan
        arrays = {
            "hidden_grad_norm": hidden,
            "hidden_grad_norm/layer0": rng.random(T).astype(np.float32),
            "jacobian_norm": rng.random(T),                                    # float64
            "step_jacobian_norm": rng.random(T).astype(np.float32),
            "gate_saturation/forget": rng.random(T).astype(np.float32),
            "gates/forget": rng.random((T, H)).astype(np.float32),             # 2-D: NPZ only
            "sample/text": np.array([ord(c) for c in "héllo"], dtype=np.int32),  # NPZ only
            "alive": rng.random(3) > 0.5,                                      # bool [3]
            "count": np.array(step, dtype=np.int64),                           # 0-d
        }
    return StepRecord(step=step, scalars=scalars, arrays=arrays, wall_time=1000.0 + step)


def write_sample(path: Path, steps: int = STEPS) -> list[StepRecord]:
    """One run (id 1) of `steps` records; returns them."""
    records = [make_record(step) for step in range(steps)]
    with SessionWriter(path) as writer:
        run_id = writer.start_run(RunConfig(hidden=H, seq_len=T, probe_every=PROBE_EVERY),
                                  {"x": np.zeros((2, T, 1), dtype=np.float32)})
        for record in records:
            writer.add_step(run_id, record)
        writer.set_state(run_id, RunState.FINISHED)
    return records
