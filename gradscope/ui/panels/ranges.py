"""Axis ranges kept by hand: auto-range over 10,000 points each frame costs more than the
paint, and an axis that moves every frame re-lays out its plot every frame."""
from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg


def grown_span(current: tuple[float, float] | None, lo: float, hi: float) -> tuple[float, float] | None:
    """A training-step axis: a new span when the data leaves the current one (a quarter of room
    to grow into) or fills less than 30% of it; None to keep it."""
    if current is None or hi > current[1] or lo < current[0] or (hi - lo) < 0.3 * (current[1] - current[0]):
        return lo, lo + max(hi - lo, 1.0) * 1.25
    return None


class RangeKeeper:
    """Sets a plot's view range by hand: grows it when the data leaves it, shrinks it when the
    data fills less than a third of it, and otherwise leaves it alone (no re-layout per frame).
    Works in view coordinates: log10 of the data on a log axis. Without a plot it only keeps
    the span (`y`), for a colour scale."""

    def __init__(self, plot: pg.PlotItem | None = None, log_y: bool = False, y_floor: float | None = None):
        self.plot = plot
        self.log_y = log_y
        self.y_floor = y_floor
        self.x: tuple[float, float] | None = None
        self.y: tuple[float, float] | None = None
        if plot is not None:
            plot.disableAutoRange()

    def set_log_y(self, log_y: bool) -> None:
        self.log_y = log_y
        self.plot.setLogMode(x=False, y=log_y)
        self.plot.disableAutoRange()      # setLogMode turns auto-range back on
        self.y = None

    def reset(self) -> None:
        self.x = self.y = None

    def update(self, x: np.ndarray | tuple | None, ys: list[np.ndarray],
               x_fixed: tuple[float, float] | None = None) -> None:
        if x_fixed is not None:
            if self.x != tuple(x_fixed):
                self.x = tuple(x_fixed)
                if self.plot is not None:
                    self.plot.setXRange(*self.x, padding=0.02)
        else:
            x = np.asarray(x, dtype=np.float64)
            if x.size == 0:
                return
            span = grown_span(self.x, float(x[0]), float(x[-1]))
            if span is not None:
                self.x = span
                self.plot.setXRange(*self.x, padding=0.0)
        lo, hi = self._y_bounds(ys)
        if lo is None:
            return
        if self.y is not None:
            inside = lo >= self.y[0] and hi <= self.y[1]
            span = self.y[1] - self.y[0]
            if inside and (hi - lo) >= span / 3:
                return
        pad = max((hi - lo) * 0.1, 0.05 if self.log_y else 1e-9 + abs(hi) * 0.05)
        self.y = (lo - pad, hi + pad)
        if self.plot is not None:
            self.plot.setYRange(*self.y, padding=0.0)

    def _y_bounds(self, ys: list[np.ndarray]) -> tuple[float | None, float | None]:
        lo, hi = math.inf, -math.inf
        for values in ys:
            values = np.asarray(values, dtype=np.float64)
            if self.log_y:
                values = values[np.isfinite(values) & (values > 0)]
                values = np.log10(values) if values.size else values
            else:
                values = values[np.isfinite(values)]
            if values.size:
                lo, hi = min(lo, float(values.min())), max(hi, float(values.max()))
        if self.y_floor is not None and not self.log_y and math.isfinite(lo):
            lo = min(lo, self.y_floor)
        if not math.isfinite(lo):
            return None, None
        if hi - lo < 1e-12:
            lo, hi = lo - 0.5, hi + 0.5
        return lo, hi
