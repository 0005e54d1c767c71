"""What every panel shares: plot items created once (per run slot, for the runs compared side
by side) and fed with setData / setImage from the window's timer; ranges kept by hand (auto-
range over 10,000 points each frame costs more than the paint); labelled vertical markers for
setting changes, notes and divergence on every training-step axis.

A panel draws the lab model's slots (`lab.slots`, one to three runs) and, where it says so,
the earlier runs (`lab.earlier`) faded behind them. With one slot each series has its own
colour; with several, each run has its slot's colour and line style (`theme.slot_pen`) and
the legend names only what differs between the runs.
"""
from __future__ import annotations

import contextlib
import time
from typing import Iterator

import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt, QTimer
from PySide6.QtWidgets import QGraphicsItem, QGraphicsTextItem, QLabel, QSizePolicy, QVBoxLayout, QWidget

from gradscope.lab.envelope import SERIES_CAPACITY
from gradscope.lab.slots import RunSlot
from gradscope.records import EventKind
from gradscope.ui import theme
from gradscope.ui.panels.curves import Curve, fold_if_empty
from gradscope.ui.panels.fitting import WideSample, fit_legend, fit_title

MAX_MARKERS = 40
EMPTY_NOTE = "No run on show yet: press Run (Space), or open a session (Ctrl+O)."
WAITING_NOTE = "Waiting for the first step of the run on show (if it is paused: press Run, Space)."
CACHED_ITEMS = (QGraphicsTextItem, pg.AxisItem)
COST_SMOOTHING = 0.2        # weight of the newest sample in the panels' cost averages


class _TimedGraphics(pg.GraphicsLayoutWidget):
    """A panel's plots, timing their own paints (a moving average, in ms) so the window knows
    what redrawing each panel costs. Only the paint that follows a refresh counts: the small
    ones between (a tooltip, a hovered line) would talk the average down, and the frame
    pacer would then put two panels' worth into one frame."""

    paint_ms = 0.0
    refreshed = False

    def paintEvent(self, event) -> None:
        began = time.perf_counter()
        super().paintEvent(event)
        if self.refreshed:
            self.refreshed = False
            self.paint_ms += COST_SMOOTHING * ((time.perf_counter() - began) * 1000.0 - self.paint_ms)


BUCKET_PX = 2.0             # the narrowest bucket of a long series a plot draws, in px of its width
FEWEST_BUCKETS = 48         # however narrow the plot or many the runs


