"""A few markers along a curve (circles, triangles, squares ...), painted by the curve itself.

Markers tell a plot's series apart where their colour alone would not (a colour-blind student,
a washed-out projector), and compared runs over training steps where dashes cost too much.
`MARKERS_PER_CURVE` of them are spread evenly over the finite points drawn. A
pyqtgraph ScatterPlotItem per curve cost about half a millisecond a paint in Python, a dozen
of them most of a three-run frame; sixteen symbols painted in the curve's own paint cost a
tenth of that, and stamped with one `drawPixmapFragments` call (as ScatterPlotItem does) less
again than sixteen `drawPixmap` calls.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import pyqtgraph as pg
from pyqtgraph import functions as fn
from pyqtgraph.graphicsItems.ScatterPlotItem import renderSymbol
from pyqtgraph.Qt.internals import PrimitiveArray
from PySide6.QtGui import QPainter, QPixmap

MARKERS_PER_CURVE = 16
MARK_PX = 12
FARTHEST_PX = 2.0 ** 30     # Qt crashes on coordinates beyond this (pyqtgraph clips its scatter so too)


@lru_cache(maxsize=64)
def _stamp(symbol: str, rgba: int) -> QPixmap:
    """The symbol drawn once, filled with the colour and no outline, to be stamped at each point."""
    color = pg.mkColor(rgba >> 24 & 255, rgba >> 16 & 255, rgba >> 8 & 255, rgba & 255)
    return QPixmap.fromImage(renderSymbol(symbol, MARK_PX, pg.mkPen(None), pg.mkBrush(color)))


class CurveMarks:
    def __init__(self) -> None:
        self.symbol: str | None = None
        self.points = np.empty((0, 2))          # in the curve's drawn coordinates
        # x, y (the centre), the source rectangle, scale x and y, rotation, opacity: one per mark
        self._fragments = PrimitiveArray(QPainter.PixmapFragment, 10)

    def place(self, x: np.ndarray | None, y: np.ndarray | None) -> None:
        if self.symbol is None or y is None or not len(y):
            self.points = np.empty((0, 2))
            return
        good = np.flatnonzero(np.isfinite(y))
        picked = good[np.linspace(0, good.size - 1, min(MARKERS_PER_CURVE, good.size)).astype(int)] \
            if good.size else good
        self.points = np.column_stack([x[picked], y[picked]])

    @property
    def padding_px(self) -> float:
        """How far past the data the markers reach, for the curve's bounding rectangle."""
        return MARK_PX / 2 + 1 if self.symbol is not None else 0.0

    def paint(self, painter, color) -> None:
        if self.symbol is None or not len(self.points):
            return
        stamp = _stamp(self.symbol, color.red() << 24 | color.green() << 16 | color.blue() << 8 | color.alpha())
        centres = np.clip(fn.transformCoordinates(painter.transform(), self.points.T), -FARTHEST_PX, FARTHEST_PX)
        self._fragments.resize(len(self.points))
        fragments = self._fragments.ndarray()
        fragments[:, 0:2] = centres.T
        fragments[:, 2:6] = (0.0, 0.0, stamp.width(), stamp.height())
        fragments[:, 6:10] = (1.0, 1.0, 0.0, 1.0)
        painter.save()
        painter.resetTransform()                # the symbols are drawn in pixels, not data units
        painter.drawPixmapFragments(*self._fragments.drawargs(), stamp)
        painter.restore()
