"""Small images laid out as one: filters, feature maps and test images as tiles of a grid,
each scaled so that its own pattern reads (`gradscope.ui.panels.filters`, `.images`)."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from gradscope.ui import theme
from gradscope.ui.panels.painted_image import PaintedImage

GAP = 1                      # px of blank between tiles


def tiled(blocks: np.ndarray, columns: int, gap: int = GAP) -> np.ndarray:
    """[n, h, w] as one image, the blocks in rows of `columns`, NaN (drawn blank) between.

    Laid out by one reshape, not a copy per block: a deep layer's 64 x 64 filters are 4,096
    blocks, and copying them one by one in Python cost most of the Filters panel's redraw."""
    n, h, w = blocks.shape
    rows = max(-(-n // max(columns, 1)), 1)
    cells = np.full((rows * columns, h + gap, w + gap), np.nan, dtype=np.float32)
    cells[:n, :h, :w] = blocks
    out = cells.reshape(rows, columns, h + gap, w + gap).transpose(0, 2, 1, 3).reshape(
        rows * (h + gap), columns * (w + gap))
    return np.ascontiguousarray(out[:out.shape[0] - gap, :out.shape[1] - gap])


def unit_range(blocks: np.ndarray) -> np.ndarray:
    """[n, h, w], each block scaled to [0, 1] by its own minimum and maximum (a flat one to 0)."""
    blocks = np.asarray(blocks, dtype=np.float64)
    low = blocks.reshape(blocks.shape[0], -1).min(axis=1)[:, None, None]
    high = blocks.reshape(blocks.shape[0], -1).max(axis=1)[:, None, None]
    return (blocks - low) / np.where(high > low, high - low, 1.0)


def enlarged(blocks: np.ndarray, size: int) -> np.ndarray:
    """[n, h, w] enlarged to [n, size, size], pixels repeated (a pooled map keeps its blocks),
    NaN where a block does not fill the square."""
    factor = max(size // max(blocks.shape[1], 1), 1)
    grown = blocks.repeat(factor, axis=1).repeat(factor, axis=2)
    out = np.full((blocks.shape[0], size, size), np.nan)
    out[:, :min(size, grown.shape[1]), :min(size, grown.shape[2])] = grown[:, :size, :size]
    return out


def image_plot(layout, row: int, title: str, col: int = 0, colspan: int = 1,
               item: type[pg.ImageItem] = PaintedImage) -> tuple[pg.PlotItem, pg.ImageItem]:
    """A plot without axes holding one image (an `item`), pixels square, row 0 at the top."""
    plot = layout.addPlot(row=row, col=col, colspan=colspan)
    plot.gradscope_images = True           # theme.style_axes draws it no grid
    theme.style_plot(plot, title, "", "")
    plot.hideAxis("left")
    plot.hideAxis("bottom")
    plot.invertY(True)
    plot.setAspectLocked(True)
    plot.setMouseEnabled(False, False)
    image = item(axisOrder="row-major")
    plot.addItem(image)
    return plot, image
