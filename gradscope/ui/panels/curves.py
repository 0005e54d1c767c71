"""Curves that take their data in data units: one `Curve` per series, and `SlotCurves`, one
curve per run slot on one plot for the runs compared side by side."""
from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt

from gradscope.lab.slots import MAX_SLOTS, RunSlot
from gradscope.ui import theme
from gradscope.ui.panels.bars import BarsPainter, paired
from gradscope.ui.panels.marks import CurveMarks


SLOT_SYMBOLS = ("o", "t", "s")      # run slot k's markers, where its line style cannot be drawn
SERIES_SYMBOLS = ("o", "t", "s", "d", "star", "+")    # the series of one plot, where colour is not enough


def finite_or_nan(values: np.ndarray) -> np.ndarray:
    values = np.asarray(values, dtype=np.float64)
    return np.where(np.isfinite(values), values, np.nan)


class Curve(pg.PlotCurveItem):
    """A curve that takes its data in data units and follows its plot's log mode itself.

    PlotCurveItem rather than PlotDataItem: a PlotDataItem re-runs its whole data pipeline
    (log transform, clip, downsampling, bounds) on every setData, about 15 times what the
    curve itself costs, and a frame sets some thirty curves. On a log axis the view works in
    decades, so the curve draws log10 of its values, and zeros, negatives, NaN and inf
    become gaps. PlotItem.setLogMode (also from the plot's context menu) reaches it through
    `setLogMode`. The values as given stay in `x_values` and `y_values`.
    """

    def __init__(self, pen, name: str | None = None, connect: str = "finite", long: bool = False):
        self.marks = CurveMarks()                       # markers along the curve, in its key too
        super().__init__(pen=pen, name=name, connect=connect)
        # an envelope (a long series) or ticks (pairs) in a solid pen are painted as rectangles
        self.bars = BarsPainter() if long or connect == "pairs" else None
        self._paired = False
        # where ticks stand, when that is what tells them apart ("above the curve")
        self.gradscope_placement: str | None = None
        self.log_y = False
        self.x_values = np.empty(0)
        self.y_values = np.empty(0)
        self._bounds: tuple | None = None

    def paint(self, painter, option, widget=None) -> None:
        pen = self.opts["pen"]
        band = self.opts["connect"] != "pairs"
        if (self.bars is None or not self._paired or pen.style() != Qt.PenStyle.SolidLine
                or (band and not self.bars.suits(painter, self.xData, pen))):
            super().paint(painter, option, widget)
        else:
            self.bars.paint(painter, self.xData, self.yData, pen, band=band)
        self.marks.paint(painter, pen.color())

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
        if len(x) == 0 and len(y) == 0 and self.xData is not None and len(self.xData) == 0:
            return          # empty, and was: an empty curve cleared every frame costs a setData
        self.x_values = np.asarray(x, dtype=np.float64)
        self.y_values = np.asarray(y, dtype=np.float64)
        if self.log_y:
            drawn = np.full(self.y_values.shape, np.nan)
            good = np.isfinite(self.y_values) & (self.y_values > 0)
            drawn[good] = np.log10(self.y_values[good])
        else:
            drawn = finite_or_nan(self.y_values)
        self.setData(self.x_values, drawn)
        self._paired = self.bars is not None and paired(self.x_values)
        self._place_marks()
        pen = self.opts["pen"]
        if pen is None or pen.isCosmetic():          # a wide non-cosmetic pen widens the bounds
            self._bounds = (_span(self.x_values), _span(drawn))

    def clear_values(self) -> None:
        self.show_values(np.empty(0), np.empty(0))

    def set_symbol(self, symbol: str | None) -> None:
        """Mark the curve with a few `symbol`s (pyqtgraph's "o", "t", "s", "d"), in its
        colour, and its key's swatch with one: series told apart by more than their colour."""
        if symbol == self.gradscope_symbol:
            return
        self.prepareGeometryChange()            # the markers reach past the data
        self.marks.symbol = symbol
        self._place_marks()
        self.update()

    @property
    def gradscope_symbol(self) -> str | None:
        return self.marks.symbol

    def pixelPadding(self):
        return max(super().pixelPadding(), self.marks.padding_px)

    def _place_marks(self) -> None:
        self.marks.place(*self.getData())


def new_curve(plot: pg.PlotItem, color: str, name: str | None = None, width: float | None = None,
              style=None, alpha: int = 255, long: bool = False, connect: str = "finite",
              symbol: str | None = None) -> Curve:
    """A curve added to `plot`, in the plot's log mode. `long` marks a series over training
    steps: the history hands it over already reduced to a min/max envelope of at most a few
    thousand points, and it is drawn with a thinner pen (a wide pen costs Qt a stroke per
    segment, and thousands of segments per frame)."""
    if width is None:
        width = theme.LONG_LINE_WIDTH if long else theme.LINE_WIDTH
    curve = Curve(theme.pen(color, width, style, alpha), name=name, connect=connect, long=long)
    plot.addItem(curve)
    curve.setLogMode(False, plot.getAxis("left").logMode)
    if symbol is not None:
        curve.set_symbol(symbol)
    return curve


