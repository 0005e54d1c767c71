"""What the net makes of a test image, at the latest probe (`gradscope.probes.strip`):

* the test strip, one held-out image of each class; a click on one makes it the probe image
  (the live setting `probe_image`: the next probe records its feature maps, and a replay's
  Fork takes it), framed in orange, dashed until a probe has recorded it;
* the feature maps of the recorded probe image, a row per conv layer (at most six: the first,
  the last and between), each map scaled to its own range, the deeper pooled maps enlarged;
* the class probabilities the net gives the picked image, the true class's bar in orange,
  with the predicted class in the readout (exact in a replay too: every strip image's
  probabilities are recorded at every probe).
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QFont, QFontMetricsF
from PySide6.QtWidgets import QGraphicsRectItem

from gradscope.lab.snapshots import evenly_spread
from gradscope.series import FEATURE_MAPS, STRIP_IMAGES, STRIP_LABELS, STRIP_PROBABILITIES, STRIP_PROBED
from gradscope.ui import theme
from gradscope.ui.panels.base import Panel, set_title
from gradscope.ui.panels.readout import TitleReadout
from gradscope.ui.panels.tiles import GAP, enlarged, image_plot, tiled, unit_range
from gradscope.ui.panels.painted_image import PaintedImage

MAPS_SHOWN = 8               # feature maps a layer shows
LAYERS_SHOWN = 6             # conv layers whose feature maps are shown: the first, the last, between
STRIP_TITLE = "Test images: click one to probe it"
STRIP_PX = (48, 110)         # the strip's view box, lowest and highest
PROBABILITY_PX = 150         # the bars' view box: a plot the back row reads (tests/ui/look_probe.py)
FRAME = 2                    # px of the frame around the picked image, in image pixels at 8x8 (scaled)


def map_layers(latest: dict) -> list[int]:
    prefix = FEATURE_MAPS.pattern.split("{")[0]
    return sorted(int(name[len(prefix):]) for name in latest if name.startswith(prefix))


def maps_grid(maps: list[np.ndarray], shown: int = MAPS_SHOWN) -> np.ndarray:
    """The first `shown` maps of each layer ([C, H, W] each) as one image, a row per layer,
    every map scaled to [0, 1] and enlarged to the largest map's size."""
    size = max(m.shape[1] for m in maps)
    columns = min(shown, max(m.shape[0] for m in maps))
    rows = []
    for m in maps:
        scaled = enlarged(unit_range(np.asarray(m)[:columns]), size)
        rows.append(np.concatenate([scaled, np.full((columns - scaled.shape[0], size, size), np.nan)]))
    return tiled(np.concatenate(rows, axis=0), columns)


def strip_picture(images: np.ndarray) -> np.ndarray:
    """[N, C, H, W] as one row of tiles: grey ([H, W'] in [0, 1]) or colour ([H, W', 3])."""
    n, channels = images.shape[:2]
    if channels == 3:
        return np.stack([tiled(unit_range(images[:, c]), n) for c in range(3)], axis=-1)
    return tiled(unit_range(images.mean(axis=1)), n)


def strip_labels(latest: dict, count: int) -> tuple[np.ndarray, np.ndarray]:
    """The strip's classes (int64) and which image is probed ([count], one 1): as recorded
    where a file holds them for every strip image, else the strip's order and its first
    image (a file whose series disagree in length is drawn, not trusted)."""
    labels = np.asarray(latest.get(STRIP_LABELS.name(), ()))
    if labels.shape != (count,) or not np.all(np.isfinite(labels)):
        labels = np.arange(count)
    probed = np.asarray(latest.get(STRIP_PROBED.name(), ()), dtype=np.float64)
    if probed.shape != (count,) or not np.any(probed > 0):
        probed = np.eye(count)[0]
    return np.clip(labels, -10**9, 10**9).astype(np.int64), probed


