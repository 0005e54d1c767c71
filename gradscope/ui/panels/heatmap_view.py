"""A heatmap of a per-probe profile over training: one row per probed step, log10 of the
values in colour (`gradscope.lab.envelope.Heatmap`), with its colour bar. The error signal
through time (timestep x step) and through depth (layer x step) are both drawn by one.

The colour scale and the step axis move only when the data leaves them, as the curves'
ranges do: colours that shift every probe cannot be read, and an axis that changes every
frame re-lays out the plot every frame. A replay's step axis holds the whole recording.

A heatmap's x axis is the plot's above (the error signal's timesteps, the depth's layers), and
its colour bar stands to its right: the plot above keeps an empty column as wide as the bar
(`ColorBarRoom`), so that timestep t is at the same x in both.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF

from gradscope.ui import theme
from gradscope.ui.panels.base import set_title
from gradscope.ui.panels.ranges import RangeKeeper, grown_span
from gradscope.ui.panels.painted_image import PaintedImage


class HeatmapView:
    def __init__(self, plot: pg.PlotItem, title: str, across: str, origin: float = 0.0):
        """`origin`: where the first column stands on the axis across (timestep 0, layer 1)."""
        self.plot = plot
        self.origin = float(origin)
        self.title = title
        theme.style_plot(plot, title, "training step", across)
        self.image = PaintedImage(axisOrder="row-major")
        self.image.setColorMap(pg.colormap.get(theme.HEATMAP))
        plot.addItem(self.image)
        self.colorbar = pg.ColorBarItem(colorMap=pg.colormap.get(theme.HEATMAP), interactive=False,
                                        width=theme.COLORBAR_WIDTH)
        self.colorbar.setImageItem(self.image, insert_in=plot)
        theme.style_colorbar(self.colorbar)
        plot.disableAutoRange()
        self.levels = RangeKeeper()                  # the colour scale, in decades
        self.steps: tuple[float, float] | None = None
        self.columns: int | None = None

    def line_up_under(self, above: pg.PlotItem) -> None:
        """`above`, the plot over this one with the same x axis, keeps the colour bar's room."""
        ColorBarRoom(above)

    def draw(self, heatmap, extent, label: str = "", across: tuple[float, float] | None = None) -> None:
        """`heatmap`: a lab Heatmap (rows of log10 values and their steps); `extent`: a
        replay's recorded steps, or None live; `across`: the range of the axis across, when
        it must line up with a plot's above (default: the columns')."""
        image = heatmap.filled
        if image is None or image.shape[0] == 0:
            return
        finite = image[np.isfinite(image)]
        if finite.size == 0:
            return
        set_title(self.plot, self.title + (f" ({label})" if label else ""))
        steps = heatmap.steps
        first, last = float(steps[0]), float(steps[-1])
        height = max(last - first, 1.0) * image.shape[0] / max(image.shape[0] - 1, 1)
        self.levels.update(None, [finite], x_fixed=(0.0, 1.0))
        low, high = self.levels.y
        self.image.setImage(image, levels=(low, high), autoLevels=False)
        self.image.setRect(QRectF(self.origin - 0.5, first, float(image.shape[1]), height))
        if self.colorbar.levels() != (low, high):
            self.colorbar.setLevels((low, high))
        span = grown_span(self.steps, first, first + height) if extent is None else (
            extent if extent != self.steps else None)
        across = across or (self.origin - 0.5, self.origin + image.shape[1] - 0.5)
        if span is not None or self.columns != across:
            self.steps = span or self.steps
            self.columns = across
            self.plot.setRange(xRange=across, yRange=self.steps, padding=0)


class ColorBarRoom(pg.GraphicsWidget):
    """An empty column at the right of a plot, where the plot below has its colour bar, and as
    wide (`theme.colorbar_room`): where pyqtgraph's `ColorBarItem.setImageItem(insert_in=)` puts
    the bar in the plot's own layout (row 2, column 5, after a 5 px column 4), this stands in the
    plot above. `gradscope.ui.look` re-sizes it with the look."""

    def __init__(self, plot: pg.PlotItem):
        super().__init__(plot)
        self.plot = plot
        plot.layout.addItem(self, 2, 5)
        plot.layout.setColumnFixedWidth(4, theme.COLORBAR_GAP)
        # the title row reaches over the room too: the title and its readout need it more
        plot.layout.removeItem(plot.titleLabel)
        plot.layout.addItem(plot.titleLabel, 0, 1, 1, 5)
        self.restyle()

    def restyle(self) -> None:
        self.setFixedWidth(theme.colorbar_room() - theme.COLORBAR_GAP)
        self.plot._gradscope_title_over_px = float(theme.colorbar_room())   # (`fitting.fit_title`)
