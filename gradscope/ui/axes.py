"""An axis that never labels more ticks than fit: pyqtgraph always draws the labels of its
first tick level, and on a short log axis spanning under a decade that level is 0.7, 0.8, 0.9,
1, 2, 3 ... one on top of the other. `ReadableAxis` keeps every k-th tick of that level (the
decades first, on a log axis) so that the labels stand at least a label's height (or width)
apart. Every plot the panels style gets one (`theme.style_plot`)."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QFontMetricsF

GAP = 1.35              # the room a label needs along the axis, in label heights (or widths)


class ReadableAxis(pg.AxisItem):
    def tickValues(self, minVal, maxVal, size):
        levels = super().tickValues(minVal, maxVal, size)
        if not levels or size <= 0:
            return levels
        spacing, values = levels[0]
        values = np.asarray(values, dtype=np.float64)
        if values.size < 2 or maxVal <= minVal:
            return levels
        room = self._room(values, spacing) * (maxVal - minVal) / size      # a label's room, in data units
        kept = _spaced(values, room, self.logMode)
        if len(kept) == values.size:
            return levels
        return [(spacing, kept)] + list(levels[1:])

    def _room(self, values: np.ndarray, spacing: float) -> float:
        font = self.style.get("tickFont")
        metrics = QFontMetricsF(font) if font is not None else QFontMetricsF(self.font())
        if self.orientation in ("left", "right"):
            return metrics.height() * GAP
        texts = self.tickStrings(list(values), self.autoSIPrefixScale * self.scale, spacing)
        widest = max((metrics.horizontalAdvance(text) for text in texts), default=metrics.height())
        return widest * GAP


def _spaced(values: np.ndarray, room: float, log: bool) -> list[float]:
    """The values whose labels stand `room` apart, chosen greedily: on a log axis the whole
    decades first, then the others where they fit (a log axis's minor ticks are not evenly
    spaced, so a count alone would not do)."""
    order = list(values)
    if log:
        whole = np.isclose(values, np.round(values))
        order = list(values[whole]) + list(values[~whole])
    kept: list[float] = []
    for value in order:
        if all(abs(value - other) >= room for other in kept):
            kept.append(float(value))
    return sorted(kept)
