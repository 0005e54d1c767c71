"""What the panels draw: each run's history, kept in numpy arrays of bounded size.

The history is decimated for drawing, never the session file: a series over training steps
is a min/max envelope in at most `SERIES_CAPACITY` buckets, about two per pixel of a wide
plot, whose buckets double in width each time it fills. A 100,000-step run costs the same
memory as a 2,000-step one, and a frame draws at most twice that many points per curve
whatever the length of the run. The heatmap of log10 `hidden_grad_norm` is kept in log space
as rows arrive (taking log10 of the whole image each frame would cost more than drawing it).

Plain numpy, no Qt: live and replay fill it the same way.
"""
from __future__ import annotations

import collections
import json
import math
from typing import Iterable

import numpy as np

from gradscope.records import Event, StepRecord

SERIES_CAPACITY = 1_024
HEATMAP_ROWS = 400
CLIP_RATE_WINDOW = 100
RATE_WINDOW_SECONDS = 3.0
GATES = {"lstm": ("input", "forget", "candidate", "output"), "gru": ("reset", "update", "candidate")}
# scalars no panel draws: kept in the session file, not here ("clipped", the 0/1 flag, reaches
# the panels as `clip_steps` and `clip_rates` instead)
_UNDRAWN_PREFIXES = ("param_grad_norm/", "clipped")


class _Decimator:
    """Which offered items to keep so that at most `capacity` are held: all of them until full,
    then every other one of those held and, from then on, every `stride`-th offered."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.size = 0
        self.stride = 1
        self._offered = 0

    def admit(self, arrays: tuple[np.ndarray, ...]) -> int | None:
        """The slot for the item offered now, halving `arrays` (along axis 0) first when they
        are full; None when this item is skipped."""
        offered, self._offered = self._offered, self._offered + 1
        if offered % self.stride:
            return None
        if self.size == self.capacity:
            half = self.capacity // 2
            for array in arrays:
                array[:half] = array[0:self.capacity:2]
            self.size = half
            self.stride *= 2
        self.size += 1
        return self.size - 1


class Series:
    """(step, value) pairs kept as a min/max envelope in at most `capacity` buckets.

    Until it fills, each bucket is one step. When it fills, neighbouring buckets merge in
    pairs (the lower of their minima, the higher of their maxima), and from then on a bucket
    takes `stride` steps, twice as many each time. The envelope keeps every spike, which is
    what a plot of an exploding gradient must not lose, and `line()` draws it as a vertical
    stroke per bucket (what pyqtgraph's peak downsampling would draw, computed once as the
    records arrive instead of on every frame).

    `values` holds the first value of each bucket: with one step per bucket, the records
    themselves. NaN and inf never enter the envelope (a bucket with no finite value is NaN,
    drawn as a gap); the newest value, finite or not, is `last`.
    """

    def __init__(self, capacity: int = SERIES_CAPACITY) -> None:
        self.capacity = capacity
        self._steps = np.empty(capacity, dtype=np.float64)
        self._first = np.empty(capacity, dtype=np.float64)
        self._lo = np.empty(capacity, dtype=np.float64)
        self._hi = np.empty(capacity, dtype=np.float64)
        self.size = 0
        self.stride = 1
        self._in_last = 0          # steps in the newest bucket
        self.last = float("nan")

    def append(self, step: float, value: float) -> None:
        value = float(value)
        self.last = value
        finite = math.isfinite(value)
        if self.size and self._in_last < self.stride:
            index = self.size - 1
            self._in_last += 1
            if finite:
                lo, hi = self._lo[index], self._hi[index]
                self._lo[index] = value if not lo <= value else lo     # NaN-aware min
                self._hi[index] = value if not hi >= value else hi
            return
        if self.size == self.capacity:
            self._halve()
        index = self.size
        self.size += 1
        self._in_last = 1
        self._steps[index] = step
        self._first[index] = value
        self._lo[index] = self._hi[index] = value if finite else np.nan

    def _halve(self) -> None:
        half = self.capacity // 2
        pairs = slice(0, 2 * half, 2), slice(1, 2 * half, 2)
        with np.errstate(invalid="ignore"):
            self._lo[:half] = np.fmin(self._lo[pairs[0]], self._lo[pairs[1]])
            self._hi[:half] = np.fmax(self._hi[pairs[0]], self._hi[pairs[1]])
        self._steps[:half] = self._steps[pairs[0]]
        self._first[:half] = self._first[pairs[0]]
        self.size = half
        self.stride *= 2

    @property
    def steps(self) -> np.ndarray:
        return self._steps[:self.size]

    @property
    def values(self) -> np.ndarray:
        return self._first[:self.size]

    @property
    def lo(self) -> np.ndarray:
        return self._lo[:self.size]

    @property
    def hi(self) -> np.ndarray:
        return self._hi[:self.size]

    def line(self) -> tuple[np.ndarray, np.ndarray]:
        """What to draw: the values themselves while a bucket is one step, else each bucket's
        minimum and then maximum at the bucket's first step."""
        if self.stride == 1:
            return self.steps, self.values
        n = self.size
        x = np.repeat(self._steps[:n], 2)
        y = np.empty(2 * n, dtype=np.float64)
        y[0::2] = self._lo[:n]
        y[1::2] = self._hi[:n]
        return x, y

    @property
    def nbytes(self) -> int:
        return self._steps.nbytes + self._first.nbytes + self._lo.nbytes + self._hi.nbytes


