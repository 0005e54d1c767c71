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
import warnings
from typing import Iterable

import numpy as np

from gradscope.records import Event, StepBlock, StepRecord

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
        if capacity < 2 or capacity % 2:
            raise ValueError("a Series needs an even capacity of at least 2")
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

    def extend(self, steps: np.ndarray, values: np.ndarray) -> None:
        """Append many pairs at once, with the same result as appending them one by one.

        A bucket always holds the values at positions [j * stride, (j + 1) * stride) of all
        that were ever appended, and the stride is the smallest power of two that fits them
        in `capacity` buckets; so the held buckets are merged in groups to the new stride and
        the new values are reduced into buckets of it, without a Python loop per value."""
        values = np.asarray(values, dtype=np.float64)
        k = len(values)
        if k == 0:
            return
        steps = np.asarray(steps, dtype=np.float64)
        before = self.count
        total = before + k
        stride = self.stride
        while total > self.capacity * stride:
            stride *= 2
        if stride != self.stride:
            self._regroup(stride // self.stride)
            self.stride = stride
        finite = np.where(np.isfinite(values), values, np.nan)
        bucket = (before + np.arange(k)) // stride
        starts = np.flatnonzero(np.r_[True, bucket[1:] != bucket[:-1]])
        with np.errstate(invalid="ignore"):
            lo = np.fmin.reduceat(finite, starts)
            hi = np.fmax.reduceat(finite, starts)
        firsts, first_steps, ids = values[starts], steps[starts], bucket[starts]
        if self.size and ids[0] == self.size - 1:
            # the first new values top up the newest held bucket
            index = self.size - 1
            self._lo[index] = np.fmin(self._lo[index], lo[0])
            self._hi[index] = np.fmax(self._hi[index], hi[0])
            lo, hi, firsts, first_steps = lo[1:], hi[1:], firsts[1:], first_steps[1:]
        end = self.size + len(firsts)
        self._lo[self.size:end], self._hi[self.size:end] = lo, hi
        self._first[self.size:end], self._steps[self.size:end] = firsts, first_steps
        self.size = end
        self._in_last = total - (end - 1) * stride
        self.last = float(values[-1])

    @property
    def count(self) -> int:
        """How many values were ever appended."""
        return 0 if self.size == 0 else (self.size - 1) * self.stride + self._in_last

    def _regroup(self, factor: int) -> None:
        """Merge every `factor` neighbouring buckets into one (what repeated halving does)."""
        n = self.size
        if n == 0:
            return
        starts = np.arange(0, n, factor)
        with np.errstate(invalid="ignore"):
            lo = np.fmin.reduceat(self._lo[:n], starts)
            hi = np.fmax.reduceat(self._hi[:n], starts)
        m = len(starts)
        self._lo[:m], self._hi[:m] = lo, hi
        self._first[:m], self._steps[:m] = self._first[starts], self._steps[starts]
        self.size = m

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
        self.extend([step], np.asarray(values)[None])

    def extend(self, steps, rows: np.ndarray) -> None:
        """Rows of one probe each (linear values), oldest first."""
        if len(rows) == 0:
            return
        logs = log10_finite(rows)
        for step, row in zip(np.asarray(steps).tolist(), logs):
            if self.image is None or self.image.shape[1] != row.shape[0]:
                self.image = np.full((self.rows, row.shape[0]), np.nan, dtype=np.float32)
                self._keep = _Decimator(self.rows)
            slot = self._keep.admit((self.image, self._steps))
            if slot is not None:
                self.image[slot] = row
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


def drawn_over_training(name: str) -> bool:
    """Array series the history needs from every probe, not just the newest: what a replay
    loads in full (the rest it loads for the probe on show only)."""
    return name == "hidden_grad_norm" or name.startswith(("gate_saturation/", "activation_saturation"))


def _recent(times: np.ndarray) -> np.ndarray:
    return times[times >= times[-1] - RATE_WINDOW_SECONDS] if len(times) else times


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
    def key(self) -> tuple:
        """Which run this is: a replay's seek makes a new history of the same run."""
        return self.info.get("run_id"), self.index, self.info.get("config")

    @property
    def label(self) -> str:
        c = self.config
        layers = f" x{c.get('layers')}" if c.get("layers", 1) > 1 else ""
        bidir = " bidir" if c.get("bidirectional") else ""
        number = self.info.get("run_id")
        number = self.index if number is None else number      # the id `gradscope info` shows
        return f"run {number}: {self.arch.upper()} H={c.get('hidden')}{layers}{bidir} T={c.get('seq_len')}"

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
            if name.startswith(_UNDRAWN_PREFIXES):
                continue
            series = self.scalars.get(name)
            if series is None:
                series = self.scalars[name] = Series()
            series.extend(steps, values)
        self._add_clipping(block)
        for name, (steps, values) in block.probes.items():
            if name == "hidden_grad_norm":
                self.heatmap.extend(steps, values)
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
        steps, flags = block.scalars.get("clipped", (block.steps, np.zeros(len(block))))
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
            norm_steps, norms = block.scalars.get("grad_norm", (steps, np.full(len(steps), np.nan)))
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
