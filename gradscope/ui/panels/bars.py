"""A long series' min/max envelope, and a plot's tick marks, painted as filled rectangles.

A run's history hands a series over training steps to its curve as a min/max envelope: two
points per bucket at the bucket's first step (`gradscope.lab.envelope.Series.line`). Drawn as a
line, each bucket is a vertical stroke plus a diagonal to the next one, and Qt strokes a line
wider than 1 px a segment at a time through its general path stroker: the projector's 3 px
envelopes were most of a frame (1.6 ms for 160 buckets, measured). The same picture as
axis-aligned rectangles, one per bucket, filled without a pen, costs a tenth of that (0.16 ms).

* `band`: each bucket's rectangle spans from its first step to the next bucket's, and from its
  minimum to its maximum, reaching the neighbour on its left where the two do not overlap: the
  diagonal a line would have drawn becomes part of the band, and a band has no gaps.
* `ticks`: each pair is a tick of its own (clip markers), as wide as the pen.

Either is at least as high as the pen is wide, centred on its value, so a flat stretch still
reads as a line of the width the look asks for.
"""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF, Qt

try:                               # pyqtgraph's array of QRectF that numpy writes into directly
    from pyqtgraph.Qt.internals import PrimitiveArray
except ImportError:                # pragma: no cover - older pyqtgraph: a list of QRectF instead
    PrimitiveArray = None


def paired(x: np.ndarray) -> bool:
    """Whether x holds each step twice (an envelope's or a tick's two ends)."""
    return x.size >= 2 and x.size % 2 == 0 and bool(np.array_equal(x[0::2], x[1::2]))


def rectangles(x: np.ndarray, y: np.ndarray, pixel_x: float, pixel_y: float, pen_px: float,
               band: bool) -> np.ndarray:
    """[n, 4] (left, bottom, width, height) in data units; `pixel_x`, `pixel_y`: one device
    pixel in data units along each axis (positive). Each column is filled in place, in one
    array: a band is worked out at every paint, and the temporaries of a column stack had cost
    it twice as much (measured side by side: 46 to 145 µs a call for 100 to 1,000 buckets,
    against 22 to 63, the rectangles identical)."""
    steps, first, second = x[0::2], y[0::2], y[1::2]
    n = steps.size
    out = np.empty((n, 4))
    left, bottom, width, height = out.T          # views of the columns
    lo, hi = np.fmin(first, second), np.fmax(first, second)     # NaN only where both are
    if band:
        if n > 1:
            np.subtract(steps[1:], steps[:-1], out=width[:-1])
            width[-1] = width[-2]
            np.maximum(width, pen_px * pixel_x, out=width)
        else:
            width[:] = pen_px * pixel_x
        left[:] = steps
        if n > 1:     # reach the neighbour on the left: no gap where the two do not overlap
            gap = np.isnan(lo[1:])               # an empty bucket stays a gap
            lo[1:], hi[1:] = np.fmin(lo[1:], hi[:-1]), np.fmax(hi[1:], lo[:-1])
            lo[1:][gap] = np.nan
    else:
        width[:] = pen_px * pixel_x
        np.subtract(steps, width / 2, out=left)
    np.subtract(hi, lo, out=height)
    grow = np.maximum(pen_px * pixel_y - height, 0.0)            # NaN stays NaN
    np.subtract(lo, grow / 2, out=bottom)
    height += grow
    shown = np.isfinite(out).all(axis=1)
    return out if shown.all() else out[shown]


WIDEST_BAR_PENS = 2.0      # a band's buckets wider than this many pen widths are drawn as a line,
WIDEST_BAR_PX = 5.0        # and wider than this many px (a 1 px pen's band of 2 px buckets is a band)


class BarsPainter:
    """Paints `rectangles` with a painter, reusing one array of QRectF between frames."""

    def __init__(self) -> None:
        self._array = PrimitiveArray(QRectF, 4) if PrimitiveArray is not None else None

    @staticmethod
    def suits(painter, x: np.ndarray, pen) -> bool:
        """Whether a band of these buckets reads as a line: a bucket a few pixels wide does,
        one wider than `WIDEST_BAR_PENS` pen widths is a block (a short run, or one zoomed
        into), and a line through its minima and maxima draws it better."""
        steps = x[0::2]
        if steps.size < 2:
            return True
        # the mean spacing: buckets are of one stride (the newest may be filling), and a median
        # cost a third of the paint of a thin band
        bucket_px = float(steps[-1] - steps[0]) / (steps.size - 1) * abs(painter.transform().m11())
        return bucket_px <= max(WIDEST_BAR_PENS * max(pen.widthF(), 1.0), WIDEST_BAR_PX)

    def paint(self, painter, x: np.ndarray, y: np.ndarray, pen, band: bool) -> None:
        transform = painter.transform()
        # device pixels per data unit: the view's scale (a plot's transform has no rotation)
        scale_x, scale_y = abs(transform.m11()), abs(transform.m22())
        if scale_x == 0 or scale_y == 0:
            return
        pen_px = max(pen.widthF(), 1.0)
        rects = rectangles(x, y, 1.0 / scale_x, 1.0 / scale_y, pen_px, band)
        if rects.size == 0:
            return
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(pen.color())
        if self._array is None:
            painter.drawRects([QRectF(*row) for row in rects])
            return
        self._array.resize(len(rects))
        self._array.ndarray()[:] = rects
        painter.drawRects(*self._array.drawargs())
