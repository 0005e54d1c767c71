"""File > Export as a person uses it, through the menu's actions with the dialogs patched: the
file dialog opens in the Pictures folder the first time (home where there is none), then in
the folder of the last export, remembered in QSettings; and each export says in the status bar
which file it wrote."""
from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QFileDialog, QInputDialog, QSizeGrip, QWidget

from test_replay import write_synthetic

from gradscope.ui.exporting import FOLDER_KEY, export_folder


class SaveDialog:
    """QFileDialog.getSaveFileName: notes where it opened, answers with the next path given."""

    def __init__(self, monkeypatch, *answers: Path):
        self.answers, self.opened_at = list(answers), []
        monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(self))

    def __call__(self, parent, caption, start, filters):
        self.opened_at.append(Path(start).parent)
        return str(self.answers.pop(0)), filters


@pytest.fixture
def home(monkeypatch, tmp_path) -> Path:
    """A home of the test's own, where the user's Pictures folder is looked for."""
    folder = tmp_path / "home"
    (folder / ".config").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(folder))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(folder / ".config"))
    return folder


@pytest.fixture
def window(replay_only_window, tmp_path, open_from_menu):
    assert open_from_menu(replay_only_window, write_synthetic(tmp_path / "lesson.gscope", steps=40))
    return replay_only_window


def trigger(window, text: str) -> None:
    next(action for action in window.export_menu.actions() if action.text().startswith(text)).trigger()


def test_the_first_export_opens_in_pictures_the_next_where_the_last_went_and_each_names_its_file(
        qtbot, window, home, monkeypatch, tmp_path):
    pictures = home / "Pictures"
    pictures.mkdir()
    slides = tmp_path / "slides"
    slides.mkdir()
    panel = window.panels["grad_norm"]
    monkeypatch.setattr(QInputDialog, "getItem", staticmethod(lambda *args, **kwargs: (panel.title, True)))
    monkeypatch.setattr(QInputDialog, "getText", staticmethod(lambda *args, **kwargs: ("0:10", True)))
    dialog = SaveDialog(monkeypatch, slides / "norm.png", slides / "norm.gif", tmp_path / "data" / "run.csv")

    trigger(window, "Panel as PNG")
    assert dialog.opened_at == [pictures]                          # not the sessions folder
    assert (slides / "norm.png").stat().st_size > 0
    assert window.statusBar().currentMessage() == f"Exported the {panel.title} panel: norm.png in {slides}"

    trigger(window, "Replay as GIF")
    assert dialog.opened_at[1] == slides
    assert window.statusBar().currentMessage() == f"Exported 10 frames: norm.gif in {slides}"

    (tmp_path / "data").mkdir()
    trigger(window, "Run's series as CSV")
    assert dialog.opened_at[2] == slides
    assert window.statusBar().currentMessage() == f"Exported 40 rows of run 0: run.csv in {tmp_path / 'data'}"

    window.settings.sync()                                         # a new start reads the same folder
    again = SimpleNamespace(settings=QSettings(window.settings.fileName(), QSettings.Format.IniFormat))
    assert again.settings.value(FOLDER_KEY) == str(tmp_path / "data") and export_folder(again) == tmp_path / "data"


def test_without_a_pictures_folder_the_dialog_opens_at_home_and_a_vanished_folder_is_forgotten(
        qtbot, window, home, monkeypatch, tmp_path):
    dialog = SaveDialog(monkeypatch, tmp_path / "window.png")
    window.settings.setValue(FOLDER_KEY, str(tmp_path / "a folder since deleted"))
    trigger(window, "Window as PNG")
    assert dialog.opened_at == [home]
    assert window.statusBar().currentMessage() == f"Exported the window: window.png in {tmp_path}"


def test_the_confirmation_has_room_to_be_read_at_1280_px(qtbot, window, monkeypatch, tmp_path):
    window.resize(1280, 720)
    qtbot.waitUntil(lambda: window.width() == 1280)
    SaveDialog(monkeypatch, tmp_path / "window.png")
    trigger(window, "Window as PNG")
    status = window.statusBar()
    read = "Exported the window: window.png in "             # the folder may be cut, not the file
    # QStatusBar hides its other widgets while it shows a message and draws the message from
    # x=6 up to the first widget still on show (a permanent one)
    shown = [child.x() for child in status.children() if isinstance(child, QWidget) and child.isVisible()
             and not isinstance(child, QSizeGrip)]
    room = min(shown, default=status.width()) - 2 - 6
    assert status.currentMessage().startswith(read)
    assert QFontMetrics(status.font()).horizontalAdvance(read) <= room, room
