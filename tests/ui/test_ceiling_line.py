"""The dashed m^(T−t) line is a ceiling the README's tour points at: on the exploding example
at step 0 it rises to 9.2·10^9 at t = 0, far above the measured curves. The y axis takes in
up to two decades of it beyond the curves, so the class sees it climb out of the plot (it had
been a stub at the last few timesteps) while the curves keep most of the height."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from gradscope.series import HIDDEN_GRAD_NORM, JACOBIAN_NORM, STEP_JACOBIAN_NORM
from gradscope.ui.panels.timesteps import CEILING_DECADES, decay_line, within_decades

EXAMPLE = Path(__file__).parents[2] / "sessions" / "exploding-rnn.gscope"


def test_within_decades_clips_the_line_to_the_measured_span():
    line = 10.0 ** np.arange(12.0, -6.0, -1.0)             # 10^12 down to 10^-5
    measured = [np.array([1e-2, 3.0]), np.array([np.nan, 0.0, 0.5])]
    clipped = within_decades(line, measured, 2.0)
    assert clipped.max() == 300.0 and clipped.min() == 1e-4
    assert np.array_equal(clipped[(line <= 300.0) & (line >= 1e-4)], line[(line <= 300.0) & (line >= 1e-4)])
    assert within_decades(line, [np.array([np.nan, -1.0])]).size == 0


def test_the_exploding_ceiling_climbs_out_of_the_plot(qtbot, replay_only_window, open_from_menu):
    window = replay_only_window
    assert open_from_menu(window, EXAMPLE)
    window.lab.seek(0)
    window.redraw(everything=True)
    panel = window.panels["timesteps"]
    latest = window.lab.slots[0].history.latest
    measured = np.concatenate([latest[HIDDEN_GRAD_NORM.name()], latest[JACOBIAN_NORM.name()]])
    line, mean = decay_line(latest[STEP_JACOBIAN_NORM.name()])
    assert mean > 1.5 and line.max() > 1e9                   # the README's 9.2·10^9
    (_, _), (low, high) = panel.plot.vb.viewRange()          # log10 on the log axis
    top = np.log10(measured.max())
    assert high >= top + CEILING_DECADES - 0.01               # two decades of the ceiling are on show
    assert high <= top + CEILING_DECADES + 0.5 * (top + CEILING_DECADES - np.log10(measured.min()))
    shown = np.log10(line) <= high
    assert 3 <= shown.sum() < line.size                       # it rises through the plot and out of it
    assert low <= np.log10(measured.min())                    # every measured point stays in view
