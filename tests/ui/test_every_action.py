"""Every menu action and toolbar button, triggered as a click would (QAction.trigger), with the
dialogs patched where they open (QFileDialog, QInputDialog): none raises, each does what it
names, and the window goes on. (Save As was once dead in the window while its test, which
called the method behind it, passed.)"""
from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog, QInputDialog

EXAMPLE = Path(__file__).parents[2] / "sessions" / "exploding-rnn-clipped.gscope"
SKIPPED = {"Quit"}            # closes the window: triggered last, on its own


def every_action(window) -> list[QAction]:
    """The menus' actions, submenus walked, then the toolbar's; each once."""
    found: list[QAction] = []

    def walk(actions) -> None:
        for action in actions:
            if action.isSeparator():
                continue
            if action.menu() is not None:
                walk(action.menu().actions())
            elif action not in found:
                found.append(action)

    walk(window.menuBar().actions())
    walk(window.toolbar.actions())
    return found


@pytest.fixture
def dialogs(monkeypatch, tmp_path):
    """The dialogs answer as a user would, and say what they were asked."""
    asked = []

    def save(parent, caption, start="", filter_=""):
        asked.append(("save", caption))
        suffix = filter_.split("*.")[-1].rstrip(")") if "*." in filter_ else "gscope"
        return str(tmp_path / f"answer-{len(asked)}.{suffix}"), filter_

    def open_(parent, caption, start="", filter_=""):
        asked.append(("open", caption))
        return str(EXAMPLE), filter_

    def text(parent, title, label, *args, **kwargs):
        asked.append(("text", title))
        return ("0:30", True) if "animation" in title.lower() else ("", True)

    def item(parent, title, label, items, *args, **kwargs):
        asked.append(("item", title))
        return items[0], True

    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(save))
    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(open_))
    monkeypatch.setattr(QInputDialog, "getText", staticmethod(text))
    monkeypatch.setattr(QInputDialog, "getItem", staticmethod(item))
    return asked


def test_every_action_acts_through_its_qaction(qtbot, replay_only_window, dialogs, tmp_path):
    window = replay_only_window
    window.open_action.trigger()               # File > Open…, the dialog answering the example
    assert window.lab.recorded is not None
    actions = every_action(window)
    names = {action.text() for action in actions}
    for expected in ("Open…", "Save As…", "New Live Session", "Run", "Step", "Reset", "Compare…", "Presentation",
                     "Next Layout", "Threshold Up", "Window as PNG…", "Replay as GIF…", "Run's series as CSV…"):
        assert any(name.startswith(expected.rstrip("…")) for name in names), expected
    triggered = []
    for action in actions:
        if action.text() in SKIPPED or not action.isEnabled():
            continue
        if window.lab.recorded is None:
            window.open_action.trigger()           # New Live Session left the replay: back to it
        action.trigger()
        qtbot.wait(10)
        triggered.append(action.text())
        if window.presentation.active:
            window.presentation_action.trigger()
        assert window.isVisible(), action.text()
    assert window.errors == [], window.errors
    # the file actions asked their dialogs and wrote what they were told to
    captions = [caption for _, caption in dialogs]
    assert "Save session as" in captions and "Open a session" in captions
    written = sorted(path.suffix for path in tmp_path.glob("answer-*"))
    assert ".gscope" in written and ".png" in written and ".svg" in written and ".gif" in written
    assert ".csv" in written and ".npz" in written
    assert len(triggered) >= 25
    quit_action = next(action for action in actions if action.text() == "Quit")
    quit_action.trigger()
    assert not window.isVisible()
