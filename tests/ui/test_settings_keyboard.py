"""The keyboard, the settings and the timeline's step field, with real clicks and key presses
on the widget that has the focus: Enter takes an edit and Escape drops it, both close the editor and give the keyboard
back to the window, whose shortcuts (Space plays and pauses, S steps, Ctrl+O opens) then act
wherever the focus is, except inside a field being edited, where Space and S are text."""
from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QFileDialog

from test_replay import write_synthetic


@pytest.fixture
def window(replay_only_window, tmp_path, open_from_menu):
    """A window replaying a short synthetic session: S steps its cursor, Space plays it."""
    assert open_from_menu(replay_only_window, write_synthetic(tmp_path / "s.gscope", steps=60))
    replay_only_window.activateWindow()
    replay_only_window.lab.seek(10)
    return replay_only_window


def focused():
    return QApplication.focusWidget()


def click_setting(qtbot, window, name: str):
    """Click the setting's row, as a person does to edit it; the editor that opens has the keys."""
    tree, item = window.controls.tree, window.controls.item(name)
    tree.scrollToItem(item)
    qtbot.mouseClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=tree.visualItemRect(item).center())
    qtbot.waitUntil(lambda: item.widget.isVisible() and item.widget.hasFocus())
    return item.widget


def press_s_and_see_a_step(qtbot, window) -> None:
    before = window.lab.cursor
    qtbot.keyClick(focused() or window, Qt.Key.Key_S)
    qtbot.waitUntil(lambda: window.lab.cursor == before + 1)


@pytest.mark.parametrize("name, typed, taken", [("rho", "1.6", 1.6), ("seq_len", "17", 17), ("lr", "0.02", 0.02)])
def test_enter_takes_the_value_closes_the_editor_and_the_shortcuts_act_again(qtbot, window, name, typed, taken):
    editor = click_setting(qtbot, window, name)
    qtbot.keyClicks(editor, typed)            # the editor opens with its number selected: typing replaces it
    qtbot.keyClick(focused(), Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not editor.isVisible())
    assert getattr(window.lab.config, name) == pytest.approx(taken)
    assert focused() is window
    press_s_and_see_a_step(qtbot, window)
    qtbot.keyClick(focused() or window, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: window.lab.recorded.playing)
    qtbot.keyClick(focused() or window, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: not window.lab.recorded.playing)
    assert getattr(window.lab.config, name) == pytest.approx(taken)     # no "1.6s", no "17 "


def test_escape_puts_the_value_back_and_gives_the_keys_to_the_window(qtbot, window):
    before = window.lab.config.rho
    editor = click_setting(qtbot, window, "rho")
    qtbot.keyClicks(editor, "2.5")
    qtbot.keyClick(focused(), Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not editor.isVisible())
    assert window.lab.config.rho == before and window.controls.parameter("rho").value() == before
    assert focused() is window
    press_s_and_see_a_step(qtbot, window)
    assert window.lab.config.rho == before


def test_inside_a_field_being_edited_space_and_s_are_text(qtbot, window):
    editor = click_setting(qtbot, window, "csv")
    cursor = window.lab.cursor
    qtbot.keyClicks(focused(), "my s data.csv")
    assert editor.text() == "my s data.csv" and window.lab.cursor == cursor and not window.lab.recorded.playing
    qtbot.keyClick(focused(), Qt.Key.Key_Enter)
    qtbot.waitUntil(lambda: window.lab.config.csv is not None and window.lab.config.csv.endswith("my s data.csv"))
    assert focused() is window


def test_the_shortcuts_act_on_a_list_setting_and_on_the_tree_itself(qtbot, window):
    combo = click_setting(qtbot, window, "arch")        # a list: no text to type, so S is the step
    assert focused() is combo
    press_s_and_see_a_step(qtbot, window)
    tree = window.controls.tree
    group = tree.topLevelItem(0)
    qtbot.mouseClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=tree.visualItemRect(group).center())
    qtbot.waitUntil(lambda: focused() is tree)
    press_s_and_see_a_step(qtbot, window)


def test_ctrl_o_opens_from_inside_an_editor(qtbot, window, monkeypatch):
    asked = []
    monkeypatch.setattr(QFileDialog, "getOpenFileName",
                        staticmethod(lambda *args, **kwargs: asked.append(args) or ("", "")))
    click_setting(qtbot, window, "rho")
    qtbot.keyClick(focused(), Qt.Key.Key_O, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: len(asked) == 1)


def test_the_editor_closes_when_the_focus_goes_elsewhere_in_the_window(qtbot, window):
    editor = click_setting(qtbot, window, "seq_len")
    qtbot.keyClicks(editor, "23")
    window.timeline.step_field.setFocus()
    qtbot.waitUntil(lambda: not editor.isVisible())
    assert window.lab.config.seq_len == 23           # leaving the field takes what was typed


@pytest.mark.parametrize("ending, cursor", [(Qt.Key.Key_Return, 20), (Qt.Key.Key_Escape, 10)])
def test_the_step_field_gives_the_keys_back_after_enter_and_escape(qtbot, window, ending, cursor):
    """The timeline's step field: Enter goes to the typed step, Escape keeps the cursor's;
    then 2 picks the second layout instead of typing into the field (a lecturer had typed
    "1", then "12" there)."""
    from gradscope.lab.layouts import layouts_for

    field = window.timeline.step_field
    line = field.lineEdit()
    qtbot.mouseClick(line, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(field.hasFocus)
    line.selectAll()
    qtbot.keyClicks(line, "20")
    qtbot.keyClick(focused(), ending)
    assert window.lab.cursor == cursor and field.value() == cursor
    assert focused() is window
    qtbot.keyClick(focused() or window, Qt.Key.Key_2)
    assert field.value() == cursor and line.text() == str(cursor)
    assert window.lab.layout == layouts_for("sequence")[1].name      # a recurrent run's second layout
