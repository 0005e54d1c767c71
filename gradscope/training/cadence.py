"""The automatic probe cadence: probe as often as the cost budget allows.

Probes run on their own thread (probes/runner.py), so what they cost the training is not
their own time but how much they slow the training thread down while they run: on a machine
with a core to spare, only the interpreter lock and memory bandwidth they share. The cadence
measures exactly that, as running averages of the training step time with a probe in flight
(`busy`) and without one (`idle`). Probing every k steps keeps a probe in flight for a
fraction min(1, probe_time / (k * idle)) of the steps, each slowed by busy / idle - 1, so the
cadence takes the smallest k that keeps the total slowdown within `BUDGET`.

Until both step times are known it assumes the worst, that a probe stops training outright.
A fixed cadence (`probe_every` > 0) is kept exactly.
"""
from __future__ import annotations

import math

BUDGET = 0.15       # below the 1.25x goal, with margin for measurement noise
SMOOTHING = 0.2


def _average(previous: float | None, value: float) -> float:
    return value if previous is None else (1 - SMOOTHING) * previous + SMOOTHING * value


class AutoCadence:
    def __init__(self, fixed: int = 0, budget: float = BUDGET):
        self.fixed = fixed
        self.budget = budget
        self.idle_step: float | None = None
        self.busy_step: float | None = None
        self.probe_time: float | None = None
        self.every = fixed or 1

    @property
    def step_time(self) -> float | None:
        return self.idle_step if self.idle_step is not None else self.busy_step

    def observe_step(self, seconds: float, probing: bool = False) -> None:
        if probing:
            self.busy_step = _average(self.busy_step, seconds)
        else:
            self.idle_step = _average(self.idle_step, seconds)
        self._update()

    def observe_probe(self, seconds: float) -> None:
        self.probe_time = _average(self.probe_time, seconds)
        self._update()

    def slowdown(self) -> float:
        """How much slower a training step runs while a probe is in flight (0 = not at all)."""
        if self.idle_step is None or self.busy_step is None:
            return 1.0
        return max(0.0, self.busy_step / self.idle_step - 1.0)

    def _update(self) -> None:
        if self.fixed or self.probe_time is None or self.step_time is None:
            return
        needed = self.probe_time * self.slowdown() / (self.budget * self.step_time)
        self.every = max(1, math.ceil(needed))

    def due(self, step: int, last_probe: int | None) -> bool:
        return last_probe is None or step - last_probe >= self.every
