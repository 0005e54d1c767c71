"""What the panels draw of one run: its history, kept in numpy arrays of bounded size.

The history is decimated for drawing, never the session file (the arrays: `gradscope.lab.envelope`):
a series over training steps is a min/max envelope in at most `SERIES_CAPACITY` buckets, about
two per pixel of a wide plot, whose buckets double in width each time it fills. A 100,000-step
run costs the same memory as a 2,000-step one, and a frame draws at most twice that many
points per curve whatever the length of the run. The heatmap of log10 `hidden_grad_norm` is
kept in log space as rows arrive (taking log10 of the whole image each frame would cost more
than drawing it).

Plain numpy, no Qt: live records and a replay's blocks fill it the same way (`add_block`).
"""
from __future__ import annotations

import collections
import warnings
from typing import Iterable

import numpy as np

from gradscope.config import RunConfig
from gradscope.lab.envelope import Heatmap, Series
from gradscope.lab.snapshots import Snapshots
from gradscope.records import Event, EventKind, StepBlock, StepRecord
from gradscope.series import (CLIPPED, GATES, GRAD_NORM, HIDDEN_GRAD_NORM, LAYER_GRAD_NORM, PARAM_GRAD_NORM,
                              SNAPSHOTTED, drawn_over_training)

CLIP_RATE_WINDOW = 100
RATE_WINDOW_SECONDS = 3.0
MARKED_EVENTS = (EventKind.SETTINGS_CHANGED.value, EventKind.NOTE.value, EventKind.DIVERGED.value,
                 EventKind.WRITE_FAILED.value, EventKind.INTERRUPTED.value)
KEPT_EVENTS = 1000
HEATMAPPED = (HIDDEN_GRAD_NORM.name(), LAYER_GRAD_NORM.name())     # profiles drawn over training as heatmaps


def drawn_scalar(name: str) -> bool:
    """The scalars the history keeps: not the per-parameter norms (the file keeps those), and
    not the 0/1 `clipped` flag, which reaches the panels as clip markers and the clip rate."""
    return not name.startswith(PARAM_GRAD_NORM.pattern.split("{")[0]) and name != CLIPPED.name()


def _recent(times: np.ndarray) -> np.ndarray:
    return times[times >= times[-1] - RATE_WINDOW_SECONDS] if len(times) else times


