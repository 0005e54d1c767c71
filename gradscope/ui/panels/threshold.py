"""The clip threshold the lecturer drags on the gradient-norm plot's log axis: it lands on a
nice value, and Shift drags it finely."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt

NICE_MANTISSAS = (1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0)


def nice_threshold(value: float) -> float:
    """A dragged threshold lands on the nearest of 1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8 times a
    power of ten (in log distance): a few pixels of drag never make 11.2 of 1."""
    if not np.isfinite(value) or value <= 0:
        return float(value)
    decade = np.floor(np.log10(value))
    mantissa = value / 10 ** decade
    best = min(NICE_MANTISSAS, key=lambda nice: abs(np.log10(nice / mantissa)))
    return float(f"{best * 10 ** decade:.3g}")


class ThresholdLine(pg.InfiniteLine):
    """The threshold the user drags; with Shift held it moves a fifth as far as the mouse."""

    FINE = 0.2

    def mouseDragEvent(self, event) -> None:
        fine = bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier)
        if not fine or event.isStart() or not self.moving:
            return super().mouseDragEvent(event)
        event.accept()
        moved = self.mapToParent(event.pos()) - self.mapToParent(event.buttonDownPos())
        self.setPos(self.startPosition + moved * self.FINE)
        self.sigDragged.emit(self)
        if event.isFinish():
            self.moving = False
            self.sigPositionChangeFinished.emit(self)
