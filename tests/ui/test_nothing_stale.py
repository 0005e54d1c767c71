"""Runs that have not taken a step yet show nothing of the runs before them: after Reset, and
after a setting that starts new runs, every panel clears what it drew and says it waits for
the first step (a review found the old heatmap and readout "step 230" under "no step yet")."""
from __future__ import annotations

import pyqtgraph as pg

from gradscope.config import RunConfig
from gradscope.ui.panels.base import WAITING_NOTE
from gradscope.ui.panels.curves import Curve


def drawn_items(panel) -> int:
    """Curves with points and images with pixels in the panel's scene."""
    count = 0
    for item in panel.graphics.scene().items():
        if isinstance(item, Curve) and item.x_values.size:
            count += 1
        elif isinstance(item, pg.ImageItem) and item.image is not None:
            count += 1
    return count


def test_reset_and_new_settings_leave_nothing_of_the_runs_before(qtbot, make_window):
    window = make_window(RunConfig(arch="rnn", task="adding", hidden=8, seq_len=10, steps=100_000, probe_every=5))
    window.run_action.trigger()
    qtbot.waitUntil(lambda: bool(window.lab.slots) and window.lab.slots[0].history.probes_seen >= 2, timeout=60_000)
    window.run_action.trigger()                                   # pause
    qtbot.waitUntil(lambda: window.lab.state == "paused", timeout=20_000)
    window.redraw(everything=True)
    panels = [window.panels[name] for name in window.stage.on_stage()]
    assert all(drawn_items(panel) for panel in panels)
    for act in (lambda: window.reset_action.trigger(), lambda: window.lab.set_setting("hidden", 12)):
        act()
        qtbot.waitUntil(lambda: bool(window.lab.slots) and not window.lab.slots[0].history.steps_seen, timeout=20_000)
        window.redraw(everything=True)
        for panel in panels:
            assert drawn_items(panel) == 0, panel.name
            assert panel.empty_note.isVisibleTo(panel) and panel.empty_note.text() == WAITING_NOTE
