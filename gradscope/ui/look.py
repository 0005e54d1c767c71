"""Switching looks (`gradscope.ui.theme`: the desk's, the projector's) on a window already
drawn: every plot's title, axes and grid, every pen's width, every legend's type, and the
font sizes of the window's own widgets.

New items follow the look by themselves (`theme.pen`, `theme.style_plot`); this pass is for
what exists when the look changes. Each item keeps the width it was made with
(`_gradscope_width`), so the desk's look comes back exactly.
"""
from __future__ import annotations

import re

import pyqtgraph as pg
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QApplication, QWidget

from gradscope.ui import theme
from gradscope.ui.panels.heatmap_view import ColorBarRoom

FONT_SIZE = re.compile(r"font-size:\s*(\d+(?:\.\d+)?)pt")


def apply_look(look: theme.Look, window: QWidget, panels) -> None:
    theme.use_look(look)
    for panel in panels:
        restyle_scene(panel.graphics.scene())
        panel.invalidate()
    restyle_widgets(window, look)


def restyle_scene(scene) -> None:
    for item in scene.items():
        if isinstance(item, pg.ColorBarItem):      # a PlotItem, but not styled as a plot
            theme.style_colorbar(item)
        elif isinstance(item, ColorBarRoom):
            item.restyle()
        elif isinstance(item, pg.PlotItem):
            title = getattr(item, "_gradscope_title", None)
            if title is not None:
                theme.set_plot_title(item, title)
            theme.style_axes(item)
        elif isinstance(item, (pg.PlotCurveItem, pg.PlotDataItem)):
            pen = item.opts.get("pen")
            if pen is not None and not isinstance(pen, (str, tuple)):
                item.setPen(_widened(item, pg.mkPen(pen)))
        elif isinstance(item, pg.InfiniteLine):
            item.setPen(_widened(item, pg.mkPen(item.pen)))
            theme.style_line_label(item)
        elif isinstance(item, pg.LegendItem):
            item.opts["labelTextSize"] = f"{theme.LOOK.label_px}px"
            for _, label in item.items:
                label.setText(label.text, size=f"{theme.LOOK.label_px}px")


def _widened(item, pen):
    base = getattr(item, "_gradscope_width", None)
    if base is None:
        base = item._gradscope_width = pen.widthF() if pen.widthF() > 0 else 1.0
    pen.setWidthF(theme.line_width(base))
    return pen


def restyle_widgets(window: QWidget, look: theme.Look) -> None:
    """The window's fonts: the application's, and every `font-size: Npt` a widget's style sheet
    names, scaled from the size it was written with."""
    scale = look.text_points / theme.FONT_POINTS
    app = QApplication.instance()
    if app is not None:
        font = QFont(app.font())
        font.setPointSize(look.text_points)
        app.setFont(font)
    for widget in [window, *window.findChildren(QWidget)]:
        sheet = widget.property("gradscope_sheet") or widget.styleSheet()
        if "font-size" not in sheet:
            continue
        widget.setProperty("gradscope_sheet", sheet)
        widget.setStyleSheet(FONT_SIZE.sub(lambda match: f"font-size: {float(match.group(1)) * scale:.0f}pt", sheet))
