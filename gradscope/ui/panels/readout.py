"""A number that changes with every probe (the step on show, a clip rate), written at the right
end of a plot's title row instead of inside the title.

A plot's title is a pyqtgraph LabelItem in the plot's layout: each new text is parsed as HTML,
measured, and lays the plot out again, and the panel then paints as if resized (about a
millisecond a change, and a repaint of everything around it). The readout is a text item
parented to the title row, outside any layout: changing it repaints its own few pixels. Plain
text is a QGraphicsSimpleTextItem; only compared runs' coloured numbers need a rich text item,
whose every new text is laid out by a QTextDocument (a third of a millisecond, measured: most
frames change a readout).
The title keeps clear of it: `fit_title` elides a title to the width left beside the readout
(`reserved_px`, which only grows, with a digit's room to spare, so a number gaining a digit
rarely re-fits the title; more room would elide "Gradient through time" beside "step 590 ·
m = 0.769" on the projector's 1280x720 stage).

Compared runs' numbers (`set_runs`) stand in the key's order, each in its run's colour, so a
room reads which number is which run's without a label taking the title's room.
"""
from __future__ import annotations

import html

import pyqtgraph as pg
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import QGraphicsItem, QGraphicsSimpleTextItem, QGraphicsTextItem

from gradscope.ui import theme

MARGIN_PX = 6


class TitleReadout:
    def __init__(self, plot: pg.PlotItem):
        self.plot = plot
        row = plot.titleLabel
        self.item = QGraphicsTextItem(row)               # compared runs' numbers, each in its colour
        self.item.setDefaultTextColor(QColor(theme.COLORS["black"]))
        self.item.document().setDocumentMargin(0)
        self.plain = QGraphicsSimpleTextItem(row)         # one number, in black
        self.plain.setBrush(QColor(theme.COLORS["black"]))
        for item in (self.item, self.plain):
            item.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.item.hide()
        self.text = ""
        self._font_px = 0
        plot._gradscope_readout = self
        row.geometryChanged.connect(self._place)

    @property
    def reserved_px(self) -> float:
        """The width the title leaves free for the readout."""
        return self.plot.__dict__.get("_gradscope_readout_px", 0.0)

    def set_runs(self, label: str, values: list[str], colors: list[str], tooltip: str = "") -> None:
        """`label` then each run's value in its colour (one run: in black), " · " between."""
        if len(values) < 2:
            return self.set_text(" ".join([label] + values).strip(), tooltip)
        spans = " · ".join(f'<span style="color: {theme.COLORS.get(color, color)}">{html.escape(value)}</span>'
                           for value, color in zip(values, colors))
        self.set_text(f"{label} {' · '.join(values)}".strip(), tooltip,
                      rich=f"{html.escape(label)} {spans}".strip())

    def set_text(self, text: str, tooltip: str = "", rich: str | None = None) -> None:
        """Show `text` (drawn as the HTML `rich` when given); does nothing when neither it nor the look
        changed."""
        if self._font_px != theme.LOOK.label_px:
            self._font_px = theme.LOOK.label_px
            font = QFont()
            font.setPixelSize(self._font_px)
            self.item.setFont(font)
            self.plain.setFont(font)
            self.plot._gradscope_readout_px = 0.0           # measured again in the new type
            self.text = None
        shown = rich if rich is not None else text
        if shown == getattr(self, "_shown", None) and text == self.text:
            return
        self.text, self._shown = text, shown
        if rich is not None:
            self.item.setHtml(rich)
        else:
            self.plain.setText(text)
        self.item.setVisible(rich is not None)
        self.plain.setVisible(rich is None)
        self.shown_item.setToolTip(tooltip)
        width = self.shown_item.boundingRect().width() + MARGIN_PX
        if width > self.reserved_px:
            self.plot._gradscope_readout_px = width * 1.05     # room for a digit more
        self._place()

    @property
    def shown_item(self) -> QGraphicsItem:
        """The item the readout is drawn by now: the rich one for compared runs, else the plain one."""
        return self.item if self.item.isVisibleTo(self.plot.titleLabel) else self.plain

    def _place(self) -> None:
        row, item = self.plot.titleLabel, self.shown_item      # the other is hidden: placed when shown
        bounds = item.boundingRect()
        item.setPos(row.width() - bounds.width() - MARGIN_PX, (row.height() - bounds.height()) / 2)