class Heatmap:
    """Rows of log10 values (one per probed step), halved when full like a Series."""

    def __init__(self, rows: int = HEATMAP_ROWS) -> None:
        self.rows = rows
        self.image: np.ndarray | None = None        # float32 [rows, T], C-contiguous
        self._steps = np.empty(rows, dtype=np.float64)
        self._keep = _Decimator(rows)

    def append(self, step: int, values: np.ndarray) -> None:
        if self.image is None or self.image.shape[1] != values.shape[0]:
            self.image = np.full((self.rows, values.shape[0]), np.nan, dtype=np.float32)
            self._keep = _Decimator(self.rows)
        slot = self._keep.admit((self.image, self._steps))
        if slot is None:
            return
        self.image[slot] = log10_finite(values)
        self._steps[slot] = step

    @property
    def size(self) -> int:
        return self._keep.size

    @property
    def stride(self) -> int:
        return self._keep.stride

    @property
    def steps(self) -> np.ndarray:
        return self._steps[:self.size]

    @property
    def filled(self) -> np.ndarray | None:
        return None if self.image is None else self.image[:self.size]


def log10_finite(values: np.ndarray) -> np.ndarray:
    """log10 with zeros, negatives and non-finite values as NaN (drawn as gaps)."""
    values = np.asarray(values, dtype=np.float64)
    out = np.full(values.shape, np.nan, dtype=np.float32)
    good = np.isfinite(values) & (values > 0)
    out[good] = np.log10(values[good])
    return out


