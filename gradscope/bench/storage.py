"""Session storage: the cost of recording a step, and of loading a long series back."""
from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np

from gradscope.config import RunConfig
from gradscope.records import StepRecord
from gradscope.session import SessionWriter, open_session


def _scalars(step: int) -> dict[str, float]:
    names = ["loss", "grad_norm", "grad_norm_clipped", "clipped", "lr", "clip_threshold", "metric/mse",
             "metric/baseline_mse", "metric/accuracy"] + [f"param_grad_norm/p{k}" for k in range(6)]
    return {name: float(np.sin(step + index)) for index, name in enumerate(names)}


def _arrays(rng: np.random.Generator, length: int, hidden: int) -> dict[str, np.ndarray]:
    arrays = {name: rng.random(length) for name in ("hidden_grad_norm", "jacobian_norm", "step_jacobian_norm",
                                                    "cell_jacobian_norm")}
    for gate in ("input", "forget", "candidate", "output"):
        arrays[f"gates/{gate}"] = rng.random((length, hidden), dtype=np.float32)
        arrays[f"gate_saturation/{gate}"] = rng.random(length)
    return arrays


def measure(quick: bool, say) -> dict:
    length, hidden = 200, 128
    plain_steps, probed_steps, load_steps = (200, 20, 1000) if quick else (3000, 300, 10_000)
    rng = np.random.default_rng(0)
    config = RunConfig(arch="lstm", hidden=hidden, seq_len=length)
    with tempfile.TemporaryDirectory() as folder:
        say("bench: recording cost ...")
        path = Path(folder) / "record.gscope"
        arrays = _arrays(rng, length, hidden)
        with SessionWriter(path) as writer:
            run = writer.start_run(config, {})
            began = time.perf_counter()
            for step in range(plain_steps):
                writer.add_step(run, StepRecord(step=step, scalars=_scalars(step)))
            plain = (time.perf_counter() - began) / plain_steps
            began = time.perf_counter()
            for step in range(plain_steps, plain_steps + probed_steps):
                writer.add_step(run, StepRecord(step=step, scalars=_scalars(step), arrays=arrays))
            probed = (time.perf_counter() - began) / probed_steps
        say(f"bench: loading {load_steps} steps of hidden_grad_norm ...")
        path = Path(folder) / "load.gscope"
        with SessionWriter(path) as writer:
            run = writer.start_run(config, {})
            for step in range(load_steps):
                writer.add_step(run, StepRecord(step=step, scalars=_scalars(step), arrays={
                    "hidden_grad_norm": rng.random(length), "jacobian_norm": rng.random(length)}))
        began = time.perf_counter()
        with open_session(path) as session:
            series = session.runs[0].series("hidden_grad_norm")
        load = time.perf_counter() - began
        assert series.shape == (load_steps, length)
    scale = 10_000 / load_steps
    return {
        "record_ms_per_step": round(1000 * plain, 3),
        "record_probed_ms_per_step": round(1000 * probed, 3),
        "load_10k_s": round(load * scale, 4),
        "load_steps_measured": load_steps,
    }
