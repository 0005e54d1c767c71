"""Replay: a recorded run handed out again as `StepBlock`s, as if it were training.

The player reads a run's scalar series and the array series drawn over training once, when
it is made, and then cuts blocks of any step range out of memory: a seek hands the panels
every step up to the target in one block, playing hands them the next few steps at a time,
and both reach the panels through the same bridge as live records. The large per-probe
arrays (the gates, [T, H] each) are read from the file only for the probe on show.

Plain Python and numpy, no Qt; every read goes through the hardened session reader.
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Callable

import numpy as np

from gradscope.records import Event, StepBlock
from gradscope.series import lookup
from gradscope.session.errors import SessionError
from gradscope.session.run import Run

ARRAY_CACHE = 8      # probes whose full arrays are kept, for scrubbing back and forth


def _everything(name: str) -> bool:
    return True


def _check_rank(run: Run, name: str, rank: int, where: str) -> None:
    """A declared series whose arrays have another rank than its axes (a file that lies about
    its shapes) is refused before any of it reaches a panel; undeclared names are left alone."""
    spec = lookup(name)
    if spec is not None and spec.rank != rank:
        axes = " x ".join(spec.axes) or "a scalar"
        raise SessionError(run.path, f"run {run.id}: series {name!r}{where} has {rank} dimension(s); "
                                         f"it is declared as {axes}")


def _read_only(*arrays: np.ndarray) -> tuple[np.ndarray, ...]:
    """The arrays, made read-only: blocks cut out of them need no copies."""
    for array in arrays:
        array.setflags(write=False)
    return arrays


class RunPlayer:
    """One recorded run, ready to be cut into blocks. `scalars` and `arrays` choose which
    series are read up front (the panels' needs); `arrays_at` reads the rest on demand."""

    def __init__(self, run: Run, scalars: Callable[[str], bool] = _everything,
                 arrays: Callable[[str], bool] = _everything):
        self.run = run
        self.steps, self.wall_times = _read_only(run.steps, run.wall_times)
        if len(self.wall_times) != len(self.steps):
            raise SessionError(run.path, f"run {run.id}: steps and wall times disagree")
        names = run.series_names()
        self.scalars = {name: _read_only(*run.series_with_steps(name)) for name, (kind, _, _) in names.items()
                        if kind == "scalar" and scalars(name)}
        for name, (kind, _, shape) in names.items():
            _check_rank(run, name, len(shape), "")
        self.probes = {name: _read_only(*run.series_with_steps(name)) for name, (kind, _, _) in names.items()
                       if kind == "array" and arrays(name)}
        probed = [run.series_steps(name) for name, (kind, _, _) in names.items() if kind == "array"]
        self.probe_steps = np.unique(np.concatenate(probed)) if probed else np.empty(0, dtype=np.int64)
        self.events: list[Event] = run.events
        self._arrays: OrderedDict[int, dict] = OrderedDict()

    def __len__(self) -> int:
        return len(self.steps)

    @property
    def first_step(self) -> int:
        return int(self.steps[0]) if len(self.steps) else 0

    @property
    def last_step(self) -> int:
        return int(self.steps[-1]) if len(self.steps) else -1

    def position(self, step: int) -> int:
        """How many recorded steps lie at or before `step`."""
        return int(np.searchsorted(self.steps, step, side="right"))

    def block(self, start: int, stop: int) -> StepBlock:
        """The recorded steps at positions [start, stop), with the full arrays of the newest
        probe among them."""
        start, stop = max(0, start), min(len(self.steps), stop)
        steps = self.steps[start:stop]
        if not len(steps):
            return StepBlock(steps=steps, wall_times=steps.astype(np.float64), scalars={},
                             probe_steps=steps, probe_times=steps.astype(np.float64))
        first, last = steps[0], steps[-1]

        def cut(columns: dict) -> dict:
            out = {}
            for name, (where, values) in columns.items():
                lo, hi = np.searchsorted(where, first, "left"), np.searchsorted(where, last, "right")
                if hi > lo:
                    out[name] = (where[lo:hi], values[lo:hi])
            return out

        lo, hi = np.searchsorted(self.probe_steps, first, "left"), np.searchsorted(self.probe_steps, last, "right")
        probe_steps = self.probe_steps[lo:hi]
        probe_times = self.wall_times[np.searchsorted(self.steps, probe_steps)]
        latest_step = int(probe_steps[-1]) if len(probe_steps) else None
        return StepBlock(steps=steps, wall_times=self.wall_times[start:stop], scalars=cut(self.scalars),
                         probe_steps=probe_steps, probe_times=probe_times, probes=cut(self.probes),
                         latest=self.arrays_at(latest_step) if latest_step is not None else {},
                         latest_step=latest_step)

    def arrays_at(self, step: int) -> dict:
        """Every array recorded at a probed step (a few are kept for scrubbing)."""
        step = int(step)
        if step in self._arrays:
            self._arrays.move_to_end(step)
            return self._arrays[step]
        arrays = self.run.arrays_at(step)
        for name, values in arrays.items():
            _check_rank(self.run, name, np.ndim(values), f" at step {step}")
        self._arrays[step] = arrays
        while len(self._arrays) > ARRAY_CACHE:
            self._arrays.popitem(last=False)
        return arrays

    def events_between(self, after: int, upto: int) -> list[Event]:
        """Events at steps in (after, upto]."""
        return [event for event in self.events if after < event.step <= upto]


# torch's clip_grads_with_norm_ scales by threshold / (norm + 1e-6), never above 1
CLIP_EPSILON = 1e-6


class WhatIf:
    """What a norm-clipping threshold would have done to recorded steps, from their recorded
    pre-clip norms: which steps it clips, and the factor it scales their gradients by. Only
    those steps themselves: every later step would differ once one is clipped differently."""

    def __init__(self, steps: np.ndarray, grad_norm: np.ndarray, threshold: float):
        steps, grad_norm = np.asarray(steps), np.asarray(grad_norm, dtype=np.float64)
        self.threshold = float(threshold)
        self.total = int(np.isfinite(grad_norm).sum())
        with np.errstate(invalid="ignore"):
            fired = np.isfinite(grad_norm) & (grad_norm > self.threshold)
        self.steps = steps[fired]
        self.norms = grad_norm[fired]
        self.scales = np.minimum(1.0, self.threshold / (self.norms + CLIP_EPSILON))

    @property
    def count(self) -> int:
        return len(self.steps)

    @property
    def fraction(self) -> float:
        return self.count / self.total if self.total else 0.0

    def describe(self) -> str:
        if not self.total:
            return "no recorded gradient norms to test the threshold on"
        text = (f"at {self.threshold:.3g} clipping would fire on {self.count:,} of {self.total:,} recorded steps "
                f"({self.fraction:.0%})")
        if self.count:
            text += (f", scaling their gradients by {float(np.mean(self.scales)):.2g} on average "
                     f"(down to {float(np.min(self.scales)):.2g})")
        return text
