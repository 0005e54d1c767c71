"""What the lab model tells its views: psygnal signals, named in the past tense, emitted in
the thread that calls the lab (the window's, whose timer pumps it). The views subscribe in
their __init__ and name their handlers `_on_<signal>`."""
from __future__ import annotations

from psygnal import Signal, SignalGroup

FINAL_STATES = ("stopped", "finished", "failed", "diverged")


class LabEvents(SignalGroup):
    config_changed = Signal(object, str)     # the RunConfig, and the setting that changed ("" for all)
    comparison_changed = Signal(object)      # a Comparison, or None
    source_changed = Signal(str)             # "live" or "recorded"
    state_changed = Signal(str)              # idle, starting, running, paused, a final state; replay, playing
    slots_changed = Signal()                 # other runs are on show
    cursor_moved = Signal(int)               # the step on show
    histories_changed = Signal()             # what the panels draw grew: time to redraw
    diverged = Signal(object, object)        # the RunSlot, the divergence Event
    run_failed = Signal(str)                 # a traceback, or what happened to the training process
    refused = Signal(str)                    # a setting or a command the lab could not take, and why
    file_problem = Signal(str)               # a part of a session file that cannot be read
    notice = Signal(str)                     # something to say in passing (the device, "ready")
    session_changed = Signal(str)            # the file recorded into, or replayed
    layout_changed = Signal(str)             # the layout on show (gradscope.lab.layouts)
    pace_changed = Signal(float)             # seconds between slow-motion steps (0: full speed)
