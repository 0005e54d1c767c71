"""`gradscope bench --gui`'s figures for presentation mode (`gradscope.ui.presentation`), at a
projector's 1280x720:

* the gaps between 16 ms ticks while an LSTM H=128 T=100 trains (the goal: p99 within 40 ms,
  33 ms at best);
* one frame with the presentation look (no data line under 3 px: wide pens are slow in Qt)
  against the desk's look, both at 1280x720 and on the same history, measured side by side
  (the goal: a frame within 10 ms).

The window is put in presentation mode through its action, then given 1280x720 as a window:
offscreen there is no 1280x720 screen for it to fill, and what is measured is the look and the
size, not the window manager.
"""
from __future__ import annotations

import statistics
import time

from gradscope.bench.window import WINDOW_SIZE, frames_after_records, spin, tick_gaps_for

PRESENTATION_SIZE = (1280, 720)


def _enter(window) -> None:
    from PySide6.QtCore import Qt

    if not window.presentation.active:
        window.presentation_action.trigger()
    window.setWindowState(Qt.WindowState.WindowNoState)
    window.resize(*PRESENTATION_SIZE)
    spin(0.3)                        # the new look's layout settles before anything is timed


def _leave(window, size=WINDOW_SIZE) -> None:
    if window.presentation.active:
        window.presentation_action.trigger()
    window.resize(*size)
    spin(0.3)


def presentation_ticks(window, seconds: float) -> dict:
    """Tick gaps in presentation mode while the run on show trains (and its steps per second)."""
    _enter(window)
    try:
        run = window.lab.current
        first_step, began = run.last_step, time.perf_counter()
        figures = tick_gaps_for(seconds)
        figures["steps_per_s"] = round((window.lab.current.last_step - first_step) / (time.perf_counter() - began), 1)
    finally:
        _leave(window)
    return figures


def desk_against_presentation(window, counter, runs: list, step: int, count: int) -> tuple[dict, int]:
    """Median frames at 1280x720 in the desk's look, then in presentation mode, on the same
    runs fed on; and their ratio."""
    window.resize(*PRESENTATION_SIZE)
    spin(0.3)
    _, step = frames_after_records(window, counter, runs, step, 3)          # the new size's layout settles
    desk, step = frames_after_records(window, counter, runs, step, count)
    _enter(window)
    try:
        _, step = frames_after_records(window, counter, runs, step, 3)
        presented, step = frames_after_records(window, counter, runs, step, count)
    finally:
        _leave(window)
    desk_ms, presented_ms = statistics.median(desk), statistics.median(presented)
    return {"desk_ms": round(desk_ms, 2), "presentation_ms": round(presented_ms, 2),
            "presentation_over_desk": round(presented_ms / max(desk_ms, 1e-6), 3)}, step
