"""Each layer's output shape, worked out before any training (`gradscope.layer_table`, the
table `gradscope record --dry-run` prints): one row per layer, from the input through the
pools between the layers to the classifier, with the number of values each output holds.

It shows the configuration on the left (`lab.config`), not the runs on show: it follows every
setting changed, before Run, and on a replay the run's own settings (`LabModel.show_config`).
A combination the arithmetic refuses (a map shrunk below 1x1) is said in the refusal's own
words, which name the layer and the numbers, in place of the table.
"""
from __future__ import annotations

from collections import OrderedDict
from concurrent.futures import Future, ThreadPoolExecutor

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QLabel, QTableWidget, QTableWidgetItem

from gradscope.config import ConfigError, RunConfig
from gradscope.config.run_config import described
from gradscope.layer_table import layer_table, shape_text, values_in
from gradscope.ui import theme
from gradscope.ui.panels.base import Panel

COLUMNS = ("layer", "output shape", "values")
# the tables are worked out off the GUI thread: the first reads the data through torch (3 s to
# import) and MNIST takes 0.3 s to read; one worker, so a burst of settings queues up in order
_WORKER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="gradscope-layer-table")
# the tables shown, by configuration: a setting changed and changed back (or the same run
# replayed again) shows its table at once
_TABLES: OrderedDict = OrderedDict()
TABLES_KEPT = 64
WAIT_MS = 50                   # how often the GUI thread looks for a table being worked out
TABLE_POINTS = theme.FONT_POINTS + 2       # above the plots' 15 px ticks; presentation mode scales it


def shape_rows(config: RunConfig) -> tuple[tuple[tuple[str, str, str], ...], str]:
    """The table's rows as text, or no rows and why the configuration is refused."""
    try:
        table = layer_table(config)
    except ConfigError as error:
        return (), f"Refused — {described(error)}"
    except Exception as error:        # data that cannot be read in a way no rule foresaw: said, not raised
        return (), f"Cannot work out the shapes: {error}"
    return tuple((row["layer"], shape_text(row["shape"]), f"{values_in(row['shape']):,}") for row in table), ""


class LayersPanel(Panel):
    title = "Layers and their output shapes"
    tab_title = "Layers"
    name = "layers"
    kinds = ("image",)
    drawn_in_scene = False

    def __init__(self, parent=None):
        super().__init__(parent)
        self.graphics.hide()           # no plots: a table (the base's graphics stay, empty, for its callers)
        self.heading = QLabel()
        self.heading.setWordWrap(True)
        self.heading.setStyleSheet(f"font-size: {theme.FONT_POINTS}pt; padding: 4px 6px;")
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels([column.capitalize() for column in COLUMNS])
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        # no focus: typing a digit would search the rows, and the digits choose the layouts
        self.table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in (1, 2):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        self.table.setAlternatingRowColors(True)
        # point sizes in a style sheet: presentation mode scales them (`look.restyle_widgets`)
        self.table.setStyleSheet(f"QTableWidget {{ font-size: {TABLE_POINTS}pt; }} "
                                 f"QHeaderView::section {{ font-size: {TABLE_POINTS}pt; font-weight: bold; }}")
        self.refusal = QLabel()
        self.refusal.setWordWrap(True)
        self.refusal.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.refusal.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.refusal.setStyleSheet(f"font-size: {TABLE_POINTS}pt; color: {theme.COLORS['red']}; padding: 12px;")
        self.refusal.hide()
        for index, widget in enumerate((self.heading, self.table, self.refusal)):
            self.layout_.insertWidget(index, widget, 1 if widget is not self.heading else 0)
        self.shown_config: RunConfig | None = None
        self._working: tuple[RunConfig, Future] | None = None
        self._lab = None
        # the GUI thread looks whether the table is ready: the worker never touches a Qt object
        # (a signal emitted from it while the window is deleted crashes the process)
        self.waiting = QTimer(self)
        self.waiting.setInterval(WAIT_MS)
        self.waiting.timeout.connect(self._on_waiting)

    # the table follows the configuration, not the runs: the frame pacer asks by it, and keeps
    # asking (a frame at a time) while the table being worked out is not yet shown
    def stale(self, lab) -> bool:
        return lab.config != self.shown_config

    def refresh(self, lab, force: bool = False) -> None:
        if not self.isVisible():
            return      # worked out when shown: a table in a closed tab needs no data read for it
        config = lab.config
        self._lab = lab
        if config == self.shown_config and not force:
            return
        if config in _TABLES:
            self._show(config, _TABLES[config])
            return
        if self._working is None or self._working[0] != config:
            self._working = config, _WORKER.submit(shape_rows, config)
            self.heading.setText("Working out each layer's output shape…")
            self.waiting.start()
        working = self._working
        if working is not None and working[0] == config and working[1].done():
            _TABLES[config] = working[1].result()
            while len(_TABLES) > TABLES_KEPT:
                _TABLES.popitem(last=False)
            self._working = None
            self._show(config, _TABLES[config])

    def _on_waiting(self) -> None:
        if self._working is not None and not self._working[1].done():
            return                      # still being worked out: look again at the next tick
        self.waiting.stop()
        if self._working is not None and self._lab is not None:
            self.refresh(self._lab)

    def _show(self, config: RunConfig, table: tuple) -> None:
        self.shown_config = config
        rows, refusal = table
        self.heading.setText(f"{config.arch} on {config.task}: each layer's output for one "
                             f"{'image' if config.family != 'recurrent' else 'sequence'}, worked out "
                             "before training by (N + 2P − F)/S + 1 per side")
        self.refusal.setText(refusal)
        self.refusal.setVisible(bool(refusal))
        self.table.setVisible(not refusal)
        self.table.setRowCount(len(rows))
        for row, texts in enumerate(rows):
            for column, text in enumerate(texts):
                item = QTableWidgetItem(text)
                if column:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(row, column, item)

    def rows(self) -> list[tuple[str, ...]]:
        """The table as it reads on screen, row by row."""
        return [tuple(self.table.item(row, column).text() for column in range(self.table.columnCount()))
                for row in range(self.table.rowCount())]

    def draw(self, lab) -> None:
        self.refresh(lab, force=True)

    def show_nothing(self) -> None:
        """Nothing to clear: the table is the configuration's, with or without a run."""

    def fit_texts(self, width: int | None = None) -> None:
        """No plot titles or legends to fit."""
