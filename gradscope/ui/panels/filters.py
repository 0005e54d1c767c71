"""What a convolutional run's conv layers have learned: the filters of a conv layer at the
latest probe (the menu over the plot picks which), one tile per output and input channel, each
filter scaled by its own largest |weight| and drawn in a colour-blind-safe diverging map with
white at zero, so a filter's pattern reads whatever its size; and below, the first conv layer's
filters over training, a strip of snapshots at probes spread from the first to the newest
(`gradscope.lab.snapshots`), labelled with their steps. (What the layers see of an image is the
Images panel's, `gradscope.ui.panels.images`.)
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QComboBox

from gradscope.series import FILTERS, SNAPSHOTTED
from gradscope.ui import theme
from gradscope.ui.panels.base import Panel, set_title
from gradscope.ui.panels.tiles import GAP, image_plot, tiled

DIVERGING = "CET-CBD1"       # colorcet's colour-blind-safe diverging map: blue, white at zero, yellow
SNAPSHOT_GAP = 3             # px of blank between two snapshots (filters within one are a pixel apart)


def normalised_filters(filters: np.ndarray) -> np.ndarray:
    """[C_out, C_in, K, K] -> [C_in * C_out, K, K], each output channel's filter divided by its
    largest |weight| (in [-1, 1]), input channel by input channel."""
    filters = np.asarray(filters, dtype=np.float64)
    scale = np.abs(filters).reshape(filters.shape[0], -1).max(axis=1)
    scaled = filters / np.where(scale > 0, scale, 1.0)[:, None, None, None]
    return scaled.transpose(1, 0, 2, 3).reshape(-1, *filters.shape[2:])


def filter_columns(filters: np.ndarray) -> int:
    """Tiles a row: a first layer's (one input channel) in a near-square grid, a deeper one's
    an output channel a column and an input channel a row."""
    out, inputs = filters.shape[:2]
    return int(np.ceil(np.sqrt(out))) if inputs == 1 else out


def snapshot_columns(tiles: int, tile_shape: tuple[int, int], snapshots: int, width: float, height: float) -> int:
    """Columns of each snapshot's grid of `tiles` filters, for the biggest tiles in a strip of
    `snapshots` side by side in a `width` x `height` px box: a wide, low strip takes them in few
    rows, a tall one in many. (In one 3 x 2 grid each, five snapshots of a LeNet's six 5x5
    filters were 12 px tiles in presentation mode's 630 x 200 px strip, with 100 px empty above
    and below.)"""
    rows_px, columns_px = tile_shape
    best, best_scale = 1, -1.0
    for columns in range(1, max(tiles, 1) + 1):
        rows = -(-tiles // columns)
        strip_w = snapshots * (columns * (columns_px + GAP) - GAP) + (snapshots - 1) * SNAPSHOT_GAP
        strip_h = rows * (rows_px + GAP) - GAP
        scale = min(width / strip_w, height / strip_h) if width > 0 and height > 0 else 1.0 / strip_w
        if scale > best_scale * 1.0001:
            best, best_scale = columns, scale
    return best


def conv_layers(latest: dict) -> list[int]:
    prefix = FILTERS.pattern.split("{")[0]
    return sorted(int(name[len(prefix):]) for name in latest if name.startswith(prefix))


class FiltersPanel(Panel):
    title = "Filters"
    name = "filters"
    kinds = ("image",)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.filter_plot, self.filter_image = image_plot(self.graphics.ci, 0, "Filters")
        self.filter_image.setColorMap(pg.colormap.get(DIVERGING))
        self.filter_bar = pg.ColorBarItem(values=(-1, 1), colorMap=pg.colormap.get(DIVERGING), interactive=False,
                                          width=theme.COLORBAR_WIDTH, label="w / max |w|")
        self.filter_bar.setImageItem(self.filter_image, insert_in=self.filter_plot)
        theme.style_colorbar(self.filter_bar)
        # every half a tick, named: the projector's type otherwise leaves the blue half unlabelled
        self.filter_bar.axis.setTicks([[(value, f"{value:g}") for value in (-1, -0.5, 0, 0.5, 1)]])
        self.history_plot, self.history_image = image_plot(self.graphics.ci, 1, "Conv layer 1's filters at "
                                                                                "the steps below")
        self.history_image.setColorMap(pg.colormap.get(DIVERGING))
        # its ticks name each snapshot's step: the snapshots stand evenly, their steps need not
        # (the probes kept), so the axis has no line to read as a linear scale, and no label
        # (the title says it)
        self.history_plot.showAxis("bottom")
        self.history_plot.getAxis("bottom").setPen(pg.mkPen(None))
        self.graphics.ci.layout.setRowStretchFactor(0, 3)
        self.graphics.ci.layout.setRowStretchFactor(1, 2)
        self.layer = QComboBox(self.graphics)
        self.layer.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.layer.setToolTip("The conv layer whose filters are shown")
        self.layer.currentIndexChanged.connect(lambda _: self.invalidate())
        self._layers: list[int] = []
        self._history_box: tuple[float, float] | None = None    # the snapshots' box they were laid out for
        self.snapshot_grid_columns = 0

    def _place_menu(self) -> None:
        """In the title row, at the right end of the filters' view box: clear of the colour
        bar's ticks beside it, and the title is elided short of it."""
        self.layer.adjustSize()
        right = self.graphics.mapFromScene(self.filter_plot.vb.sceneBoundingRect().topRight()).x()
        self.layer.move(max(int(right) - self.layer.width(), 0), 2)
        self.filter_plot._gradscope_readout_px = self.layer.width() + 8.0

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._place_menu()
        box = self.history_plot.vb.size()
        if self._history_box not in (None, (box.width(), box.height())):
            self.invalidate()        # the snapshots' grid follows the strip's shape (`snapshot_columns`)

    def draw(self, lab) -> None:
        run = lab.slots[0].history
        latest = run.latest
        layers = conv_layers(latest)
        if layers != self._layers:
            self._layers = layers
            self.layer.blockSignals(True)
            self.layer.clear()
            self.layer.addItems([f"conv layer {k + 1}" for k in layers])
            self.layer.blockSignals(False)
            self.layer.adjustSize()
        self._place_menu()
        self.layer.setVisible(bool(layers))
        if not layers:
            return
        k = layers[max(self.layer.currentIndex(), 0)]
        filters = latest[FILTERS.name(k=k)]
        tiles = normalised_filters(filters)
        self.filter_image.setImage(tiled(tiles, columns=filter_columns(filters)), levels=(-1, 1), autoLevels=False)
        set_title(self.filter_plot, f"Filters: {filters.shape[0]} × {filters.shape[1]}, "
                                    f"{filters.shape[2]}x{filters.shape[3]}")
        self.filter_plot.titleLabel.setToolTip(f"At the probe of step {run.latest_step:,}")
        self._draw_history(run)

    def _draw_history(self, run) -> None:
        snapshots = run.snapshots[SNAPSHOTTED[0]].spread() if SNAPSHOTTED[0] in run.snapshots else []
        if not snapshots:
            self.history_image.clear()
            return
        filters = snapshots[-1][1]
        box = self.history_plot.vb.size()
        columns = snapshot_columns(filters.shape[0] * filters.shape[1], filters.shape[2:], len(snapshots),
                                   box.width(), box.height())
        self._history_box = (box.width(), box.height())
        self.snapshot_grid_columns = columns
        grids = [tiled(normalised_filters(array), columns) for _, array in snapshots]
        height, width = grids[0].shape
        strip = tiled(np.stack(grids), len(grids), gap=SNAPSHOT_GAP)
        self.history_image.setImage(strip, levels=(-1, 1), autoLevels=False)
        self.history_plot.getAxis("bottom").setTicks([[(index * (width + SNAPSHOT_GAP) + width / 2, f"{step:,}")
                                                       for index, (step, _) in enumerate(snapshots)]])
        self.history_plot.setRange(xRange=(-0.5, strip.shape[1] + 0.5), yRange=(-0.5, height + 0.5), padding=0)