class RunHistory:
    """One run as the panels see it. `extent`: the steps a recording spans, so that a
    replay's step axes hold still while it is scrubbed (None live: they grow with the run)."""

    def __init__(self, config: RunConfig, run_id: int | None = None, extent: tuple[int, int] | None = None,
                 state: str = "running"):
        self.config = config
        self.run_id = run_id
        self.arch, self.task = config.arch, config.task
        self.gates = GATES.get(self.arch, ())
        self.extent = None if extent is None else (float(extent[0]), max(float(extent[1]), float(extent[0]) + 1.0))
        self.scalars: dict[str, Series] = {}
        self.probed: dict[str, Series] = {}         # per-probe summaries over training
        self.latest: dict[str, np.ndarray] = {}     # the newest probe's arrays
        self.latest_step: int | None = None
        # the profiles drawn as heatmaps over training: through time, and through depth
        self.heatmaps = {name: Heatmap() for name in HEATMAPPED}
        # arrays kept at a few probes over training: the first conv layer's filters as they form
        self.snapshots = {name: Snapshots() for name in SNAPSHOTTED}
        self.clip_steps = Series()                  # steps where clipping fired, at grad_norm
        self.clip_rates = Series()                  # the rolling clip rate at every step
        self.markers: list[Event] = []              # setting changes, notes, divergence: for the time axes
        self.events: list[Event] = []
        self.state = state
        self.last_step = -1
        self.steps_seen = 0
        self.probes_seen = 0
        self._recent_clipped: collections.deque = collections.deque(maxlen=CLIP_RATE_WINDOW)
        self._clipped_in_window = 0
        self._step_times: collections.deque = collections.deque()
        self._probe_times: collections.deque = collections.deque()
        self.diverged: Event | None = None
        self.generation = 0                          # bumped on every change, for redraws

    @property
    def key(self) -> tuple:
        """Which run this is: a replay's seek makes a new history of the same run."""
        return self.run_id, self.config

    @property
    def label(self) -> str:
        from gradscope.families import family_of

        number = "" if self.run_id is None else f"run {self.run_id}: "
        return number + family_of(self.arch).describe(self.config)

    def add_records(self, records: Iterable[StepRecord]) -> None:
        """Live records go in as one block: the same path a replay takes."""
        records = list(records)
        if records:
            self.add_block(StepBlock.from_records(records))

    def add_block(self, block: StepBlock) -> None:
        """Take in consecutive steps (live or replayed), in step order after those held."""
        if not len(block):
            return
        for name, (steps, values) in block.scalars.items():
            if not drawn_scalar(name):
                continue
            series = self.scalars.get(name)
            if series is None:
                series = self.scalars[name] = Series()
            series.extend(steps, values)
        self._add_clipping(block)
        for name, (steps, values) in block.probes.items():
            if name in self.snapshots:
                for step, value in zip(steps, values):
                    self.snapshots[name].offer(step, value)
            elif name in self.heatmaps:
                self.heatmaps[name].extend(steps, values)
            elif drawn_over_training(name) and values.ndim == 2:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)   # an all-NaN row is a gap
                    means = np.nanmean(values, axis=1) if values.shape[1] else np.full(len(values), np.nan)
                self._probed_series(name).extend(steps, means)
        if block.latest_step is not None:
            self.latest = dict(block.latest)
            self.latest_step = int(block.latest_step)
        self._step_times.extend(_recent(block.wall_times).tolist())
        self._probe_times.extend(_recent(block.probe_times).tolist())
        self.probes_seen += len(block.probe_steps)
        self.last_step = max(self.last_step, int(block.steps.max()))
        self.steps_seen += len(block)
        self._trim_rates()
        self.generation += 1

    def _add_clipping(self, block: StepBlock) -> None:
        """The clip markers and the rolling clip rate over the last CLIP_RATE_WINDOW steps."""
        steps, flags = block.scalars.get(CLIPPED.name(), (block.steps, np.zeros(len(block))))
        clipped = (np.nan_to_num(flags) > 0.5).astype(np.int64)
        held = np.fromiter(self._recent_clipped, dtype=np.int64, count=len(self._recent_clipped))
        flags_all = np.concatenate([held, clipped])
        sums = np.concatenate([[0], np.cumsum(flags_all)])
        ends = np.arange(len(held), len(flags_all)) + 1
        starts = np.maximum(0, ends - CLIP_RATE_WINDOW)
        self.clip_rates.extend(steps, (sums[ends] - sums[starts]) / (ends - starts))
        self._recent_clipped.extend(clipped[-CLIP_RATE_WINDOW:].astype(bool).tolist())
        self._clipped_in_window = int(sum(self._recent_clipped))
        if clipped.any():
            norm_steps, norms = block.scalars.get(GRAD_NORM.name(), (steps, np.full(len(steps), np.nan)))
            where = np.searchsorted(norm_steps, steps[clipped > 0])
            found = (where < len(norm_steps)) & (norm_steps[np.minimum(where, len(norm_steps) - 1)] == steps[clipped > 0])
            values = np.where(found, norms[np.minimum(where, len(norm_steps) - 1)], np.nan)
            self.clip_steps.extend(steps[clipped > 0], values)

    def _probed_series(self, name: str) -> Series:
        series = self.probed.get(name)
        if series is None:
            series = self.probed[name] = Series()
        return series

    def add_events(self, events: Iterable[Event]) -> None:
        for event in events:
            self.events.append(event)
            if event.kind in MARKED_EVENTS:
                self.markers.append(event)
            if event.kind == EventKind.DIVERGED.value:
                self.diverged = event
        del self.events[:-KEPT_EVENTS]
        self.generation += 1

    def set_state(self, state: str) -> None:
        self.state = state
        self.generation += 1

    def forget_series(self) -> None:
        """Keep only the newest probe: all that an earlier run, drawn faded, still needs."""
        self.scalars.clear()
        self.probed.clear()
        self.heatmaps = {name: Heatmap() for name in HEATMAPPED}
        # arrays kept at a few probes over training: the first conv layer's filters as they form
        self.snapshots = {name: Snapshots() for name in SNAPSHOTTED}
        self.generation += 1

    def _trim_rates(self) -> None:
        for times in (self._step_times, self._probe_times):
            if times:
                newest = times[-1]
                while times and newest - times[0] > RATE_WINDOW_SECONDS:
                    times.popleft()

    @staticmethod
    def _rate(times: collections.deque) -> float:
        if len(times) < 2 or times[-1] <= times[0]:
            return 0.0
        return (len(times) - 1) / (times[-1] - times[0])

    @property
    def steps_per_second(self) -> float:
        return self._rate(self._step_times) if self.state == "running" else 0.0

    @property
    def probes_per_second(self) -> float:
        return self._rate(self._probe_times) if self.state == "running" else 0.0

    @property
    def clip_rate(self) -> float:
        """The fraction of the last CLIP_RATE_WINDOW steps where clipping fired."""
        return self._clipped_in_window / len(self._recent_clipped) if self._recent_clipped else 0.0

    def series(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        series = self.scalars.get(name) or self.probed.get(name)
        if series is None:
            return np.empty(0), np.empty(0)
        return series.steps, series.values

    def line(self, name: str, buckets: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """A series as drawn: its envelope once its buckets hold more than one step (in at most
        `buckets` buckets, when given)."""
        series = self.scalars.get(name) or self.probed.get(name)
        if series is None:
            return np.empty(0), np.empty(0)
        return series.line(buckets)

    @property
    def nbytes(self) -> int:
        total = sum(s.nbytes for s in self.scalars.values()) + sum(s.nbytes for s in self.probed.values())
        total += self.clip_steps.nbytes + self.clip_rates.nbytes
        total += sum(heatmap.image.nbytes for heatmap in self.heatmaps.values() if heatmap.image is not None)
        return total

    @property
    def heatmap(self) -> Heatmap:
        """The error signal through time, log10 ‖dL/dh_t‖ (timestep x probed step)."""
        return self.heatmaps[HIDDEN_GRAD_NORM.name()]
