"""The automatic probe cadence: probe as often as the cost budget allows, measured.

Probes run on their own thread (probes/runner.py), so what they cost the training is not
their time but how much they slow the training thread down: on a machine with a core to
spare, the interpreter lock and the memory bandwidth they share. That is measured, not
modelled: from time to time the cadence holds probes back for a short idle window and
compares the time per step there with the time per step at the current cadence. When the
measured overhead is above `BUDGET` it probes less often, when it is well below, more often.

Nothing is measured until the first probe has come back (a probe process takes a few
seconds to start, and its imports would skew the timing). Before the first idle window it
guesses from the probe's own time, assuming a probe in flight slows training by
`FIRST_GUESS`. A fixed cadence (`probe_every` > 0) is kept exactly.
"""
from __future__ import annotations

import math

BUDGET = 0.15          # below the 1.25x goal, with margin for measurement noise
FIRST_GUESS = 0.2
WARMUP = 5             # steps after the first probe result that are not measured either
FIRST_IDLE_AT = 30     # steps after the first probe result of the first idle window
REMEASURE = 200        # steps between idle windows
IDLE_STEPS = 12


class AutoCadence:
    def __init__(self, fixed: int = 0, budget: float = BUDGET):
        self.fixed = fixed
        self.budget = budget
        self.every = fixed or 1
        self.probe_time: float | None = None
        self.step_time: float | None = None      # seconds per step with no probe in flight
        self.overhead: float | None = None       # last measured slowdown at the cadence in use
        self._steps = 0                          # steps measured since the first probe result
        self._next_idle = FIRST_IDLE_AT
        self._idle: list[float] = []
        self._normal: list[float] = []
        self._idle_window = False
        self._guessed = False

    def observe_step(self, seconds: float, probing: bool) -> None:
        """A whole step took `seconds` of wall time; `probing`: a probe was in flight."""
        if self.probe_time is None or self.fixed:
            return
        self._steps += 1
        if self._steps <= WARMUP:
            return
        if self._idle_window:
            if not probing:
                self._idle.append(seconds)
            if len(self._idle) >= IDLE_STEPS:
                self._finish_idle_window()
        else:
            self._normal.append(seconds)
            if self._steps >= self._next_idle:
                self._idle_window, self._idle = True, []

    def observe_probe(self, seconds: float) -> None:
        self.probe_time = seconds if self.probe_time is None else 0.7 * self.probe_time + 0.3 * seconds
        if not self.fixed and not self._guessed and len(self._normal) >= 5:
            step = sorted(self._normal)[len(self._normal) // 2]
            self.every = max(1, math.ceil(FIRST_GUESS * self.probe_time / (self.budget * step)))
            self._guessed = True

    def _finish_idle_window(self) -> None:
        idle = _trimmed_mean(self._idle)
        self.step_time = idle
        if self._normal:
            normal = _trimmed_mean(self._normal)
            measured = max(0.0, normal / idle - 1.0)
            # one short window is noisy on a shared machine: smooth over windows
            self.overhead = measured if self.overhead is None else 0.5 * (self.overhead + measured)
            # a probe longer than `every` steps spaces the probes by its own length: that is the
            # interval the measured overhead belongs to, and the one to scale
            interval = max(self.every, math.ceil((self.probe_time or 0.0) / idle))
            if self.overhead > self.budget:
                # at most double per window: one noisy window must not silence the probes
                self.every = min(2 * interval, math.ceil(interval * self.overhead / self.budget))
            elif self.overhead < self.budget / 2 and self.every > 1:
                target = interval * max(self.overhead, 1e-3) / (self.budget * 0.75)
                self.every = max(1, min(self.every - 1, math.floor(target)))
        self._idle_window, self._idle, self._normal = False, [], []
        self._next_idle = self._steps + REMEASURE

    def due(self, step: int, last_probe: int | None) -> bool:
        if last_probe is None:
            return True
        if self._idle_window:
            return False
        return step - last_probe >= self.every


def _trimmed_mean(seconds: list[float]) -> float:
    """Time per step: the mean is the throughput; dropping the slowest tenth keeps one pause
    of the machine (another process, a collection) from reading as probe overhead. Both
    windows use the same statistic, or a skewed distribution alone would look like overhead."""
    kept = sorted(seconds)[: max(1, len(seconds) - max(1, len(seconds) // 10))]
    return sum(kept) / len(kept)