class SlotCurves:
    """One curve per run slot on one plot, created once. A lone run is drawn in the series'
    own look (`single`: colour, width, Qt pen style or None; `symbol`: its markers, where a
    plot's other series share its line style) under the legend entry `name`; compared runs in
    their slots' styles, with an entry per run naming what differs when `legend_runs` (the
    plot's main series), none otherwise."""

    def __init__(self, plot: pg.PlotItem, single: tuple, *, name: str | None = None, legend_runs: bool = True,
                 long: bool = False, width: float | None = None, alpha: int = 255,
                 compared_width: float | None = None, compared_alpha: int | None = None, connect: str = "finite",
                 compared_dashes: bool = True, symbol: str | None = None):
        self.plot = plot
        self.single = single
        self.symbol = symbol
        self.name = name
        self.legend_runs = legend_runs
        self.width = width if width is not None else single[1]
        self.compared_width = compared_width or (theme.COMPARED_LINE_WIDTH if long else self.width)
        self.alpha = alpha
        self.compared_alpha = compared_alpha if compared_alpha is not None else alpha
        self.compared_dashes = compared_dashes     # False: compared runs told apart by colour alone (ticks)
        self.long = long
        self.curves = [new_curve(plot, single[0], None, width=self.width, style=single[2], alpha=alpha, long=long,
                                 connect=connect) for _ in range(MAX_SLOTS)]
        self._styled: tuple | None = None

    def style(self, slots: list[RunSlot]) -> None:
        """Pens and legend entries for these slots (only when they change)."""
        key = (tuple((slot.index, slot.label) for slot in slots), theme.LOOK.name)
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
                if self.marked:
                    dashes = "solid"          # a wide dashed pen costs Qt 50 times a solid one
                curve.setPen(theme.slot_pen((color, dashes if self.compared_dashes else "solid"),
                                            self.compared_width, self.compared_alpha))
                curve.set_symbol(SLOT_SYMBOLS[k] if self.marked and k < len(slots) else None)
            else:
                curve.setPen(theme.pen(self.single[0], self.width, self.single[2], self.alpha))
                curve.set_symbol(self.symbol if k == 0 else None)
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

    @property
    def marked(self) -> bool:
        """Compared runs over training steps are told apart by a few markers on solid lines,
        at the desk as in the projector's look: their dashes, 3 px wide over thousands of
        points, took a frame 235 ms (three runs at 1280x720), and even 1 px dashes cost Qt
        several times a solid envelope, which is painted as rectangles (`bars`)."""
        return self.long and self.compared_dashes

    def show(self, k: int, x, y) -> None:
        self.curves[k].show_values(x, y)

    def clear(self, k: int) -> None:
        self.curves[k].clear_values()


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


def fold_if_empty(legend) -> None:
    """A legend above its plot (`add_plot`) that names nothing takes no height: a lone run's
    loss has no key, a comparison's has one."""
    empty = not legend.items
    legend.setVisible(not empty)
    legend.setMaximumHeight(0 if empty else 10_000)


EARLIER_COLORS = ("grey", "sky", "purple")      # the earlier runs, faded behind the runs on show
EARLIER_ALPHA = 110
EARLIER_SYMBOL = "x"


class EarlierCurves:
    """The earlier runs (`lab.earlier`: a fork's parent, the runs before a setting changed) drawn
    faded behind the runs on show, each named "… (earlier)" in the key when it has the series.
    A live run's earlier runs keep only their newest probe (`RunHistory.forget_series`), so
    over training steps only a replay's parent has anything to draw."""

    def __init__(self, plot: pg.PlotItem, long: bool = True):
        self.plot = plot
        # faded, and marked with crosses: told from the runs on show by more than a colour
        self.curves = [new_curve(plot, color, None, width=theme.LONG_LINE_WIDTH if long else 3,
                                 alpha=EARLIER_ALPHA, long=long, symbol=EARLIER_SYMBOL) for color in EARLIER_COLORS]
        self._shown: tuple | None = None

    def show(self, earlier: list, name: str, buckets: int | None = None) -> list[np.ndarray]:
        """Draw series `name` of each earlier run; the x and y values drawn, for the ranges."""
        legend = getattr(self.plot, "legend", None)
        key = tuple((id(history), history.generation) for history in earlier)
        drawn = []
        for k, curve in enumerate(self.curves):
            x, y = earlier[k].line(name, buckets) if k < len(earlier) else (np.empty(0), np.empty(0))
            curve.show_values(x, y)
            drawn += [x, y] if x.size else []
            if legend is not None and key != self._shown:
                legend.removeItem(curve)
                if x.size:
                    legend.addItem(curve, f"{earlier[k].label} (earlier)")
        self._shown = key
        return drawn
