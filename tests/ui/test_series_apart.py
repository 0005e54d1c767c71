"""Within a plot, no two series of one run differ by colour alone: each keyed series has its
own line style, markers, or drawing (a band, ticks above the curve, ticks below it), so a
colour-blind student or a washed-out projector still tells them apart. Checked on every
panel's keys, with the example sessions opened through File > Open and a what-if threshold
set with the ] key."""
from __future__ import annotations

from pathlib import Path

import pyqtgraph as pg
import pytest
from PySide6.QtCore import Qt

from gradscope.ui.panels.curves import Curve

SESSIONS = Path(__file__).resolve().parents[2] / "sessions"


def signature(item) -> tuple:
    """How a keyed series is drawn, its colour aside."""
    if isinstance(item, Curve):
        return ("curve", item.opts["pen"].style(), item.gradscope_symbol, item.opts["connect"],
                getattr(item, "gradscope_placement", None))
    if isinstance(item, pg.PlotDataItem):
        pen = item.opts.get("pen")
        return ("data", None if pen is None else pg.mkPen(pen).style(), item.opts.get("symbol"))
    if isinstance(item, pg.ScatterPlotItem):
        return ("scatter", item.opts.get("symbol"))
    return (type(item).__name__,)


@pytest.mark.parametrize("name", ["lstm.gscope", "exploding-rnn-clipped.gscope"])
def test_every_keyed_series_differs_by_more_than_its_colour(replay_only_window, open_from_menu, qtbot, name):
    window = replay_only_window
    assert open_from_menu(window, SESSIONS / name)
    window.lab.seek(300)
    qtbot.keyClick(window, Qt.Key.Key_BracketRight)           # a what-if threshold on the replay
    window.redraw(everything=True)
    checked = 0
    for panel in window.panels.values():
        for item in panel.graphics.scene().items():
            if not isinstance(item, pg.LegendItem):
                continue
            keyed = [(label.text, signature(sample.item)) for sample, label in item.items
                     if sample.item.isVisible()]
            signatures = [s for _, s in keyed]
            assert len(set(signatures)) == len(signatures), (panel.name, keyed)
            checked += len(keyed) > 1
    assert checked >= 2
