"""Synthetic records for `gradscope bench --gui` and `--replay`: realistic shapes and values
without training, so the window's drawing costs can be measured on a long history at once;
`write_session` records them to a session file with the engine's own writer."""
from __future__ import annotations

import math
import os
import time

import numpy as np

from gradscope.series import GATES


class SyntheticRun:
    """Records shaped like an LSTM H=64 run of the adding task at T=200, probed every 5th
    step: what the training process sends, without training. The arrays come from a small
    pool of realistic probes; every record copies its own (StepRecord freezes a copy)."""

    def __init__(self, length: int = 200, hidden: int = 64, probe_every: int = 5, seed: int = 0):
        from gradscope.config import RunConfig

        self.length, self.hidden, self.probe_every = length, hidden, probe_every
        self.config = RunConfig(arch="lstm", hidden=hidden, seq_len=length, task="adding", steps=1_000_000,
                                clip_mode="norm", clip_threshold=1.0)
        rng = np.random.default_rng(seed)
        self.pool = [self._probe(rng) for _ in range(8)]
        self.noise = rng.standard_normal(4096)
        self.t0 = time.time()

    def slot(self, index: int = 0, label: str = ""):
        """An empty run slot for these records, as the lab puts one on show."""
        from gradscope.lab.history import RunHistory
        from gradscope.lab.slots import RunSlot

        return RunSlot(index, self.config, RunHistory(self.config), label=label, device="cpu")

    def _probe(self, rng) -> dict[str, np.ndarray]:
        length, hidden = self.length, self.hidden
        step_norm = np.exp(rng.normal(math.log(0.97), 0.04, length))
        jacobian = np.exp(np.cumsum(np.log(step_norm[::-1]))[::-1] - math.log(step_norm[-1]))
        hidden_grad = 0.05 * jacobian * np.exp(rng.normal(0, 0.15, length))
        forget = 1 / (1 + np.exp(-rng.normal(1.5, 1.2, (length, hidden))))
        cell = np.exp(np.cumsum(np.log(forget.mean(1))[::-1])[::-1] - np.log(forget.mean(1)[-1]))
        arrays = {"hidden_grad_norm": hidden_grad, "jacobian_norm": jacobian,
                  "step_jacobian_norm": step_norm, "cell_jacobian_norm": np.minimum(cell, 1.0)}
        for gate in GATES["lstm"]:
            if gate == "forget":
                values = forget
            elif gate == "candidate":
                values = np.tanh(rng.normal(0, 1.0, (length, hidden)))
            else:
                values = 1 / (1 + np.exp(-rng.normal(0, 1.5, (length, hidden))))
            arrays[f"gates/{gate}"] = values.astype(np.float32)
            low, high = (-0.95, 0.95) if gate == "candidate" else (0.05, 0.95)
            arrays[f"gate_saturation/{gate}"] = ((values < low) | (values > high)).mean(1)
        return arrays

    def record(self, step: int):
        from gradscope.records import StepRecord

        noise = self.noise
        k = step % noise.size
        grad_norm = 0.6 * math.exp(0.6 * noise[k])
        loss = 0.17 * math.exp(-step / 30_000) + 0.01 * abs(noise[k - 1])
        scalars = {
            "loss": loss, "grad_norm": grad_norm, "grad_norm_clipped": min(grad_norm, 1.0),
            "clipped": float(grad_norm > 1.0), "lr": 1e-3, "clip_threshold": 1.0,
            "metric/mse": loss, "metric/baseline_mse": 0.17 + 0.01 * noise[k - 2],
            "metric/accuracy": min(1.0, max(0.0, 0.1 + step / 50_000 + 0.05 * noise[k - 3])),
        }
        for name in ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0", "head.weight", "head.bias"):
            scalars[f"param_grad_norm/{name}"] = 0.3 * grad_norm
        arrays = {}
        if step % self.probe_every == 0:
            arrays = self.pool[(step // self.probe_every) % len(self.pool)]
            for index, letter in enumerate("ifgo"):
                scalars[f"spectral_radius/W_h{letter}"] = 0.9 + 0.02 * index + 1e-6 * step
                scalars[f"max_singular_value/W_h{letter}"] = 1.1 + 0.02 * index + 1e-6 * step
        return StepRecord(step=step, scalars=scalars, arrays=arrays, wall_time=self.t0 + 0.004 * step)

    def feed(self, run, first: int, last: int, batch: int = 50) -> None:
        """Steps [first, last) into `run` (a RunHistory), in batches as the lab hands them over."""
        for start in range(first, last, batch):
            run.add_records([self.record(step) for step in range(start, min(start + batch, last))])


def write_session(path, steps: int, *, runs: int = 1, length: int = 200, hidden: int = 64, probe_every: int = 20,
                  threshold_change: bool = False) -> int:
    """A session of `runs` synthetic runs (run i from seed i) of `steps` steps each, optionally
    with a threshold-change event half way; returns the file's size in bytes."""
    from gradscope.records import Event
    from gradscope.session import SessionWriter

    with SessionWriter(path) as writer:
        for seed in range(runs):
            source = SyntheticRun(length=length, hidden=hidden, probe_every=probe_every, seed=seed)
            run_id = writer.start_run(source.config)
            for step in range(steps):
                writer.add_step(run_id, source.record(step))
                if threshold_change and step == steps // 2:
                    writer.add_event(run_id, Event(step, "settings_changed", {"clip_threshold": 0.5}))
            writer.set_state(run_id, "finished")
    return os.path.getsize(path)


# -- refresh and memory ------------------------------------------------------------------------------
