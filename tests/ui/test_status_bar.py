"""The status bar names the session file, its folder in the tooltip: in presentation mode a
whole path ("replaying /work/main/sessions/exploding-rnn.gscope") ran off its end."""
from __future__ import annotations

from pathlib import Path

EXAMPLE = Path(__file__).parents[2] / "sessions" / "exploding-rnn.gscope"


def test_the_status_bar_names_the_file_whole(qtbot, qapp, replay_only_window, open_from_menu):
    window = replay_only_window
    assert open_from_menu(window, EXAMPLE)
    for _ in range(3):
        qapp.processEvents()
    label = window.status_labels["session"]
    assert label.text() == "replaying exploding-rnn.gscope"
    assert label.toolTip() == f"replaying {EXAMPLE.resolve()}"
    assert label.isVisible() and label.fontMetrics().horizontalAdvance(label.text()) <= label.contentsRect().width()
