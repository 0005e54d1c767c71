"""The settings a launch starts from are the live lab's: opening the example sessions (the
README's tour) and closing the window leaves the next launch's first run as it was, not the
last replay's settings (the tour's exploding RNN had become the first live run)."""
from __future__ import annotations

import shutil
from pathlib import Path

from PySide6.QtCore import QSettings, Qt

from gradscope.config import RunConfig

from test_settings_keyboard import click_setting

EXAMPLES = Path(__file__).parents[2] / "sessions"


def test_a_tour_of_the_examples_leaves_the_live_settings_as_they_were(tmp_path, windows_sharing_settings,
                                                                       open_from_menu):
    for name in ("vanishing-rnn.gscope", "exploding-rnn.gscope"):
        shutil.copy(EXAMPLES / name, tmp_path / name)
    mine = RunConfig(hidden=48, seq_len=30)
    first = windows_sharing_settings(config=mine)
    first.close()                                          # the live lab's settings are kept

    window = windows_sharing_settings()
    assert window.lab.config == mine
    for name in ("vanishing-rnn.gscope", "exploding-rnn.gscope"):
        assert open_from_menu(window, tmp_path / name)
    shown = window.lab.config                              # the replay's run's settings, on the left
    assert shown.rho == 1.6 and shown.optimizer == "sgd" and shown != mine
    assert RunConfig.from_json(window.settings.value("run/config")) == mine
    window.close()

    again = windows_sharing_settings()
    assert again.lab.config == mine
    again.close()


def test_settings_changed_live_after_a_replay_are_kept(qtbot, tmp_path, make_window, open_from_menu):
    """New Live Session after a replay starts from the replay's settings on the left; once live,
    they and any change to them are what the next launch starts from."""
    shutil.copy(EXAMPLES / "exploding-rnn.gscope", tmp_path / "exploding.gscope")
    window = make_window(RunConfig(hidden=48))
    assert open_from_menu(window, tmp_path / "exploding.gscope")
    window.new_action.trigger()
    assert window.lab.recorded is None
    editor = click_setting(qtbot, window, "hidden")       # typed into the settings, as a person does
    qtbot.keyClicks(editor, "40")
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.lab.config.hidden == 40)
    window.close()
    kept = QSettings(window.settings.fileName(), QSettings.Format.IniFormat).value("run/config")
    assert RunConfig.from_json(kept) == window.lab.config
    assert window.lab.config.hidden == 40 and window.lab.config.rho == 1.6
