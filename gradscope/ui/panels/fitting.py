"""Text that fits its panel: a legend or a title never pushes its plot past the panel's edge.

A pyqtgraph label's minimum width is its text's, so one long legend entry ("run 0: RNN H=32
T=50 (earlier)") or title widens its whole column beyond the panel, cutting the plot, its
axis and its colour bar off. After each draw a panel's legends take as many columns as fit,
down to one, and what still does not fit is elided ("run 0: RNN H=32…"), its whole text in
the entry's tooltip; titles are elided the same way. The texts the panels set stay the truth:
an elided label remembers its full text and is fitted again from it.

Legend swatches are drawn at least `SWATCH_WIDTH` px thick, whatever the curve's pen: a
1 px line in the key cannot be told apart from across a room.
"""
from __future__ import annotations


import pyqtgraph as pg
from pyqtgraph.graphicsItems.LegendItem import ItemSample
from pyqtgraph.graphicsItems.ScatterPlotItem import drawSymbol
from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QFontMetricsF

SWATCH_WIDTH = 5.0
SAMPLE_PX = 24          # a swatch and the space after it
MIN_ENTRY_PX = 150      # the narrowest a legend entry's text is elided to ("before clipping" whole)


class WideSample(ItemSample):
    def paint(self, p, *args):
        item = self.item
        pen = item.opts.get("pen")
        if pen is None or isinstance(item, pg.ScatterPlotItem) or not item.isVisible():
            return super().paint(p, *args)
        pen = pg.mkPen(pen)
        pen.setWidthF(max(pen.widthF(), SWATCH_WIDTH))
        pen.setCapStyle(Qt.PenCapStyle.FlatCap)
        p.setPen(pen)
        p.drawLine(0, 11, 20, 11)
        symbol = getattr(item, "gradscope_symbol", None)      # a compared run's markers (curves.SlotCurves)
        if symbol is not None:
            p.translate(10, 11)
            drawSymbol(p, symbol, 12, pg.mkPen(None), pg.mkBrush(pen.color()))


def full_text(label) -> str:
    """What the panel set, though the label shows it elided."""
    if getattr(label, "_gradscope_elided", None) == label.text:
        return label._gradscope_full
    return label.text


def label_metrics(label) -> QFontMetricsF:
    """The metrics of the type a LabelItem draws in: its `size` option ("15px", "14pt") is an
    HTML style, not the item's font."""
    font = QFont(label.item.font())
    size = str(label.opts.get("size") or "")
    if size.endswith("px"):
        font.setPixelSize(max(int(float(size[:-2])), 1))
    elif size.endswith("pt"):
        font.setPointSizeF(float(size[:-2]))
    if label.opts.get("bold"):
        font.setBold(True)
    return QFontMetricsF(font)


def _elide(label, text: str, width: float) -> None:
    # fitted again at every frame: measured only when the text, the room or the type changed
    fitted = (text, round(width, 1), str(label.opts.get("size")), label.text)
    if getattr(label, "_gradscope_fitted", None) == fitted:
        return
    metrics = label_metrics(label)
    shown = text if metrics.horizontalAdvance(text) <= width else metrics.elidedText(
        text, Qt.TextElideMode.ElideRight, max(width, 20.0))
    label._gradscope_full, label._gradscope_elided = text, shown
    if shown != label.text:
        label.setText(shown)
    label.setToolTip(text if shown != text else "")
    label._gradscope_fitted = (text, round(width, 1), str(label.opts.get("size")), label.text)


def fit_legend(legend: pg.LegendItem, width: float) -> None:
    items = legend.items
    if not items or width <= 0:
        return
    texts = [full_text(label) for _, label in items]
    fitted = (tuple(texts), tuple(label.text for _, label in items), round(width, 1),
              str(items[0][1].opts.get("size")), legend.columnCount)
    if getattr(legend, "_gradscope_fitted", None) == fitted:
        return
    metrics = label_metrics(items[0][1])
    needs = [metrics.horizontalAdvance(text) for text in texts]
    # as few rows as keep each entry readable: a row costs every plot below it its height,
    # so an entry is elided down to MIN_ENTRY_PX before the legend takes another row
    columns = len(items)
    while columns > 1:
        room = width / columns - SAMPLE_PX - 12
        if all(need <= room for need in needs) or room >= MIN_ENTRY_PX:
            break
        columns -= 1
    legend.setColumnCount(columns)
    room = width / columns - SAMPLE_PX - 12
    for (_, label), text in zip(items, texts):
        _elide(label, text, room)
    legend._gradscope_fitted = (tuple(texts), tuple(label.text for _, label in items), round(width, 1),
                                str(items[0][1].opts.get("size")), legend.columnCount)


def fit_title(plot: pg.PlotItem, width: float) -> None:
    title = getattr(plot, "_gradscope_title", None)
    if title is None or not plot.titleLabel.isVisible():
        return
    # the title stands over the view box only, not over the axes and colour bar beside it
    # (but over a colour bar's room kept empty, `heatmap_view.ColorBarRoom`)
    beside = max(plot.width() - plot.vb.width() - plot.__dict__.get("_gradscope_title_over_px", 0.0), 0.0)
    # and clear of a readout at the row's right end (`readout`)
    readout = plot.__dict__.get("_gradscope_readout_px", 0.0)
    _elide(plot.titleLabel, title, width - 12 - beside - readout)
