"""Error dialogs, as a person meets them: the main text names the problem in plain words, the
exception's class and traceback are only in the details, and when the dialog is closed (its
OK button clicked) the keyboard is the window's again: Ctrl+O opens, and what is typed next
goes into no setting, even if a setting was being edited when the dialog came up."""
from __future__ import annotations

import re

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QFileDialog, QInputDialog, QMessageBox

from test_replay import write_synthetic

from gradscope.config import RunConfig
from gradscope.ui.plain_errors import plain_words

START = 60_000      # the training process imports torch: seconds on a busy machine

INTERNALS = re.compile(r"Traceback|\b\w+(Error|Exception)\b|gradscope\.\w+\.|\[Errno")


class OpenDialog:
    """QFileDialog.getOpenFileName, answering with the paths given, one a call."""

    def __init__(self, monkeypatch, *answers):
        self.answers, self.asked = list(answers), 0
        monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(self))

    def __call__(self, *args, **kwargs):
        self.asked += 1
        return (str(self.answers.pop(0)) if self.answers else "", "")


def edit_rho(qtbot, window):
    tree, item = window.controls.tree, window.controls.item("rho")
    qtbot.mouseClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=tree.visualItemRect(item).center())
    qtbot.waitUntil(lambda: item.widget.hasFocus())
    qtbot.keyClicks(item.widget, "2")


def close_by_ok(qtbot, window) -> None:
    box = window.error_dialog
    qtbot.mouseClick(box.button(QMessageBox.StandardButton.Ok), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not box.isVisible())
    qtbot.waitUntil(lambda: QApplication.focusWidget() is window and QApplication.activeWindow() is window)


def assert_the_keys_are_the_windows(qtbot, window, opened: OpenDialog) -> None:
    rho = window.lab.config.rho
    qtbot.keyClicks(QApplication.focusWidget(), "/tmp/lesson 1.gscope")
    assert window.lab.config.rho == rho and not window.controls.item("rho").widget.isVisible()
    asked = opened.asked
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_O, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: opened.asked == asked + 1)


def test_a_file_that_cannot_be_opened_says_so_plainly_and_gives_the_keys_back(qtbot, replay_only_window, monkeypatch,
                                                                              tmp_path):
    window = replay_only_window
    window.activateWindow()
    bad = tmp_path / "notes.gscope"
    bad.write_text("these are my lecture notes, not a session\n" * 20)
    opened = OpenDialog(monkeypatch, bad)
    edit_rho(qtbot, window)                               # the dialog comes up while rho is being edited
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_O, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: window.error_dialog is not None and window.error_dialog.isVisible())
    box = window.error_dialog
    assert "notes.gscope" in box.text() and "not a gradscope session" in box.text()
    assert not INTERNALS.search(box.text()), box.text()
    assert "SessionError" in box.detailedText() and "Traceback" in box.detailedText()
    close_by_ok(qtbot, window)
    assert_the_keys_are_the_windows(qtbot, window, opened)


def test_a_failed_export_names_the_problem_without_its_class(qtbot, replay_only_window, monkeypatch, tmp_path,
                                                             open_from_menu):
    window = replay_only_window
    window.activateWindow()
    assert open_from_menu(window, write_synthetic(tmp_path / "s.gscope", steps=20))
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        staticmethod(lambda *args, **kwargs: (str(tmp_path / "gone" / "series.csv"), "")))
    opened = OpenDialog(monkeypatch)
    export = next(action for action in window.export_menu.actions() if action.text().startswith("Run's series as CSV"))
    export.trigger()
    qtbot.waitUntil(lambda: window.error_dialog is not None and window.error_dialog.isVisible())
    box = window.error_dialog
    assert box.windowTitle() == "Export failed" and "does not exist" in box.text() and "gone" in box.text()
    assert not INTERNALS.search(box.text()), box.text()
    assert "ExportError" in box.detailedText()
    close_by_ok(qtbot, window)
    assert_the_keys_are_the_windows(qtbot, window, opened)


def test_a_refused_comparison_dialog_gives_the_keys_back(qtbot, replay_only_window, monkeypatch):
    window = replay_only_window
    window.activateWindow()
    monkeypatch.setattr(QInputDialog, "getText", staticmethod(lambda *args, **kwargs: ("rho=0.5,0.50", True)))
    opened = OpenDialog(monkeypatch)
    window.compare_action.trigger()
    qtbot.waitUntil(lambda: window.error_dialog is not None and window.error_dialog.isVisible())
    assert not INTERNALS.search(window.error_dialog.text()), window.error_dialog.text()
    close_by_ok(qtbot, window)
    assert_the_keys_are_the_windows(qtbot, window, opened)


def test_a_run_that_fails_is_told_in_plain_words_and_its_dialog_gives_the_keys_back(qtbot, make_window, monkeypatch,
                                                                                     tmp_path):
    window = make_window(RunConfig(task="csv", csv=str(tmp_path / "no-such-series.csv"), seq_len=12, hidden=8, batch=8))
    window.activateWindow()
    opened = OpenDialog(monkeypatch)
    window.run_action.trigger()
    qtbot.waitUntil(lambda: window.error_dialog is not None and window.error_dialog.isVisible(), timeout=START)
    delivered = window.errors[-1]                       # what the lab sent: the run's traceback
    assert "Traceback" in delivered and "ConfigError" in delivered
    plain = plain_words(delivered)
    assert plain.text.startswith("CSV file: ") and "no-such-series.csv" in plain.text
    assert not INTERNALS.search(plain.text), plain.text
    assert plain.details == delivered.strip()
    close_by_ok(qtbot, window)
    assert_the_keys_are_the_windows(qtbot, window, opened)


@pytest.mark.parametrize("problem, said", [
    (FileNotFoundError(2, "No such file or directory", "/data/x.csv"), "No such file or directory: /data/x.csv"),
    ("gradscope.config.errors.ConfigError: --seq-len: must be at least 2", "sequence length T: must be at least 2"),
    ("Traceback (most recent call last):\n  File \"a.py\", line 1, in <module>\nKeyError: 'x'\n\nDuring handling of "
     "the above exception, another exception occurred:\n\nTraceback (most recent call last):\n  File \"b.py\", "
     "line 2, in <module>\nRuntimeError: the probe process ended", "the probe process ended"),
    ("The training process ended unexpectedly (exit code -9).", "The training process ended unexpectedly (exit code -9)."),
])
def test_plain_words_keep_what_was_said_and_leave_the_internals_out(problem, said):
    plain = plain_words(problem)
    assert plain.text == said
    assert not INTERNALS.search(plain.text.replace("exit code", ""))
