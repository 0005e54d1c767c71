"""What a convolutional run's layers have learned and what they see, at the latest probe:

* the filters of a conv layer (the menu over the plot picks which), one tile per output and
  input channel, each filter scaled by its own largest |weight| and drawn in a colour-blind-
  safe diverging map with white at zero, so a filter's pattern reads whatever its size;
* the feature maps of the first probe image, a row per conv layer, each map scaled to its own
  range (the deeper, pooled maps enlarged to the first layer's size).
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QComboBox

from gradscope.series import FEATURE_MAPS, FILTERS
from gradscope.ui import theme
from gradscope.ui.panels.base import Panel, set_title

DIVERGING = "CET-CBD1"       # colorcet's colour-blind-safe diverging map: blue, white at zero, yellow
MAPS_SHOWN = 8               # feature maps a layer shows
LAYERS_SHOWN = 6             # conv layers whose feature maps are shown: the first, the last, between
GAP = 1                      # px of blank between tiles


def tiled(blocks: np.ndarray, columns: int, gap: int = GAP) -> np.ndarray:
    """[n, h, w] as one image, the blocks in rows of `columns`, NaN (drawn blank) between."""
    n, h, w = blocks.shape
    rows = max(-(-n // max(columns, 1)), 1)
    out = np.full((rows * (h + gap) - gap, columns * (w + gap) - gap), np.nan, dtype=np.float32)
    for index in range(n):
        row, column = divmod(index, columns)
        out[row * (h + gap):row * (h + gap) + h, column * (w + gap):column * (w + gap) + w] = blocks[index]
    return out


def normalised_filters(filters: np.ndarray) -> np.ndarray:
    """[C_out, C_in, K, K] -> [C_in * C_out, K, K], each output channel's filter divided by its
    largest |weight| (in [-1, 1]), input channel by input channel."""
    filters = np.asarray(filters, dtype=np.float64)
    scale = np.abs(filters).reshape(filters.shape[0], -1).max(axis=1)
    scaled = filters / np.where(scale > 0, scale, 1.0)[:, None, None, None]
    return scaled.transpose(1, 0, 2, 3).reshape(-1, *filters.shape[2:])


def scaled_maps(maps: np.ndarray, size: int, shown: int = MAPS_SHOWN) -> np.ndarray:
    """The first `shown` feature maps [C, H, W], each scaled to [0, 1] and enlarged to `size`
    (pixels repeated: a pooled map keeps its blocks)."""
    maps = np.asarray(maps, dtype=np.float64)[:shown]
    low = maps.reshape(maps.shape[0], -1).min(axis=1)[:, None, None]
    high = maps.reshape(maps.shape[0], -1).max(axis=1)[:, None, None]
    unit = (maps - low) / np.where(high > low, high - low, 1.0)
    factor = max(size // max(maps.shape[1], 1), 1)
    unit = unit.repeat(factor, axis=1).repeat(factor, axis=2)
    out = np.full((unit.shape[0], size, size), np.nan)
    out[:, :min(size, unit.shape[1]), :min(size, unit.shape[2])] = unit[:, :size, :size]
    return out


def spread(layers: list[int], count: int = LAYERS_SHOWN) -> list[int]:
    """At most `count` of the layers, evenly spread, the first and the last among them."""
    if len(layers) <= count:
        return list(layers)
    picks = np.unique(np.round(np.linspace(0, len(layers) - 1, count)).astype(int))
    return [layers[i] for i in picks]


def filter_columns(filters: np.ndarray) -> int:
    """Tiles a row: a first layer's (one input channel) in a near-square grid, a deeper one's
    an output channel a column and an input channel a row."""
    out, inputs = filters.shape[:2]
    return int(np.ceil(np.sqrt(out))) if inputs == 1 else out


def conv_layers(latest: dict) -> list[int]:
    prefix = FILTERS.pattern.split("{")[0]
    return sorted(int(name[len(prefix):]) for name in latest if name.startswith(prefix))


def _image_plot(layout, row: int, title: str) -> tuple[pg.PlotItem, pg.ImageItem]:
    plot = layout.addPlot(row=row, col=0)
    theme.style_plot(plot, title, "", "")
    plot.hideAxis("left")
    plot.hideAxis("bottom")
    plot.invertY(True)
    plot.setAspectLocked(True)
    plot.setMouseEnabled(False, False)
    image = pg.ImageItem(axisOrder="row-major")
    plot.addItem(image)
    return plot, image


class FiltersPanel(Panel):
    title = "Filters and feature maps"
    name = "filters"
    kinds = ("image",)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.filter_plot, self.filter_image = _image_plot(self.graphics.ci, 0, "Filters")
        self.filter_image.setColorMap(pg.colormap.get(DIVERGING))
        self.filter_bar = pg.ColorBarItem(values=(-1, 1), colorMap=pg.colormap.get(DIVERGING), interactive=False,
                                          width=16, label="weight / max |weight|")
        self.filter_bar.setImageItem(self.filter_image, insert_in=self.filter_plot)
        self.maps_plot, self.maps_image = _image_plot(self.graphics.ci, 1, "Feature maps of the probe image")
        self.maps_image.setColorMap(pg.colormap.get(theme.HEATMAP))
        self.layer = QComboBox(self.graphics)
        self.layer.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.layer.setToolTip("The conv layer whose filters are shown")
        self.layer.currentIndexChanged.connect(lambda _: self.invalidate())
        self._layers: list[int] = []

    def _place_menu(self) -> None:
        """At the right end of the filters' title row, over no plot."""
        self.layer.adjustSize()
        self.layer.move(max(self.graphics.width() - self.layer.width() - 8, 0), 2)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._place_menu()

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
        set_title(self.filter_plot, f"Filters of conv layer {k + 1}: {filters.shape[0]} × {filters.shape[1]}, "
                                    f"{filters.shape[2]}x{filters.shape[3]}")
        self.filter_plot.titleLabel.setToolTip(f"At the probe of step {run.latest_step:,}")
        shown = [layer for layer in spread(layers) if FEATURE_MAPS.name(k=layer) in latest]
        maps = [latest[FEATURE_MAPS.name(k=layer)] for layer in shown]
        if maps:
            size = max(m.shape[1] for m in maps)
            columns = min(MAPS_SHOWN, max(m.shape[0] for m in maps))
            padded = [np.concatenate([scaled_maps(m, size), np.full((columns - min(columns, m.shape[0]), size, size),
                                                                      np.nan)]) for m in maps]
            rows = np.concatenate(padded, axis=0)
            self.maps_image.setImage(tiled(rows, columns), levels=(0, 1), autoLevels=False)
            set_title(self.maps_plot, "Feature maps of the probe image, conv layers "
                                      + ", ".join(str(layer + 1) for layer in shown))