def buckets_for(runs: int, plot: pg.PlotItem | None = None) -> int | None:
    """How many buckets each of `runs` runs' long series is drawn in (None: all it holds).

    As many as the plot is wide in `BUCKET_PX` (2 px at the desk; in the projector's look a
    3 px line's width): a bucket narrower than that shows nothing more, since each keeps its
    steps' minimum and maximum and no spike is lost. An envelope is painted as rectangles
    (`bars`), whose cost hardly grows with their number, so compared runs each get as many;
    only without a plot (or before it has a size) is the whole capacity shared out."""
    width = plot.vb.width() if plot is not None else 0.0
    if width > 0:
        share = max(FEWEST_BUCKETS, int(width / max(BUCKET_PX, theme.LOOK.min_line)))
    else:
        share = max(FEWEST_BUCKETS, SERIES_CAPACITY // max(runs, 1))
    return None if share >= SERIES_CAPACITY else share


def lab_key(lab) -> tuple:
    """What a panel's picture depends on: the slots' histories as they are now, the earlier runs."""
    return (tuple((id(slot.history), slot.history.generation, slot.label) for slot in lab.slots),
            tuple(id(history) for history in lab.earlier))


class Panel(QWidget):
    """A dockable panel. Subclasses create their items in __init__ and draw in `draw`."""

    title = ""
    tab_title = ""             # its tab's, when the title is too long for a tab bar at 1280 px
    name = ""
    kinds: tuple[str, ...] = ("sequence",)     # the runs it draws (`lab.layouts`): "sequence", "image"
    drawn_in_scene = True      # False: a panel of widgets (a table), which a picture grabs, not its empty scene

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.graphics = _TimedGraphics()
        self.graphics.ci.setContentsMargins(4, 4, 4, 4)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        self.layout_ = layout
        layout.addWidget(self.graphics, 1)
        # before any run: a line saying what to do, not empty axes and a legend of nothing
        self.empty_note = QLabel(EMPTY_NOTE)
        self.empty_note.setWordWrap(True)
        self.empty_note.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_note.setStyleSheet(f"font-size: {theme.FONT_POINTS + 2}pt; color: #444444;")
        layout.addWidget(self.empty_note, 1)
        self.empty_note.hide()
        self._drawn: tuple | None = None
        self.drawn_at = 0                 # the window's frame count when last drawn
        self.draw_ms = 0.0                # moving average of `refresh`, in ms
        self.step_plots: list[pg.PlotItem] = []      # plots whose x axis is the training step
        self._markers: dict[int, list[pg.InfiniteLine]] = {}
        self._items_seen = 0

    def invalidate(self) -> None:
        """Draw again at the next frame, though the lab did not change."""
        self._drawn = None

    def view_key(self, lab) -> tuple:
        """What else of the lab this panel's picture depends on (a setting it shows)."""
        return ()

    def stale(self, lab) -> bool:
        """Whether the lab changed since this panel last drew it."""
        return (lab_key(lab), self.view_key(lab)) != self._drawn

    def refresh(self, lab, force: bool = False) -> None:
        key = lab_key(lab), self.view_key(lab)
        if key == self._drawn and not force:
            return
        self._drawn = key
        began = time.perf_counter()
        if any(slot.history.steps_seen for slot in lab.slots):
            if self.empty_note.isVisibleTo(self):
                self.empty_note.hide()
                self.graphics.show()
            self.draw(lab)
        else:
            # no run, or runs that have not taken a step yet (new settings, a Reset): nothing
            # of the runs before stays on show, whatever the panel drew of them
            self.show_nothing()
            self.graphics.hide()
            self.empty_note.setText(WAITING_NOTE if lab.slots else EMPTY_NOTE)
            self.empty_note.show()
        self._sync_markers(lab.slots)
        self._cache_text()            # and folds the legends that name nothing
        self.fit_texts()
        self.graphics.refreshed = True
        self.draw_ms += COST_SMOOTHING * ((time.perf_counter() - began) * 1000.0 - self.draw_ms)

    @property
    def cost_ms(self) -> float:
        """What a refresh of this panel costs the GUI thread: feeding its plots, then painting."""
        return self.draw_ms + self.graphics.paint_ms

    def draw(self, lab) -> None:
        """Draw the lab's slots (there is at least one)."""
        raise NotImplementedError

    def show_nothing(self) -> None:
        """No run on show (a new live session, before its first run): no curve or image of an
        earlier one stays, whatever the panel drew."""
        for item in self.graphics.scene().items():
            if isinstance(item, Curve):
                item.clear_values()
            elif isinstance(item, pg.ImageItem):
                item.clear()
            elif isinstance(item, pg.PlotDataItem):
                item.setData([], [])

    def fit_texts(self, width: int | None = None) -> None:
        """Legends and titles elided or folded to the panel's width (`fitting`)."""
        width = (self.width() if width is None else width) - 16
        ci = self.graphics.ci
        columns = max(ci.layout.columnCount(), 1)
        for item in laid_out(ci):          # as laid out now: a panel may have rebuilt its plots
            if isinstance(item, pg.LegendItem):
                fit_legend(item, width)
            elif isinstance(item, pg.PlotItem):
                fit_title(item, width * _columns_spanned(ci, item) / columns)
        self._even_out_rows()
        # the layout was laid out wider while a text was longer: lay it out in the view again
        ci, view = self.graphics.ci, QRectF(self.graphics.viewport().rect())
        if ci.width() > view.width() + 0.5:
            QTimer.singleShot(0, self, self._lay_out_again)

    def _even_out_rows(self) -> None:
        """Plots stacked in one column get view boxes of one height, whatever the titles,
        legends and axes of their rows take (a comparison's key, the projector's type): each
        row is given what it takes besides its view box plus an equal share of the rest.
        Stretch factors cannot do it (Qt shares out only the room beyond the rows' preferred
        heights), nor fixed factors (right for one look and one run only). Done again at every
        frame and every resize, so a key that comes or goes is followed."""
        ci = self.graphics.ci
        rows = {}
        for item, cells in ci.items.items():
            if len(cells) != 1 or cells[0][1] != 0 or not item.isVisible():
                return                        # several columns: the panel lays itself out
            plot = item if isinstance(item, pg.PlotItem) else next(
                (inner for inner in getattr(item, "items", {}) if isinstance(inner, pg.PlotItem)), None)
            if plot is None:
                return
            rows[cells[0][0]] = item.geometry().height() - plot.vb.height()
        view = self.graphics.viewport().height()
        if len(rows) < 2 or view <= 0:
            return
        layout = ci.layout
        left, top, right, bottom = layout.getContentsMargins()
        room = view - top - bottom - layout.verticalSpacing() * (len(rows) - 1)     # ci fills the view
        share = (room - sum(rows.values())) / len(rows)
        if share <= 20:
            return                            # no room to share: leave Qt's layout as it is
        for row, overhead in rows.items():
            height = overhead + share
            if abs(layout.rowMaximumHeight(row) - height) > 0.5:
                layout.setRowFixedHeight(row, height)

    def _lay_out_again(self) -> None:
        self.graphics.ci.setGeometry(QRectF(self.graphics.viewport().rect()))

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if event.oldSize() != event.size():
            # from the event loop, not inside the resize: a resize can come while the window
            # is being torn down, and its scene's items half gone (a timer with this panel
            # as its context is dropped with it)
            QTimer.singleShot(0, self, self.fit_texts)

    def _cache_text(self) -> None:
        """Titles, legends, labels and axes are drawn from a pixmap Qt keeps (and renews when
        they change): laying out their text again on every repaint was half of what a panel's
        paint cost. Looked for only when the panel gained or lost items."""
        items = self.graphics.scene().items()
        if len(items) == self._items_seen:
            return
        self._items_seen = len(items)
        for item in items:
            if isinstance(item, CACHED_ITEMS) and item.cacheMode() == QGraphicsItem.CacheMode.NoCache:
                item.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
            elif isinstance(item, pg.LegendItem):
                fold_if_empty(item)         # its entries came or went with the items

    def add_step_plot(self, plot: pg.PlotItem) -> pg.PlotItem:
        self.step_plots.append(plot)
        self._markers[id(plot)] = []
        return plot

    def forget_step_plots(self, remove_lines: bool = False) -> None:
        """The panel changes its plots: forget them and their markers (`remove_lines`: take
        the marker lines off plots that stay; plots cleared away took theirs along)."""
        if remove_lines:
            for plot in self.step_plots:
                for line in self._markers.get(id(plot), []):
                    plot.removeItem(line)
        self.step_plots.clear()
        self._markers.clear()

    def _sync_markers(self, slots: list[RunSlot]) -> None:
        """The first run's setting changes and notes, and every run's divergence."""
        wanted = []
        for slot in slots:
            wanted += [event for event in slot.history.markers
                       if slot.index == 0 or event.kind == EventKind.DIVERGED.value]
        wanted = sorted(wanted, key=lambda event: event.step)[-MAX_MARKERS:]
        labels = {id(event): _marker_label(event, slot) for slot in slots for event in slot.history.markers}
        for plot in self.step_plots:
            # named on the panel's first plot only: the plots below share its step axis, and a
            # label is drawn over their data; without a fill, so no curve is hidden behind it
            named = plot is self.step_plots[0]
            lines = self._markers[id(plot)]
            # the same events (a replay's seek hands the same ones to a new history) keep their lines
            if len(lines) == len(wanted) and all(line.marked_event is event for line, event in zip(lines, wanted)):
                continue
            for line in lines:
                plot.removeItem(line)
            lines.clear()
            for event in wanted:
                diverged = event.kind == EventKind.DIVERGED.value
                line = pg.InfiniteLine(pos=event.step, angle=90, movable=False,
                                       pen=theme.pen("red" if diverged else "grey", 2, Qt.PenStyle.DashLine),
                                       label=labels[id(event)] if named else None,
                                       labelOpts={"position": 0.92, "color": theme.COLORS["black"],
                                                  "movable": True})
                theme.style_line_label(line)
                line.marked_event = event
                plot.addItem(line, ignoreBounds=True)
                lines.append(line)


def _marker_label(event, slot: RunSlot) -> str:
    """The marker's text, as pyqtgraph's label format takes it: its braces doubled (a file's
    event text is data, never a format), no control characters, at most 60 characters."""
    # a divergence is marked "diverged": what became NaN is the banner's and the event list's to say
    if event.kind == EventKind.DIVERGED.value:
        text = f"diverged ({slot.label})" if slot.label else "diverged"
    else:
        text = event.label
    text = "".join(char if char.isprintable() else " " for char in str(text))
    text = text if len(text) <= 60 else text[:57] + "..."
    return text.replace("{", "{{").replace("}", "}}")


@contextlib.contextmanager
def drawn_as_vectors(panels) -> Iterator[None]:
    """Within it, the panels' cached items draw themselves again: an SVG wants text and lines,
    not the pixmaps the screen is painted from."""
    cached = [(item, item.cacheMode()) for panel in panels for item in panel.graphics.scene().items()
              if item.cacheMode() != QGraphicsItem.CacheMode.NoCache]
    for item, _ in cached:
        item.setCacheMode(QGraphicsItem.CacheMode.NoCache)
    try:
        yield
    finally:
        for item, mode in cached:
            item.setCacheMode(mode)


def add_plot(layout, row: int, col: int, legend: bool = False, colspan: int = 1,
             legend_columns: int = 4) -> pg.PlotItem:
    """A plot in a panel's layout; with `legend`, a legend of `legend_columns` entries a line
    sits above it in a row of its own, so it never hides a curve."""
    if not legend:
        return layout.addPlot(row=row, col=col, colspan=colspan)
    cell = layout.addLayout(row=row, col=col, colspan=colspan)
    cell.setContentsMargins(0, 0, 0, 0)
    cell.setSpacing(0)
    key = pg.LegendItem(colCount=legend_columns, labelTextSize=f"{theme.LOOK.label_px}px", verSpacing=-6,
                        sampleType=WideSample)
    cell.addItem(key, row=0, col=0)
    plot = cell.addPlot(row=1, col=0)
    plot.legend = key          # PlotItem.addItem registers named items with plot.legend
    cell.layout.setRowStretchFactor(0, 0)
    cell.layout.setRowStretchFactor(1, 10)
    # the key takes the height of its rows, never more: the plot below gets the rest
    key.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
    key.layout.setContentsMargins(2, 0, 2, 0)        # pyqtgraph's 9 px around it are 18 px of plot
    key.setMaximumHeight(0)    # folded until it names something (see curves.fold_if_empty)
    key.setVisible(False)
    return plot


def laid_out(layout: pg.GraphicsLayout) -> Iterator:
    """The items of a panel's layout and of the layouts in it (a plot's cell with its key):
    its plots and legends, without a walk over every item of the scene (some ninety curves,
    ticks and labels a panel, at every frame)."""
    for item in layout.items:
        if isinstance(item, pg.GraphicsLayout):
            yield from laid_out(item)
        else:
            yield item


def _columns_spanned(ci, item) -> int:
    """How many of the panel layout's columns the cell holding `item` spans."""
    while item is not None and item not in ci.items:
        item = item.parentItem()
    cells = ci.items.get(item) if item is not None else None
    return max(len({column for _, column in cells}), 1) if cells else 1


def share_x_label(upper: pg.PlotItem) -> None:
    """The plot above one with the same x axis shows its ticks but not its axis label: the
    label below names both, and the height goes to the data."""
    axis = upper.getAxis("bottom")
    axis.gradscope_label_hidden = True
    theme.style_axes(upper)


def set_title(plot: pg.PlotItem, text: str) -> None:
    """Re-titles only on a change: a title set every frame re-lays out the plot every frame."""
    if getattr(plot, "_gradscope_title", None) != text:
        plot._gradscope_title = text
        theme.set_plot_title(plot, text)
