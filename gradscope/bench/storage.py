"""Session storage: the cost of recording a step, and of loading a long series back."""
from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np

from gradscope.config import RunConfig
from gradscope.records import StepRecord
from gradscope.series import (CELL_JACOBIAN_NORM, GATE, GATE_SATURATION, GATES, HIDDEN_GRAD_NORM, JACOBIAN_NORM,
                              METRIC, PARAM_GRAD_NORM, SERIES, STEP_JACOBIAN_NORM)
from gradscope.session import SessionWriter, open_session


def _scalars(step: int) -> dict[str, float]:
    """What an LSTM's step records every step (the registry's every-step scalars)."""
    names = [spec.name() for spec in SERIES.values() if spec.every_step and "{" not in spec.pattern]
    names += [METRIC.name(metric=m) for m in ("mse", "baseline_mse", "accuracy")]
    names += [PARAM_GRAD_NORM.name(param=f"p{k}") for k in range(6)]
    return {name: float(np.sin(step + index)) for index, name in enumerate(names)}


def _arrays(rng: np.random.Generator, length: int, hidden: int) -> dict[str, np.ndarray]:
    arrays = {spec.name(): rng.random(length) for spec in (HIDDEN_GRAD_NORM, JACOBIAN_NORM, STEP_JACOBIAN_NORM,
                                                            CELL_JACOBIAN_NORM)}
    for gate in GATES["lstm"]:
        arrays[GATE.name(gate=gate)] = rng.random((length, hidden), dtype=np.float32)
        arrays[GATE_SATURATION.name(gate=gate)] = rng.random(length)
    return arrays


def _room_cost(folder: Path, steps: int) -> tuple[float, float]:
    """Seconds per committed step with the writer keeping room past its log (write_failure.py)
    and without, in alternating rounds so the machine's swings hit both alike (medians)."""
    config = RunConfig(hidden=32, seq_len=50)
    times: dict[bool, list[float]] = {True: [], False: []}
    for round_ in range(6):
        keep = round_ % 2 == 0
        with SessionWriter(folder / f"room{round_}.gscope", commit_interval=0.0) as writer:
            if not keep:
                writer._room.keep = lambda: None      # the bare writer: SQLite's commit alone
            run = writer.start_run(config, {})
            began = time.perf_counter()
            for step in range(steps):
                writer.add_step(run, StepRecord(step=step, scalars=_scalars(step)))
            times[keep].append((time.perf_counter() - began) / steps)
    return float(np.median(times[True])), float(np.median(times[False]))


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
        say("bench: the cost of keeping room for a failure note past the log ...")
        kept, bare = _room_cost(Path(folder), 60 if quick else 400)
    scale = 10_000 / load_steps
    return {
        "commit_ms_keeping_room": round(1000 * kept, 3),
        "commit_ms_bare": round(1000 * bare, 3),
        "room_cost_ratio": round(kept / bare, 3),
        "record_ms_per_step": round(1000 * plain, 3),
        "record_probed_ms_per_step": round(1000 * probed, 3),
        "load_10k_s": round(load * scale, 4),
        "load_steps_measured": load_steps,
    }
