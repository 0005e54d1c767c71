"""A heatmap of a per-probe profile over training: one row per probed step, log10 of the
values in colour (`gradscope.lab.envelope.Heatmap`), with its colour bar. The error signal
through time (timestep x step) and through depth (layer x step) are both drawn by one.

The colour scale and the step axis move only when the data leaves them, as the curves'
ranges do: colours that shift every probe cannot be read, and an axis that changes every
frame re-lays out the plot every frame. A replay's step axis holds the whole recording.
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
        self.colorbar = pg.ColorBarItem(colorMap=pg.colormap.get(theme.HEATMAP), interactive=False, width=16)
        self.colorbar.setImageItem(self.image, insert_in=plot)
        plot.disableAutoRange()
        self.levels = RangeKeeper()                  # the colour scale, in decades
        self.steps: tuple[float, float] | None = None
        self.columns: int | None = None

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
