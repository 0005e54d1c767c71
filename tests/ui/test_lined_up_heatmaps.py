"""A heatmap shares its x axis with the plot above it (the error signal's timesteps, the depth's
layers): timestep t stands at the same x in both, at the desk, in presentation mode, and at the
desk again after it. A colour bar is a pyqtgraph PlotItem, and the look's restyle had given the
edge of its frame a plot's 92 px left axis: in presentation mode at 1280x720 the heatmap ended
160 px short of the curve above it, and back at the desk it stayed narrower."""
from __future__ import annotations

from pathlib import Path

import pytest

from gradscope.ui import theme

EXAMPLE = Path(__file__).parents[2] / "sessions" / "exploding-rnn.gscope"


def settle(window, qapp) -> None:
    for _ in range(4):
        qapp.processEvents()
        window.redraw(everything=True)
    qapp.processEvents()


def assert_lined_up(panel, map_view) -> None:
    above, below = panel.plot.vb.sceneBoundingRect(), map_view.plot.vb.sceneBoundingRect()
    assert below.width() > 40         # (the offscreen screen is 800 px wide: the window leaves full screen narrow)
    assert abs(above.left() - below.left()) <= 1 and abs(above.right() - below.right()) <= 1, (above, below)
    # the colour bar stands right of the heatmap, whole, its tick labels inside the panel
    bar = map_view.colorbar.sceneBoundingRect()
    view = panel.graphics
    edge = view.mapToScene(view.viewport().rect()).boundingRect()
    assert bar.left() >= below.right() and bar.right() <= edge.right() + 1, (bar, below, edge)
    assert bar.width() == pytest.approx(theme.colorbar_room() - theme.COLORBAR_GAP, abs=1)


def test_the_error_signal_heatmap_lines_up_with_the_curves_in_both_looks(qtbot, qapp, replay_only_window,
                                                                          open_from_menu):
    window = replay_only_window
    assert open_from_menu(window, EXAMPLE)
    panel = window.panels["timesteps"]
    settle(window, qapp)
    assert_lined_up(panel, panel.map)
    window.presentation_action.trigger()                     # F11's action
    settle(window, qapp)
    assert theme.LOOK is theme.PRESENTATION
    assert_lined_up(panel, panel.map)
    window.presentation_action.trigger()
    settle(window, qapp)
    assert theme.LOOK is theme.DESK
    assert_lined_up(panel, panel.map)


def test_the_depth_heatmap_lines_up_with_the_layers_in_presentation(qtbot, qapp, replay_only_window,
                                                                     open_from_menu, lenet_session):
    window = replay_only_window
    assert open_from_menu(window, lenet_session)
    next(action for action in window.layout_actions if action.data() == "depth").trigger()   # View > Layout
    window.presentation_action.trigger()
    settle(window, qapp)
    panel = window.panels["depth"]
    assert panel.isVisible()
    assert_lined_up(panel, panel.map)
