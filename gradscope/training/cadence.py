"""The automatic probe cadence: probe as often as the cost budget allows.

Probes run on their own thread (see probes/runner.py). On a machine with a core to spare
they cost the training thread only the interpreter lock the probe thread holds while it
dispatches its many small tensor ops, so the automatic cadence probes whenever the probe
thread is free, spaced out only as far as that shared cost needs: with a step costing
`step_time` and a probe `probe_time` of which a fraction `LOCK_SHARE` is spent under the
lock, probing every k steps slows training by about LOCK_SHARE * probe_time / (k * step_time);
the cadence keeps that at `BUDGET`. On a single core the whole probe time counts.

A fixed cadence (`probe_every` > 0) is kept exactly.
"""
from __future__ import annotations

import math
import os

BUDGET = 0.15
LOCK_SHARE = 0.35
SMOOTHING = 0.3


class AutoCadence:
    def __init__(self, fixed: int = 0, budget: float = BUDGET, cores: int | None = None):
        self.fixed = fixed
        self.budget = budget
        self.share = LOCK_SHARE if (cores or os.cpu_count() or 1) >= 2 else 1.0
        self.step_time: float | None = None
        self.probe_time: float | None = None
        self.every = fixed or 1

    def observe_step(self, seconds: float) -> None:
        self.step_time = seconds if self.step_time is None else (
            (1 - SMOOTHING) * self.step_time + SMOOTHING * seconds)

    def observe_probe(self, seconds: float) -> None:
        self.probe_time = seconds if self.probe_time is None else (
            (1 - SMOOTHING) * self.probe_time + SMOOTHING * seconds)
        if not self.fixed and self.step_time:
            self.every = max(1, math.ceil(self.share * self.probe_time / (self.budget * self.step_time)))

    def due(self, step: int, last_probe: int | None) -> bool:
        return last_probe is None or step - last_probe >= self.every
