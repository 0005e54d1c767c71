"""What every panel shares: plot items created once (per run slot, for the runs compared side
by side) and fed with setData / setImage from the window's timer; ranges kept by hand (auto-
range over 10,000 points each frame costs more than the paint); labelled vertical markers for
setting changes, notes and divergence on every training-step axis.

A panel draws the lab model's slots (`lab.slots`, one to three runs) and, where it says so,
the earlier runs (`lab.earlier`) faded behind them. With one slot each series has its own
colour; with several, each run has its slot's colour and line style (`theme.slot_pen`) and
the legend names only what differs between the runs.
"""
from __future__ import annotations

import contextlib
import math
import time
from typing import Iterator

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGraphicsItem, QGraphicsTextItem, QVBoxLayout, QWidget

from gradscope.lab.envelope import SERIES_CAPACITY
from gradscope.lab.slots import MAX_SLOTS, RunSlot
from gradscope.records import EventKind
from gradscope.ui import theme

MAX_MARKERS = 40
CACHED_ITEMS = (QGraphicsTextItem, pg.AxisItem)
COST_SMOOTHING = 0.2        # weight of the newest sample in the panels' cost averages


class _TimedGraphics(pg.GraphicsLayoutWidget):
    """A panel's plots, timing their own paints (a moving average, in ms) so the window knows
    what redrawing each panel costs."""

    paint_ms = 0.0

    def paintEvent(self, event) -> None:
        began = time.perf_counter()
        super().paintEvent(event)
        self.paint_ms += COST_SMOOTHING * ((time.perf_counter() - began) * 1000.0 - self.paint_ms)


def buckets_for(slots) -> int | None:
    """How many buckets each run's long series is drawn in: all of them alone, a share when
    runs are compared, so a plot draws as many points for three runs as for one."""
    return None if len(slots) <= 1 else SERIES_CAPACITY // len(slots)


def lab_key(lab) -> tuple:
    """What a panel's picture depends on: the slots' histories as they are now, the earlier runs."""
    return (tuple((id(slot.history), slot.history.generation, slot.label) for slot in lab.slots),
            tuple(id(history) for history in lab.earlier))


class Panel(QWidget):
    """A dockable panel. Subclasses create their items in __init__ and draw in `draw`."""

    title = ""
    name = ""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.graphics = _TimedGraphics()
        self.graphics.ci.setContentsMargins(4, 4, 4, 4)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        self.layout_ = layout
        layout.addWidget(self.graphics, 1)
        self._drawn: tuple | None = None
        self.drawn_at = 0                 # the window's frame count when last drawn
        self.draw_ms = 0.0                # moving average of `refresh`, in ms
        self.step_plots: list[pg.PlotItem] = []      # plots whose x axis is the training step
        self._markers: dict[int, list[pg.InfiniteLine]] = {}
        self._items_seen = 0

    def invalidate(self) -> None:
        """Draw again at the next frame, though the lab did not change."""
        self._drawn = None

    def stale(self, lab) -> bool:
        """Whether the lab changed since this panel last drew it."""
        return lab_key(lab) != self._drawn

    def refresh(self, lab, force: bool = False) -> None:
        key = lab_key(lab)
        if key == self._drawn and not force:
            return
        self._drawn = key
        began = time.perf_counter()
        self.draw(lab)
        self._sync_markers(lab.slots)
        self._cache_text()
        self.draw_ms += COST_SMOOTHING * ((time.perf_counter() - began) * 1000.0 - self.draw_ms)

    @property
    def cost_ms(self) -> float:
        """What a refresh of this panel costs the GUI thread: feeding its plots, then painting."""
        return self.draw_ms + self.graphics.paint_ms

    def draw(self, lab) -> None:
        raise NotImplementedError

    def _cache_text(self) -> None:
        """Titles, legends, labels and axes are drawn from a pixmap Qt keeps (and renews when
        they change): laying out their text again on every repaint was half of what a panel's
        paint cost. Looked for only when the panel gained or lost items."""
        items = self.graphics.scene().items()
        if len(items) == self._items_seen:
            return
        self._items_seen = len(items)
        for item in items:
            if isinstance(item, CACHED_ITEMS) and item.cacheMode() == QGraphicsItem.CacheMode.NoCache:
                item.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)

    def add_step_plot(self, plot: pg.PlotItem) -> pg.PlotItem:
        self.step_plots.append(plot)
        self._markers[id(plot)] = []
        return plot

    def forget_step_plots(self, remove_lines: bool = False) -> None:
        """The panel changes its plots: forget them and their markers (`remove_lines`: take
        the marker lines off plots that stay; plots cleared away took theirs along)."""
        if remove_lines:
            for plot in self.step_plots:
                for line in self._markers.get(id(plot), []):
                    plot.removeItem(line)
        self.step_plots.clear()
        self._markers.clear()

    def _sync_markers(self, slots: list[RunSlot]) -> None:
        """The first run's setting changes and notes, and every run's divergence."""
        wanted = []
        for slot in slots:
            wanted += [event for event in slot.history.markers
                       if slot.index == 0 or event.kind == EventKind.DIVERGED.value]
        wanted = sorted(wanted, key=lambda event: event.step)[-MAX_MARKERS:]
        labels = {id(event): _marker_label(event, slot) for slot in slots for event in slot.history.markers}
        for plot in self.step_plots:
            lines = self._markers[id(plot)]
            # the same events (a replay's seek hands the same ones to a new history) keep their lines
            if len(lines) == len(wanted) and all(line.marked_event is event for line, event in zip(lines, wanted)):
                continue
            for line in lines:
                plot.removeItem(line)
            lines.clear()
            for event in wanted:
                diverged = event.kind == EventKind.DIVERGED.value
                line = pg.InfiniteLine(pos=event.step, angle=90, movable=False,
                                       pen=theme.pen("red" if diverged else "grey", 2, Qt.PenStyle.DashLine),
                                       label=labels[id(event)],
                                       labelOpts={"position": 0.92, "color": theme.COLORS["black"],
                                                  "fill": theme.brush("#ffffff", 210), "movable": True})
                line.marked_event = event
                plot.addItem(line, ignoreBounds=True)
                lines.append(line)


