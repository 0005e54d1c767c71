"""The toolbar (the menu bar's corner) shows every button in a replay as in the live lab: its
Run button reads "Play" on a replay, 3 px wider, and the menu bar, which sizes its corner only
when it is set, had put Save As behind the overflow arrow."""
from __future__ import annotations

from pathlib import Path

EXAMPLE = Path(__file__).parents[2] / "sessions" / "exploding-rnn.gscope"


def assert_every_button_shown(window) -> None:
    toolbar = window.toolbar
    hidden = [action.text() for action in toolbar.actions()
              if action.isVisible() and not toolbar.widgetForAction(action).isVisible()]
    assert hidden == []
    assert toolbar.geometry().right() < window.menuBar().width()


def test_save_as_stays_on_the_toolbar_in_a_replay(qtbot, qapp, replay_only_window, open_from_menu):
    window = replay_only_window
    qapp.processEvents()
    assert_every_button_shown(window)
    assert open_from_menu(window, EXAMPLE)
    qapp.processEvents()
    assert window.run_action.text() == "Play"
    assert_every_button_shown(window)
