"""The bounded arrays behind a run's history: a series over training steps as a min/max
envelope, and the heatmap's rows, both of a fixed size however long the run (see
`gradscope.lab.history`). Plain numpy, no Qt."""
from __future__ import annotations

import math

import numpy as np

SERIES_CAPACITY = 1_024
HEATMAP_ROWS = 400


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

    def envelope(self, buckets: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(first steps, minima, maxima) of the buckets, merged to at most `buckets` of them
        (neighbours merge as when the series fills: a run compared with two others draws its
        share of a plot's points, not three times them)."""
        n = self.size
        if buckets is None or n <= buckets:
            return self.steps, self.lo, self.hi
        starts = np.arange(0, n, -(-n // max(int(buckets), 1)))
        with np.errstate(invalid="ignore"):
            return (self._steps[starts], np.fmin.reduceat(self._lo[:n], starts),
                    np.fmax.reduceat(self._hi[:n], starts))

    def line(self, buckets: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """What to draw: the values themselves while a bucket is one step (and no more than
        `buckets` are wanted), else each bucket's minimum and then maximum at its first step."""
        if self.stride == 1 and (buckets is None or self.size <= buckets):
            return self.steps, self.values
        steps, lo, hi = self.envelope(buckets)
        x = np.repeat(steps, 2)
        y = np.empty(2 * len(steps), dtype=np.float64)
        y[0::2] = lo
        y[1::2] = hi
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


def log10_finite(values: np.ndarray) -> np.ndarray:
    """log10 with zeros, negatives and non-finite values as NaN (drawn as gaps)."""
    values = np.asarray(values, dtype=np.float64)
    out = np.full(values.shape, np.nan, dtype=np.float32)
    good = np.isfinite(values) & (values > 0)
    out[good] = np.log10(values[good])
    return out
