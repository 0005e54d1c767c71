"""Closing a window deletes its plots' pyqtgraph menus while its scenes still stand (see
`gradscope.ui.teardown`): the window's later deletion then has no Python-owned menu or option
widget to release from inside Qt's scene destructor, where PySide6 crashed."""
from __future__ import annotations

from pathlib import Path

import pyqtgraph as pg
from PySide6.QtWidgets import QWidgetAction

EXAMPLE = Path(__file__).parents[2] / "sessions" / "exploding-rnn.gscope"


def test_closing_the_window_deletes_every_plot_menu_first(qtbot, qapp, replay_only_window, open_from_menu):
    window = replay_only_window
    assert open_from_menu(window, EXAMPLE)
    window.redraw(everything=True)
    items = [item for panel in window.panels.values() for item in panel.graphics.scene().items()]
    boxes = [item for item in items if isinstance(item, pg.ViewBox)]
    plots = [item for item in items if isinstance(item, pg.PlotItem)]
    assert sum(box.menu is not None for box in boxes) >= 5        # (a colour bar has none)
    assert sum(bool(plot.findChildren(QWidgetAction)) for plot in plots) >= 5
    window.close()                                   # File > Quit's and the title bar's close
    assert all(box.menu is None for box in boxes)
    assert all(plot.ctrlMenu is None and not plot.findChildren(QWidgetAction) for plot in plots)
    window.redraw(everything=True)                   # the plots still draw after it
