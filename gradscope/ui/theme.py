"""Looks that carry to the back of a lecture room: white background, thick lines, big type,
colours that stay apart on a washed-out projector (Okabe-Ito)."""
from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont

FONT_POINTS = 12
AXIS_POINTS = 12
TITLE_SIZE = "14pt"
AXIS_WIDTH = 64            # px for the left axis's ticks and their labels (the title is added)
LINE_WIDTH = 3            # curves over timesteps (a few hundred points)
LONG_LINE_WIDTH = 1       # curves over training steps (up to 2,048 points: 2 px costs 1.5x the frame)

# Okabe-Ito: distinguishable with the common colour blindnesses, and on a projector
COLORS = {
    "blue": "#0072B2", "orange": "#E69F00", "green": "#009E73", "red": "#D55E00",
    "purple": "#CC79A7", "sky": "#56B4E9", "yellow": "#C9B400", "black": "#000000", "grey": "#777777",
}
SERIES_COLORS = ["blue", "orange", "green", "red", "purple", "sky", "yellow"]
HEATMAP = "viridis"
DASHES = {"solid": Qt.PenStyle.SolidLine, "dash": Qt.PenStyle.DashLine, "dot": Qt.PenStyle.DotLine}
# curves of compared runs over training steps: a dashed pen wider than 1 px costs Qt 50 times a
# solid one (155 ms for three 2,048-point curves, measured), a 1 px dash no more than a line
COMPARED_LINE_WIDTH = 1


def configure() -> None:
    pg.setConfigOptions(background="w", foreground="k", antialias=False, imageAxisOrder="row-major")


def pen(color: str, width: float = LINE_WIDTH, style=None, alpha: int = 255):
    qcolor = QColor(COLORS.get(color, color))
    qcolor.setAlpha(alpha)
    options = {"color": qcolor, "width": width}
    if style is not None:
        options["style"] = style
    return pg.mkPen(**options)


def slot_pen(style: tuple[str, str], width: float = LINE_WIDTH, alpha: int = 255):
    """The pen of a run slot (`gradscope.lab.slots.SLOT_STYLES`): its colour and its dashes."""
    color, dashes = style
    return pen(color, width, DASHES[dashes], alpha)


def brush(color: str, alpha: int = 255):
    qcolor = QColor(COLORS.get(color, color))
    qcolor.setAlpha(alpha)
    return pg.mkBrush(qcolor)


def style_plot(plot: pg.PlotItem, title: str, left: str, bottom: str) -> None:
    plot.setTitle(title, size=TITLE_SIZE)
    font = QFont()
    font.setPointSize(AXIS_POINTS)
    for name, label in (("left", left), ("bottom", bottom)):
        axis = plot.getAxis(name)
        axis.setLabel(label, **{"font-size": f"{AXIS_POINTS}pt"})
        axis.setTickFont(font)
        axis.enableAutoSIPrefix(False)   # "(x1e+09)" on a log axis only confuses
        # axes repaint with every plot; cached, they redraw only when their ticks change
        axis.setCacheMode(axis.CacheMode.DeviceCoordinateCache)
        axis.setPen(pen("black", 1))
        if name == "left":
            # a fixed width: tick labels that grow ("900" to "1000") would otherwise re-lay out
            # the whole panel, which then paints twice
            axis.setWidth(AXIS_WIDTH)
        axis.setTextPen(pen("black", 1))
    plot.showGrid(x=True, y=True, alpha=0.25)
    plot.setMenuEnabled(True)
    plot.hideButtons()
