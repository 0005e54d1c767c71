"""The automatic probe cadence: probe as often as the cost budget allows, measured.

Probes run on their own thread (probes/runner.py), so what they cost the training is not
their time but how much they slow the training thread down: on a machine with a core to
spare, the interpreter lock and the memory bandwidth they share. That is measured, not
modelled: from time to time the cadence holds probes back for a short idle window and
compares the time per step there with the time per step at the current cadence. When the
measured overhead is above `BUDGET` it probes less often, when it is below, more often.

Nothing is measured until the first probe has come back (a probe process takes a few
seconds to start, and its imports would skew the timing). Before the first idle window it
guesses from the probe's own time, assuming a probe in flight slows training by
`FIRST_GUESS`. A fixed cadence (`probe_every` > 0) is kept exactly.
"""
from __future__ import annotations

import math

BUDGET = 0.18          # below the 1.25x goal, with margin for measurement noise
FIRST_GUESS = 0.2
WARMUP = 5             # steps after the first probe result that are not measured either
FIRST_IDLE_AT = 30     # steps after the first probe result of the first idle window
REMEASURE = 200        # steps between idle windows ...
NORMAL_SECONDS = 2.0   # ... and at least this long, so that a fast model's window is not noise
IDLE_STEPS = 16        # an idle window: at least this many steps ...
IDLE_SECONDS = 1.0     # ... and at least this long


class AutoCadence:
    def __init__(self, fixed: int = 0, budget: float = BUDGET):
        self.fixed = fixed
        self.budget = budget
        self.every = fixed or 1
        self.probe_time: float | None = None
        self.step_time: float | None = None      # seconds per step with no probe in flight
        self.overhead: float | None = None       # last measured slowdown at the cadence in use
        self.probe_cost: float | None = None     # what one probe costs training, in steps
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
            if len(self._idle) >= IDLE_STEPS and sum(self._idle) >= IDLE_SECONDS:
                self._finish_idle_window()
        else:
            self._normal.append(seconds)
            if self._steps >= self._next_idle and sum(self._normal) >= NORMAL_SECONDS:
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
            self.overhead = max(0.0, normal / idle - 1.0)
            # a probe longer than `every` steps spaces the probes by its own length: that is the
            # interval the measured overhead belongs to
            interval = max(self.every, math.ceil((self.probe_time or 0.0) / idle))
            # the overhead falls as 1 / interval, so overhead * interval is what one probe costs
            # (in steps), whatever the cadence; smoothed over windows, as one short window is
            # noisy on a shared machine
            cost = self.overhead * interval
            self.probe_cost = cost if self.probe_cost is None else 0.5 * (self.probe_cost + cost)
            target = math.ceil(self.probe_cost / self.budget)
            # at most halve or double per window: one noisy window neither silences nor floods
            self.every = max(1, min(2 * interval, max(math.ceil(interval / 2), target)))
        self._idle_window, self._idle, self._normal = False, [], []
        self._next_idle = self._steps + REMEASURE

    def due(self, step: int, last_probe: int | None) -> bool:
        if last_probe is None:
            return True
        if self._idle_window:
            return False
        return step - last_probe >= self.every


def _trimmed_mean(seconds: list[float]) -> float:
    """Time per step: the mean is the throughput. Steps over five times the median are
    dropped, so one pause of the machine (another process, a collection) does not read as
    probe overhead; a probe slows a step far less than that, so its cost stays counted. Both
    windows use the same statistic."""
    median = sorted(seconds)[len(seconds) // 2]
    kept = [value for value in seconds if value <= 5 * median]
    return sum(kept) / len(kept)
