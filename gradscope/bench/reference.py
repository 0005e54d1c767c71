"""The machine's own speed, measured beside the window's figures.

The machines gradscope is benched on swing in speed (a shared VM ran the same frame at 6 ms one
day and 13 ms the next). A frame's milliseconds alone cannot tell a slower frame from a slower
machine, so `gradscope bench --gui` times this fixed paint at its start and at its end: the
kind of work a frame is mostly made of (thick non-antialiased polylines and a few labels, as
the projector's look draws them), in a panel-sized image, with no gradscope code involved.
Its figure changes with the machine alone; a frame divided by it (`frames_over_reference`)
changes with the machine far less than the frame's milliseconds do, and with the code as much.
"""
from __future__ import annotations

import statistics
import time

import numpy as np

IMAGE_PX = (640, 650)          # a stage panel in presentation mode at 1280x720
LINES = 6                      # a panel's curves: three runs, two series each
POINTS = 320                   # a line's vertices: one per 2 px bucket of a 640 px plot
PEN_PX = 3                     # the presentation look's data line
LABELS = 30                    # tick labels, titles and a key
REPEATS = 15


def _polylines(rng: np.random.Generator) -> list:
    from PySide6.QtCore import QPointF
    from PySide6.QtGui import QPolygonF

    width, height = IMAGE_PX
    x = np.linspace(40.0, width - 10.0, POINTS)
    lines = []
    for _ in range(LINES):
        y = np.clip(height / 2 + np.cumsum(rng.normal(0.0, 6.0, POINTS)), 10.0, height - 30.0)
        lines.append(QPolygonF([QPointF(float(a), float(b)) for a, b in zip(x, y)]))
    return lines


def paint_once(image, lines: list) -> None:
    """One fixed paint of `lines` and `LABELS` labels into `image`."""
    from PySide6.QtCore import QPointF, Qt
    from PySide6.QtGui import QColor, QFont, QPainter, QPen

    image.fill(QColor("white"))
    painter = QPainter(image)
    try:
        font = QFont()
        font.setPixelSize(16)
        painter.setFont(font)
        for index, line in enumerate(lines):
            pen = QPen(QColor.fromHsv((index * 37) % 360, 220, 180), PEN_PX)
            pen.setCapStyle(Qt.PenCapStyle.FlatCap)
            painter.setPen(pen)
            painter.drawPolyline(line)
        painter.setPen(QPen(QColor("black"), 1))
        for index in range(LABELS):
            painter.drawText(QPointF(4.0, 20.0 + index * 20.0), f"{10.0 ** -(index % 6):g}")
    finally:
        painter.end()


def paint_reference_ms(repeats: int = REPEATS) -> float:
    """The median time of the fixed paint, in ms (a QGuiApplication must exist)."""
    from PySide6.QtGui import QImage

    image = QImage(*IMAGE_PX, QImage.Format.Format_ARGB32_Premultiplied)
    lines = _polylines(np.random.default_rng(0))
    paint_once(image, lines)               # the first paint loads the font and caches glyphs
    times = []
    for _ in range(repeats):
        began = time.perf_counter()
        paint_once(image, lines)
        times.append((time.perf_counter() - began) * 1000.0)
    return statistics.median(times)
