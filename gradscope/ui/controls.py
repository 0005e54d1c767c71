"""The settings tree: every run setting the window shows, generated from the settings'
declarations (`gradscope.config`) into pyqtgraph's parameter tree, grouped as they are
declared, each with its tooltip on both columns. A view of the lab model: an edit goes to
`lab.set_setting`; the tree shows `lab.config` whenever it changes; a value the lab refuses
snaps back and the reason is shown under the tree.

An editor opens when its setting is clicked and closes on Enter (the value taken), on Escape
(the value as it was) or when the focus leaves the tree; Enter and Escape give the keyboard
back to the window, whose shortcuts Space and S would otherwise go on typing into the field
(`gradscope.ui.focus`). A file setting has a Browse button beside its field. The name column
is as wide as the longest name, so none is cut (the dock is 300 to 380 px wide); the values
get the rest."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import (QApplication, QFileDialog, QHeaderView, QLabel, QStyle, QToolButton, QTreeWidgetItem,
                               QVBoxLayout, QWidget)
from pyqtgraph import SpinBox
from pyqtgraph.parametertree import Parameter

from gradscope.config import GROUPS, SETTINGS, RunConfig, Setting
from gradscope.ui import theme
from gradscope.ui.focus import EditEnds, focus_window
from gradscope.ui.settings_tree import SettingsTree

SHOWN = tuple(name for name, declaration in SETTINGS.items() if declaration.window)
FILE_FILTERS = {"text": "Text files (*.txt);;All files (*)", "csv": "CSV files (*.csv);;All files (*)"}
MIN_VALUE_WIDTH = 80      # px the values keep: a name longer than the rest (a compared one) is elided
INDENT = 6                # px a level: the default 20 took 40 px from every name (the hidden root is a level)


def _spec(declaration: Setting, config: RunConfig) -> dict:
    value = getattr(config, declaration.name)
    spec = {"name": declaration.name, "title": declaration.label, "tip": declaration.tip, "value": value}
    if declaration.choices:
        spec.update(type="list", limits=list(declaration.choices))
    elif declaration.kind == "str":
        spec.update(type="str", value=value or "")
    elif declaration.kind == "bool":
        spec["type"] = "bool"
    elif declaration.kind == "int":
        # no upper limit in the spin box: a value out of range is refused with the reason, where
        # a clamped box would take 512 for 100,000 without a word
        spec.update(type="int", limits=(0, None))
    else:
        spec["type"] = "float"
        if declaration.live:
            spec.update(dec=True, step=0.5, minStep=1e-6, siPrefix=False)
        else:
            spec.update(step=0.05)
    return spec


class ControlPanel(QWidget):
    def __init__(self, lab, parent: QWidget | None = None):
        super().__init__(parent)
        self.lab = lab
        config = lab.config
        children = [{"name": group, "type": "group",
                     "children": [_spec(SETTINGS[name], config) for name in SHOWN if SETTINGS[name].group == group]}
                    for group in GROUPS]
        children = [group for group in children if group["children"]]
        # "params" is the one name pyqtgraph never writes into its hidden top row: any other
        # reappeared there as an empty group's title once the tree's font was set
        self.parameters = Parameter.create(name="params", type="group", children=children)
        self.tree = SettingsTree(showHeader=False)
        self.tree.setParameters(self.parameters, showTop=False)
        self.tree.setStyleSheet(f"font-size: {theme.FONT_POINTS}pt;")
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setStyleSheet(f"color: {theme.COLORS['red']}; font-size: {theme.FONT_POINTS}pt;")
        self.message.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.tree, 1)
        layout.addWidget(self.message)
        self._params = {child.name(): child for group in self.parameters.children() for child in group.children()}
        self._items = {name: next(iter(param.items)) for name, param in self._params.items()}
        self.browse_buttons: dict[str, QToolButton] = {}
        self._showing = False
        self._prepare_items()
        header = self.tree.header()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Fixed)
        # the values take the rest; a stretched *last* section would never shrink below the 100
        # px it had, and pushed the names off the left at the dock's 300 px
        header.setStretchLastSection(False)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.tree.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self._resize_watch = _ResizeWatch(self.tree.viewport(), self.fit_name_column)
        QApplication.instance().focusChanged.connect(self._on_focus_changed)
        self.parameters.sigTreeStateChanged.connect(self._on_tree_changed)
        lab.events.config_changed.connect(self._on_config_changed)
        lab.events.refused.connect(self._on_refused)
        lab.events.comparison_changed.connect(self._on_comparison_changed)
        self._show(config)               # and only the settings its family reads

    def _prepare_items(self) -> None:
        self.tree.setIndentation(INDENT)
        for group in self.parameters.children():
            next(iter(group.items)).setFirstColumnSpanned(True)        # a group's title spans its row
        for name, item in self._items.items():
            declaration = SETTINGS[name]
            for column in (0, 1):
                item.setToolTip(column, declaration.tip)
            # the value shown when no editor is open has no tooltip of its own: it shows its row's
            item.layoutWidget.setToolTip(declaration.tip)
            item.defaultBtn.setToolTip(f"Back to the default ({SETTINGS[name].flag})")
            EditEnds(item.widget, revert=lambda item=item: _revert(item), done=self.end_editing)
            if declaration.path:
                self._add_browse_button(name, item)

    def _add_browse_button(self, name: str, item) -> None:
        # an icon, not the word: the value column is 80 px at the dock's narrowest
        button = QToolButton()
        button.setIcon(self.style().standardIcon(QStyle.StandardPixmap.SP_DirOpenIcon))
        button.setAccessibleName("Browse")
        button.setToolTip(f"Browse… for the {SETTINGS[name].label}")
        button.clicked.connect(lambda checked=False, name=name: self.browse(name))
        row = item.layoutWidget.layout()
        row.insertWidget(row.indexOf(item.defaultBtn), button)
        self.browse_buttons[name] = button

    def browse(self, name: str) -> bool:
        """Pick the file of a path setting in a file dialog; whether one was chosen (and taken)."""
        current = getattr(self.lab.config, name)
        start = str(Path(current).parent) if current else str(Path.home())
        path, _ = QFileDialog.getOpenFileName(self, f"Choose the {SETTINGS[name].label}", start,
                                              FILE_FILTERS.get(name, "All files (*)"))
        return bool(path) and self.set_value(name, path)

    def end_editing(self) -> None:
        """Close the open editor (its value is taken as it loses the focus) and give the
        keyboard to the window."""
        focus_window(self.window())
        self.tree.clearSelection()

    def _on_focus_changed(self, old: QWidget | None, new: QWidget | None) -> None:
        # focus gone to another widget of the app (not to another app: an editor stays open
        # while its user looks something up elsewhere): the edit is over
        if new is not None and not self.tree.isAncestorOf(new) and self.tree.selectedItems():
            self.tree.clearSelection()

    def fit_name_column(self) -> None:
        """The name column as wide as its longest name, leaving the values MIN_VALUE_WIDTH."""
        tree = self.tree
        padding = 2 * (tree.style().pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin, None, tree) + 1) + 4
        widest = max(tree.indentation() * _level(item) + QFontMetrics(item_font(tree, item)).horizontalAdvance(
            item.text(0)) + padding for item in self._items.values())
        tree.header().resizeSection(0, max(min(widest, tree.viewport().width() - MIN_VALUE_WIDTH), 0))

    @property
    def config(self) -> RunConfig:
        return self.lab.config

    def parameter(self, name: str) -> Parameter:
        return self._params[name]

    def item(self, name: str) -> QTreeWidgetItem:
        """The setting's row in the tree."""
        return self._items[name]

    def set_value(self, name: str, value) -> bool:
        """Set a control as if the user had; returns whether the lab took it."""
        self._params[name].setValue(value)
        return getattr(self.lab.config, name) == (value if SETTINGS[name].kind != "str" or SETTINGS[name].choices
                                                  else (value or None))

    def _on_config_changed(self, config: RunConfig, name: str) -> None:
        self._show(config)
        if name:
            self.message.hide()

    def _show(self, config: RunConfig) -> None:
        """Show `config` in the controls without treating it as the user's change. Only the
        settings the run reads are on show (its family's section and the common ones): a
        CNN has no sequence length, an RNN no kernel size, a LeNet (of a fixed shape) no depth."""
        from gradscope.families import family_of

        family = family_of(config.arch).name
        self._showing = True
        try:
            for name, param in self._params.items():
                value = getattr(config, name)
                if param.value() != (value if value is not None else ""):
                    param.setValue(value if value is not None else "")
                self._items[name].setHidden(not SETTINGS[name].read_by(config.arch, family))
        finally:
            self._showing = False

    def _on_tree_changed(self, root, changes) -> None:
        if self._showing:
            return
        for param, change, value in changes:
            if change != "value" or param.name() not in self._params:
                continue
            name = param.name()
            declaration = SETTINGS[name]
            if declaration.kind == "str" and not declaration.choices:
                value = str(value).strip() or None
            if value == getattr(self.lab.config, name):
                continue
            if not self.lab.set_setting(name, value):
                self._show(self.lab.config)          # the control snaps back to the value in force

    def _on_comparison_changed(self, comparison) -> None:
        """A compared setting says so, with its values, and takes no edit until Stop Comparing."""
        varies = comparison.varies if comparison is not None else ()
        for name, param in self._params.items():
            declaration = SETTINGS[name]
            if name in varies:
                values = ", ".join(str(variant.get(name)) for variant in comparison.variants)
                param.setOpts(title=f"{declaration.label} (compared: {values})", readonly=True)
            elif param.opts.get("readonly"):
                param.setOpts(title=declaration.label, readonly=False)
        self.fit_name_column()

    def _on_refused(self, text: str) -> None:
        self.message.setText(f"Refused — {text}")
        self.message.show()


def _revert(item) -> None:
    """The editor back at its setting's value, typed text and all: a SpinBox given the value it
    already holds keeps the text typed over it, so it is told to write its text again."""
    item.widget.setValue(item.param.value())
    if isinstance(item.widget, SpinBox):
        item.widget.updateText()


def item_font(tree, item: QTreeWidgetItem):
    """The font the tree draws the item's name in: its own if it has one, else the tree's."""
    own = item.data(0, Qt.ItemDataRole.FontRole)
    return own if own is not None else tree.font()


def _level(item: QTreeWidgetItem) -> int:
    level, parent = 0, item.parent()
    while parent is not None:
        level, parent = level + 1, parent.parent()
    return level


class _ResizeWatch(QObject):
    """Calls `then` after each resize of `widget`."""

    def __init__(self, widget: QWidget, then):
        super().__init__(widget)
        self.then = then
        widget.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Resize:
            self.then()
        return False
