"""The timeline's event list on the shipped exploding example: clipping that fires on and off
all through the run is listed stretch by stretch, and a click on a stretch jumps to its first
step. The file is opened through File > Open, the entry clicked with the mouse."""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog

from gradscope import load_session
from gradscope.ui.timeline import CLIP_STRETCH_GAP

EXAMPLE = Path(__file__).resolve().parents[2] / "sessions" / "exploding-rnn-clipped.gscope"


def expected_stretches() -> list[tuple[int, int]]:
    """(first, last) clipped step of each stretch, from the file, by a plain loop."""
    steps, clipped = load_session(EXAMPLE).runs[0].series_with_steps("clipped")
    stretches: list[list[int]] = []
    for step in np.asarray(steps)[np.asarray(clipped) > 0.5]:
        if stretches and step - stretches[-1][1] <= CLIP_STRETCH_GAP:
            stretches[-1][1] = int(step)
        else:
            stretches.append([int(step), int(step)])
    return [tuple(stretch) for stretch in stretches]


def test_each_stretch_of_clipping_is_an_entry_and_a_click_jumps_to_its_first_step(
        qtbot, replay_only_window, monkeypatch):
    window = replay_only_window
    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(lambda *args, **kwargs: (str(EXAMPLE), "")))
    window.open_action.trigger()
    qtbot.waitUntil(lambda: window.lab.recorded is not None and window.timeline.isVisible())
    events = window.timeline.events
    items = [events.item(row) for row in range(events.count())]
    clipping = [item for item in items if "clipping fired" in item.text()]
    stretches = expected_stretches()
    assert len(stretches) > 10                           # the example clips on and off: 239 of 600 steps
    assert len(clipping) == len(stretches)
    for item, (first, last) in zip(clipping, stretches):
        span = f"steps {first:,}–{last:,}" if last > first else f"step {first:,}"
        assert item.text().startswith(f"{span}: clipping fired"), item.text()
        assert item.data(Qt.ItemDataRole.UserRole) == first
    counted = sum(int(item.text().split("fired ")[1].split(" time")[0]) for item in clipping)
    assert counted == 239

    for item, (first, _) in ((clipping[3], stretches[3]), (clipping[-1], stretches[-1])):
        events.scrollToItem(item)
        qtbot.mouseClick(events.viewport(), Qt.MouseButton.LeftButton, pos=events.visualItemRect(item).center())
        qtbot.waitUntil(lambda first=first: window.lab.cursor == first)
        assert window.timeline.step_field.value() == first