class RunHistory:
    """One run as the panels see it."""

    def __init__(self, info: dict) -> None:
        self.info = dict(info)
        self.index = int(info.get("run", 0))
        self.config = json.loads(info["config"]) if isinstance(info.get("config"), str) else dict(info.get("config", {}))
        self.arch = self.config.get("arch", "rnn")
        self.task = self.config.get("task", "adding")
        self.gates = GATES.get(self.arch, ())
        self.scalars: dict[str, Series] = {}
        self.probed: dict[str, Series] = {}         # per-probe summaries over training
        self.latest: dict[str, np.ndarray] = {}     # the newest probe's arrays
        self.latest_step: int | None = None
        self.heatmap = Heatmap()
        self.clip_steps = Series()                  # steps where clipping fired, at grad_norm
        self.clip_rates = Series()                  # the rolling clip rate at every step
        self.markers: list[Event] = []              # setting changes and divergence, for the time axes
        self.events: list[Event] = []
        self.state = "running"
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
    def label(self) -> str:
        c = self.config
        layers = f" x{c.get('layers')}" if c.get("layers", 1) > 1 else ""
        bidir = " bidir" if c.get("bidirectional") else ""
        return f"run {self.index}: {self.arch.upper()} H={c.get('hidden')}{layers}{bidir} T={c.get('seq_len')}"

    def add_records(self, records: Iterable[StepRecord]) -> None:
        for record in records:
            step = record.step
            scalars = record.scalars
            for name, value in scalars.items():
                if name.startswith(_UNDRAWN_PREFIXES):
                    continue
                series = self.scalars.get(name)
                if series is None:
                    series = self.scalars[name] = Series()
                series.append(step, value)
            clipped = scalars.get("clipped", 0.0) > 0.5
            if len(self._recent_clipped) == CLIP_RATE_WINDOW:
                self._clipped_in_window -= self._recent_clipped[0]
            self._recent_clipped.append(clipped)
            self._clipped_in_window += clipped
            self.clip_rates.append(step, self.clip_rate)
            if clipped:
                self.clip_steps.append(step, scalars.get("grad_norm", np.nan))
            self._step_times.append(record.wall_time)
            if record.probed:
                self._add_probe(step, record.arrays)
                self._probe_times.append(record.wall_time)
            self.last_step = max(self.last_step, step)
            self.steps_seen += 1
        self._trim_rates()
        self.generation += 1

    def _add_probe(self, step: int, arrays) -> None:
        self.latest = dict(arrays)
        self.latest_step = step
        self.probes_seen += 1
        if "hidden_grad_norm" in arrays:
            self.heatmap.append(step, arrays["hidden_grad_norm"])
        for name, values in arrays.items():
            if name.startswith(("gate_saturation/", "activation_saturation")) and values.ndim == 1:
                self._probed_series(name).append(step, float(np.nanmean(values)) if values.size else np.nan)

    def _probed_series(self, name: str) -> Series:
        series = self.probed.get(name)
        if series is None:
            series = self.probed[name] = Series()
        return series

    def add_events(self, events: Iterable[Event]) -> None:
        for event in events:
            self.events.append(event)
            if event.kind in ("clip_threshold_changed", "clip_mode_changed", "lr_changed", "diverged"):
                self.markers.append(event)
            if event.kind == "diverged":
                self.diverged = event
        del self.events[:-1000]
        self.generation += 1

    def set_state(self, state: str) -> None:
        self.state = state
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

    def line(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """A series as drawn: its envelope once its buckets hold more than one step."""
        series = self.scalars.get(name) or self.probed.get(name)
        if series is None:
            return np.empty(0), np.empty(0)
        return series.line()

    @property
    def nbytes(self) -> int:
        total = sum(s.nbytes for s in self.scalars.values()) + sum(s.nbytes for s in self.probed.values())
        total += self.clip_steps.nbytes + self.clip_rates.nbytes
        if self.heatmap.image is not None:
            total += self.heatmap.image.nbytes
        return total


class Lab:
    """Every run of this window's session, the newest last."""

    OVERLAY_RUNS = 3   # earlier runs drawn faded on the per-timestep view

    def __init__(self) -> None:
        self.runs: list[RunHistory] = []

    @property
    def current(self) -> RunHistory | None:
        return self.runs[-1] if self.runs else None

    @property
    def previous(self) -> list[RunHistory]:
        return [run for run in self.runs[:-1] if run.latest][-self.OVERLAY_RUNS:]

    def start_run(self, info: dict) -> RunHistory:
        run = RunHistory(info)
        self.runs.append(run)
        # an old run keeps only what the overlay draws: its latest probe
        for old in self.runs[:-1 - self.OVERLAY_RUNS]:
            old.scalars.clear()
            old.probed.clear()
            old.heatmap = Heatmap()
        return run