def _marker_label(event, slot: RunSlot) -> str:
    """The marker's text, as pyqtgraph's label format takes it: its braces doubled (a file's
    event text is data, never a format), no control characters, at most 60 characters."""
    text = f"diverged ({slot.label})" if event.kind == EventKind.DIVERGED.value and slot.label else event.label
    text = "".join(char if char.isprintable() else " " for char in str(text))
    text = text if len(text) <= 60 else text[:57] + "..."
    return text.replace("{", "{{").replace("}", "}}")


class SlotCurves:
    """One curve per run slot on one plot, created once. A lone run is drawn in the series'
    own look (`single`: colour, width, Qt pen style or None) under the legend entry `name`;
    compared runs in their slots' styles, with an entry per run naming what differs when
    `legend_runs` (the plot's main series), none otherwise."""

    def __init__(self, plot: pg.PlotItem, single: tuple, *, name: str | None = None, legend_runs: bool = True,
                 long: bool = False, width: float | None = None, alpha: int = 255,
                 compared_width: float | None = None, compared_alpha: int | None = None, connect: str = "finite",
                 compared_dashes: bool = True):
        self.plot = plot
        self.single = single
        self.name = name
        self.legend_runs = legend_runs
        self.width = width if width is not None else single[1]
        self.compared_width = compared_width or (theme.COMPARED_LINE_WIDTH if long else self.width)
        self.alpha = alpha
        self.compared_alpha = compared_alpha if compared_alpha is not None else alpha
        self.compared_dashes = compared_dashes     # False: compared runs told apart by colour alone (ticks)
        self.curves = [new_curve(plot, single[0], None, width=self.width, style=single[2], alpha=alpha, long=long,
                                 connect=connect) for _ in range(MAX_SLOTS)]
        self._styled: tuple | None = None

    def style(self, slots: list[RunSlot]) -> None:
        """Pens and legend entries for these slots (only when they change)."""
        key = tuple((slot.index, slot.label) for slot in slots)
        if key == self._styled:
            return
        self._styled = key
        legend = getattr(self.plot, "legend", None)
        compared = len(slots) > 1
        for k, curve in enumerate(self.curves):
            if legend is not None:
                legend.removeItem(curve)
            if compared:
                color, dashes = slots[k].style if k < len(slots) else ("grey", "solid")
                curve.setPen(theme.slot_pen((color, dashes if self.compared_dashes else "solid"),
                                            self.compared_width, self.compared_alpha))
            else:
                curve.setPen(theme.pen(self.single[0], self.width, self.single[2], self.alpha))
            if k >= len(slots):
                curve.clear_values()
        if legend is None:
            return
        if compared and self.legend_runs:
            for slot, curve in zip(slots, self.curves):
                legend.addItem(curve, slot.name)
        elif not compared and slots and self.name:
            legend.addItem(self.curves[0], self.name)

    def restyle(self) -> None:
        """Style again at the next `style` (the plot's legend was cleared)."""
        self._styled = None

    def show(self, k: int, x, y) -> None:
        self.curves[k].show_values(x, y)

    def clear(self, k: int) -> None:
        self.curves[k].clear_values()


@contextlib.contextmanager
def drawn_as_vectors(panels) -> Iterator[None]:
    """Within it, the panels' cached items draw themselves again: an SVG wants text and lines,
    not the pixmaps the screen is painted from."""
    cached = [(item, item.cacheMode()) for panel in panels for item in panel.graphics.scene().items()
              if item.cacheMode() != QGraphicsItem.CacheMode.NoCache]
    for item, _ in cached:
        item.setCacheMode(QGraphicsItem.CacheMode.NoCache)
    try:
        yield
    finally:
        for item, mode in cached:
            item.setCacheMode(mode)


def finite_or_nan(values: np.ndarray) -> np.ndarray:
    values = np.asarray(values, dtype=np.float64)
    return np.where(np.isfinite(values), values, np.nan)


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