class StripImage(PaintedImage):
    """The strip; a left click on a tile says which image it is."""

    picked = Signal(int)
    tile = 1           # the side of one image, in image pixels

    def mouseClickEvent(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton or self.image is None:
            return
        event.accept()
        index = int(event.pos().x() // (self.tile + GAP))
        count = (self.image.shape[1] + GAP) // (self.tile + GAP)
        if 0 <= index < count:
            self.picked.emit(index)


class ImagesPanel(Panel):
    title = "Images"
    name = "images"
    kinds = ("image",)
    probe_image_picked = Signal(int)

    def __init__(self, parent=None):
        super().__init__(parent)
        ci = self.graphics.ci
        self.strip_plot, self.strip = image_plot(ci, 0, STRIP_TITLE, item=StripImage)
        self.strip.setToolTip("A click makes the image the probe image: the next probe records its feature maps")
        self.strip.picked.connect(self.probe_image_picked)
        self.frame = QGraphicsRectItem()
        self.frame.setZValue(10)
        self.strip_plot.addItem(self.frame)
        self.maps_plot, self.maps_image = image_plot(ci, 1, "Feature maps of the probe image")
        self.maps_image.setColorMap(pg.colormap.get(theme.HEATMAP))
        self.maps_plot.showAxis("left")                 # its ticks name each row's conv layer
        self.maps_plot.getAxis("left").setLabel("")
        self.probability_plot = ci.addPlot(row=2, col=0)
        theme.style_plot(self.probability_plot, "Probabilities", "", "")   # the title and ticks say it
        self.probability_plot.setMouseEnabled(False, False)
        self.probability_plot.setYRange(0, 1, padding=0.02)
        self.bars = pg.BarGraphItem(x=[], height=[], width=0.8)
        self.probability_plot.addItem(self.bars)
        self.readout = TitleReadout(self.probability_plot)
        self._classes = 0
        self._map_layers: tuple = ()         # the rows' names, their size and the look's type they were set for
        self._strip_shown: np.ndarray | None = None     # what the strip and its frame show
        self._frame_shown: tuple | None = None
        self._strip_aspect = 0.1                        # the strip's height over its width, frame included
        self._bar_style: tuple = (None, [], [])         # (classes, true class), brushes, pens

    def show_nothing(self) -> None:
        super().show_nothing()
        self.bars.setOpts(x=[], height=[])
        self.frame.setRect(QRectF())
        self._strip_shown = self._frame_shown = None

    def _even_out_rows(self) -> None:
        """The strip as high as its images are at the panel's width (within bounds), the bars
        PROBABILITY_PX, the maps the rest: even rows would give the one-row strip as much
        height as the maps of six layers."""
        layout, view = self.graphics.ci.layout, self.graphics.viewport().height()
        plots = (self.strip_plot, self.maps_plot, self.probability_plot)
        if view <= 0 or not all(plot.isVisible() for plot in plots):
            return
        overheads = [plot.geometry().height() - plot.vb.height() for plot in plots]
        # the shape of the range the strip asked for, its images and the picked one's frame (the
        # images' alone left the strip a third lower than its box; the view's own range, which a
        # locked aspect widens to the box's shape, would grow the row on every pass)
        aspect = self._strip_aspect if self.strip.image is not None else 0.1
        strip = min(max(self.strip_plot.vb.width() * aspect, STRIP_PX[0]), STRIP_PX[1])
        left, top, right, bottom = layout.getContentsMargins()
        room = view - top - bottom - 2 * layout.verticalSpacing() - sum(overheads)
        maps = room - strip - PROBABILITY_PX
        if maps < STRIP_PX[0]:
            return                            # no room to share: leave Qt's layout as it is
        for row, height in enumerate((overheads[0] + strip, overheads[1] + maps, overheads[2] + PROBABILITY_PX)):
            if abs(layout.rowMaximumHeight(row) - height) > 0.5:
                layout.setRowFixedHeight(row, height)

    @staticmethod
    def picked(lab) -> int:
        """The probe image the settings hold (what the user last clicked)."""
        return int(getattr(getattr(lab, "config", None), "probe_image", 0))

    def view_key(self, lab) -> tuple:
        return (self.picked(lab),)

    def draw(self, lab) -> None:
        run = lab.slots[0].history
        latest = run.latest
        images = latest.get(STRIP_IMAGES.name())
        has_strip = images is not None and np.ndim(images) == 4 and len(images) > 0
        self.maps_plot.setVisible(has_strip)
        self.probability_plot.setVisible(has_strip)
        if not has_strip:
            self.strip.clear()
            self.frame.setRect(QRectF())
            self._strip_shown = self._frame_shown = None
            set_title(self.strip_plot, "The test strip comes with the first probe" if run.latest_step is None else
                      "This recording holds no test strip (recorded before gradscope kept one)")
            return
        labels, probed = strip_labels(latest, len(images))
        recorded = int(np.argmax(probed))
        picked = min(self.picked(lab), len(images) - 1)
        self._draw_strip(images, picked, pending=picked != recorded)
        self._draw_maps(latest, [int(label) for label in labels], recorded, picked,
                        getattr(lab, "kind", "live") == "live")
        probabilities = latest.get(STRIP_PROBABILITIES.name())
        if (probabilities is not None and np.ndim(probabilities) == 2 and len(probabilities) == len(images)
                and np.shape(probabilities)[1] > 0):
            self._draw_probabilities(np.asarray(probabilities[picked], dtype=np.float64), int(labels[picked]),
                                     picked, run.latest_step)

    def _draw_strip(self, images: np.ndarray, picked: int, pending: bool) -> None:
        """The strip's picture and its frame, each set again only when it changed: every probe
        records the same strip, and an image set anew costs the frame its conversion."""
        if self._strip_shown is None or not np.array_equal(self._strip_shown, images):
            self._strip_shown = np.array(images)
            side = images.shape[2]
            self.strip.tile = side
            self.strip.setImage(strip_picture(np.asarray(images, dtype=np.float64)), levels=(0, 1), autoLevels=False)
            self._frame_shown = None
        frame = (picked, pending, images.shape[2], len(images))
        if frame != self._frame_shown:
            self._frame_shown = frame
            side = images.shape[2]
            width = max(side / 8.0, 1.0) * FRAME
            self.frame.setRect(QRectF(picked * (side + GAP) - width / 2, -width / 2, side + width, side + width))
            pen = theme.pen("orange", 3, Qt.PenStyle.DashLine if pending else None)
            pen.setCosmetic(True)
            self.frame.setPen(pen)
            self.strip_plot.setRange(xRange=(-width, len(images) * (side + GAP) + width),
                                     yRange=(-width, side + width), padding=0)
            self._strip_aspect = (side + 2 * width) / (len(images) * (side + GAP) + 2 * width)

    def _draw_maps(self, latest: dict, labels: list[int], recorded: int, picked: int, live: bool) -> None:
        """Strip images are named by their class (the strip holds one of each): "class 3", the
        digit a class sees, not a position in the strip."""
        if picked == recorded:
            set_title(self.strip_plot, STRIP_TITLE)
        elif live:
            set_title(self.strip_plot, f"Class {labels[picked]} picked: its maps come with the next probe")
        else:
            set_title(self.strip_plot, f"Class {labels[picked]} picked: this replay holds class "
                                       f"{labels[recorded]}'s maps; Fork probes it")
        layers = evenly_spread(map_layers(latest), LAYERS_SHOWN)
        if not layers:
            self.maps_image.clear()
            set_title(self.maps_plot, "No feature maps: no conv layer")
            return
        maps = [latest[FEATURE_MAPS.name(k=k)] for k in layers]
        self.maps_image.setImage(maps_grid(maps), levels=(0, 1), autoLevels=False)
        set_title(self.maps_plot, f"Feature maps of the class {labels[recorded]} image")
        self.maps_plot.titleLabel.setToolTip("A row per conv layer, each map scaled to its own range (the deeper, "
                                             f"pooled maps enlarged); at most {MAPS_SHOWN} maps a layer")
        size = max(m.shape[1] for m in maps)
        labels = [f"conv {k + 1}" + (f" ({MAPS_SHOWN}/{len(m)})" if len(m) > MAPS_SHOWN else "")
                  for k, m in zip(layers, maps)]
        axis = self.maps_plot.getAxis("left")
        # the rows' names, and the axis as wide as the longest in the look in force (a label
        # wider than its axis is not drawn): set again only when either changes
        key = (tuple(labels), size, theme.LOOK.tick_px)
        if key != self._map_layers:
            self._map_layers = key
            axis.setTicks([[(row * (size + GAP) + size / 2, label) for row, label in enumerate(labels)]])
            metrics = QFontMetricsF(axis.style["tickFont"] or QFont())
            axis.setWidth(max(theme.LOOK.axis_width, max(metrics.horizontalAdvance(label) for label in labels) + 16))

    def _draw_probabilities(self, probabilities: np.ndarray, truth: int, picked: int, step: int | None) -> None:
        classes = len(probabilities)
        if self._bar_style[0] != (classes, truth):
            brushes = [theme.brush("orange" if c == truth else "blue") for c in range(classes)]
            self._bar_style = (classes, truth), brushes, [pg.mkPen(None)] * classes
        _, brushes, pens = self._bar_style
        self.bars.setOpts(x=np.arange(classes), height=probabilities, width=0.8, brushes=brushes, pens=pens)
        if classes != self._classes:
            self._classes = classes
            self.probability_plot.setXRange(-0.6, classes - 0.4, padding=0)
            self.probability_plot.getAxis("bottom").setTicks([[(c, str(c)) for c in range(classes)]])
        predicted = int(np.argmax(probabilities))
        set_title(self.probability_plot, "Probabilities")
        self.probability_plot.titleLabel.setToolTip("The net's probability of each class; the true class's bar is "
                                                    "orange")
        self.readout.set_text(f"true {truth}, predicted {predicted} ({probabilities[predicted]:.0%})",
                              f"The net's softmax for the strip's class {truth} image" +
                              ("" if step is None else f" at the probe of step {step:,}"))
