"""At 1280x720 at the desk, beside the settings, every layout's tabs fit the tab bar whole: in
the Gates layout "Task" had been behind scroll arrows, and the tab "Step Jacobians and W_hh"
lost its underscore. A panel's tab goes by its short title; its tooltip names it whole."""
from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtGui import QFontMetrics

LSTM = Path(__file__).parents[2] / "sessions" / "lstm.gscope"


def assert_tabs_whole(window, qapp) -> None:
    for _ in range(3):
        qapp.processEvents()
    bar = window.stage.tabBar()
    metrics = QFontMetrics(bar.font())
    assert bar.tabRect(bar.count() - 1).right() <= bar.width(), window.lab.layout
    for index in range(bar.count()):
        text = bar.tabText(index)
        assert "_" not in text
        assert bar.tabRect(index).width() >= metrics.horizontalAdvance(text), (window.lab.layout, text)


@pytest.mark.parametrize("session", ["lstm", "lenet"])
def test_every_layouts_tabs_fit_at_1280x720(qtbot, qapp, replay_only_window, open_from_menu, lenet_session, session):
    window = replay_only_window
    window.resize(1280, 720)
    assert open_from_menu(window, LSTM if session == "lstm" else lenet_session)
    assert window.settings_dock.isVisible()
    shown = [action for action in window.layout_actions if action.isVisible() and action.isEnabled()]
    assert len(shown) >= 4
    for action in shown:
        action.trigger()                                      # View > Layout
        assert window.lab.layout == action.data()
        assert_tabs_whole(window, qapp)
    tips = [window.stage.tabToolTip(index) for index in range(1, window.stage.count())]
    assert all(tip.startswith("The ") and tip.endswith(" panel") for tip in tips)