def add_plot(layout, row: int, col: int, legend: bool = False, colspan: int = 1,
             legend_columns: int = 4) -> pg.PlotItem:
    """A plot in a panel's layout; with `legend`, a legend of `legend_columns` entries a line
    sits above it in a row of its own, so it never hides a curve."""
    if not legend:
        return layout.addPlot(row=row, col=col, colspan=colspan)
    cell = layout.addLayout(row=row, col=col, colspan=colspan)
    cell.setContentsMargins(0, 0, 0, 0)
    cell.setSpacing(0)
    key = pg.LegendItem(colCount=legend_columns, labelTextSize=f"{theme.FONT_POINTS}pt", verSpacing=-6)
    cell.addItem(key, row=0, col=0)
    plot = cell.addPlot(row=1, col=0)
    plot.legend = key          # PlotItem.addItem registers named items with plot.legend
    cell.layout.setRowStretchFactor(1, 10)
    return plot


class Curve(pg.PlotCurveItem):
    """A curve that takes its data in data units and follows its plot's log mode itself.

    PlotCurveItem rather than PlotDataItem: a PlotDataItem re-runs its whole data pipeline
    (log transform, clip, downsampling, bounds) on every setData, about 15 times what the
    curve itself costs, and a frame sets some thirty curves. On a log axis the view works in
    decades, so the curve draws log10 of its values, and zeros, negatives, NaN and inf
    become gaps. PlotItem.setLogMode (also from the plot's context menu) reaches it through
    `setLogMode`. The values as given stay in `x_values` and `y_values`.
    """

    def __init__(self, pen, name: str | None = None, connect: str = "finite"):
        super().__init__(pen=pen, name=name, connect=connect)
        self.log_y = False
        self.x_values = np.empty(0)
        self.y_values = np.empty(0)
        self._bounds: tuple | None = None

    def setData(self, *args, **kwargs) -> None:
        self._bounds = None
        super().setData(*args, **kwargs)

    def dataBounds(self, ax, frac=1.0, orthoRange=None):
        # the bounds show_values took with the data, instead of pyqtgraph's nanmin/nanmax under
        # a warnings guard, which a frame paid for every curve twice over
        if self._bounds is None or frac < 1.0 or orthoRange is not None:
            return super().dataBounds(ax, frac, orthoRange)
        return self._bounds[ax]

    def setLogMode(self, x: bool, y: bool) -> None:   # pyqtgraph's name: PlotItem calls it
        if bool(y) != self.log_y:
            self.log_y = bool(y)
            self.show_values(self.x_values, self.y_values)

    def show_values(self, x, y) -> None:
        self.x_values = np.asarray(x, dtype=np.float64)
        self.y_values = np.asarray(y, dtype=np.float64)
        if self.log_y:
            drawn = np.full(self.y_values.shape, np.nan)
            good = np.isfinite(self.y_values) & (self.y_values > 0)
            drawn[good] = np.log10(self.y_values[good])
        else:
            drawn = finite_or_nan(self.y_values)
        self.setData(self.x_values, drawn)
        pen = self.opts["pen"]
        if pen is None or pen.isCosmetic():          # a wide non-cosmetic pen widens the bounds
            self._bounds = (_span(self.x_values), _span(drawn))

    def clear_values(self) -> None:
        self.show_values(np.empty(0), np.empty(0))


def new_curve(plot: pg.PlotItem, color: str, name: str | None = None, width: float | None = None,
              style=None, alpha: int = 255, long: bool = False, connect: str = "finite") -> Curve:
    """A curve added to `plot`, in the plot's log mode. `long` marks a series over training
    steps: the history hands it over already reduced to a min/max envelope of at most a few
    thousand points, and it is drawn with a thinner pen (a wide pen costs Qt a stroke per
    segment, and thousands of segments per frame)."""
    if width is None:
        width = theme.LONG_LINE_WIDTH if long else theme.LINE_WIDTH
    curve = Curve(theme.pen(color, width, style, alpha), name=name, connect=connect)
    plot.addItem(curve)
    curve.setLogMode(False, plot.getAxis("left").logMode)
    return curve


def set_title(plot: pg.PlotItem, text: str) -> None:
    """Re-titles only on a change: a title set every frame re-lays out the plot every frame."""
    if getattr(plot, "_gradscope_title", None) != text:
        plot._gradscope_title = text
        plot.setTitle(text, size=theme.TITLE_SIZE)


def _span(values: np.ndarray) -> tuple:
    """(min, max) of the finite values as pyqtgraph's dataBounds gives them: (None, None) when
    empty, NaN when there are no finite values."""
    if not values.size:
        return None, None
    lo, hi = float(np.fmin.reduce(values)), float(np.fmax.reduce(values))    # NaN only if all are
    if math.isinf(lo) or math.isinf(hi):
        finite = values[np.isfinite(values)]
        return (float(finite.min()), float(finite.max())) if finite.size else (None, None)
    return lo, hi
