"""What the settings show before anything is clicked: each setting's help as the tooltip of
its name and of its value, every name whole in its column at the dock's narrowest and widest
(300 and 380 px), and a Browse button beside each file setting that fills it from a file
dialog (patched at QFileDialog)."""
from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QEvent, QPoint, Qt
from PySide6.QtGui import QFontMetrics, QHelpEvent
from PySide6.QtWidgets import QApplication, QFileDialog, QStyle, QToolTip

from gradscope.config import SETTINGS
from gradscope.ui.controls import MIN_VALUE_WIDTH, SHOWN, ControlPanel, item_font


def hover_tooltip(viewport, pos: QPoint) -> str:
    """The tooltip Qt shows when the mouse rests at `pos` of the tree's viewport."""
    QToolTip.hideText()
    target = viewport.childAt(pos) or viewport       # the value column holds the row's widgets
    local = target.mapFrom(viewport, pos)
    QApplication.sendEvent(target, QHelpEvent(QEvent.Type.ToolTip, local, target.mapToGlobal(local)))
    return QToolTip.text() if QToolTip.isVisible() else ""


@pytest.mark.parametrize("arch", ["rnn", "cnn", "lenet"])     # the tree shows the settings the net reads only
def test_each_setting_has_its_help_on_its_name_and_on_its_value(qtbot, replay_only_window, arch):
    controls = replay_only_window.controls
    tree = controls.tree
    assert controls.set_value("arch", arch)
    shown = [name for name in SHOWN if not controls.item(name).isHidden()]
    assert ("depth" in shown) == (arch == "cnn") and ("seq_len" in shown) == (arch == "rnn")
    assert ("kernel" in shown) == (arch == "cnn") and ("pool" in shown) == (arch != "rnn")   # LeNet's shape is fixed
    for name in shown:
        item = controls.item(name)
        tree.scrollToItem(item)
        row = tree.visualItemRect(item)
        on_name = QPoint(tree.columnViewportPosition(0) + tree.columnWidth(0) // 2, row.center().y())
        on_value = QPoint(tree.columnViewportPosition(1) + 10, row.center().y())
        assert hover_tooltip(tree.viewport(), on_name) == SETTINGS[name].tip, name
        assert hover_tooltip(tree.viewport(), on_value) == SETTINGS[name].tip, name
        assert item.toolTip(0) == item.toolTip(1) == SETTINGS[name].tip


def assert_every_name_is_whole(qtbot, controls) -> None:
    tree = controls.tree
    # the header lays its sections out after the resize: nothing to scroll, once it has, means
    # that no name starts off the left (the old tree showed "equence length T")
    qtbot.waitUntil(lambda: tree.header().length() == tree.viewport().width())
    assert tree.horizontalScrollBar().maximum() == 0
    margin = tree.style().pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin, None, tree) + 1
    for name in SHOWN:
        item = controls.item(name)
        if item.isHidden():
            continue                      # another family's setting: not in the tree for this run
        cell = tree.visualRect(tree.indexFromItem(item, 0))        # the name's cell, less its indentation
        room = cell.width() - 2 * margin
        metrics = QFontMetrics(item_font(tree, item))
        assert metrics.horizontalAdvance(item.text(0)) <= room, (name, item.text(0), room)
        assert metrics.elidedText(item.text(0), Qt.TextElideMode.ElideRight, room) == item.text(0)
    assert tree.columnWidth(1) >= MIN_VALUE_WIDTH             # and the values keep room for a number


def test_the_names_fit_their_column_in_the_window(qtbot, replay_only_window):
    replay_only_window.resize(1280, 720)
    qtbot.waitUntil(lambda: replay_only_window.width() == 1280)
    assert_every_name_is_whole(qtbot, replay_only_window.controls)


@pytest.mark.parametrize("width", [300, 380])
def test_the_names_fit_their_column_at_the_docks_narrowest_and_widest(qtbot, replay_only_window, width):
    controls = ControlPanel(replay_only_window.lab)
    qtbot.addWidget(controls)
    controls.resize(width, 900)
    controls.show()
    qtbot.waitExposed(controls)
    qtbot.waitUntil(lambda: controls.tree.viewport().width() > 0.8 * width)
    assert_every_name_is_whole(qtbot, controls)


@pytest.mark.parametrize("name, suffix", [("csv", "csv"), ("text", "txt")])
def test_browse_fills_a_file_setting_from_the_file_dialog(qtbot, replay_only_window, monkeypatch, tmp_path,
                                                          name, suffix):
    chosen = tmp_path / "data" / f"chosen.{suffix}"
    chosen.parent.mkdir()
    chosen.write_text("x\n1\n2\n")
    asked = []

    def dialog(parent, caption, folder, filters):
        asked.append((caption, folder, filters))
        return (str(chosen), "") if len(asked) == 1 else ("", "")      # the second time: Cancel

    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(dialog))
    controls = replay_only_window.controls
    button = controls.browse_buttons[name]
    controls.tree.scrollToItem(controls.item(name))
    qtbot.waitUntil(button.isVisible)
    assert button.accessibleName() == "Browse" and button.toolTip().startswith("Browse…")
    assert controls.tree.viewport().rect().contains(button.mapTo(controls.tree.viewport(), button.rect().bottomRight()))
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: getattr(replay_only_window.lab.config, name) == str(chosen))
    assert asked[0][1] == str(Path.home()) and f"*.{suffix}" in asked[0][2]
    assert controls.parameter(name).value() == str(chosen)
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(asked) == 2)
    assert asked[1][1] == str(chosen.parent)                   # it opens where the file is
    assert getattr(replay_only_window.lab.config, name) == str(chosen)
