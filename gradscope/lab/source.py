"""What the lab's two sources share: the live source (`gradscope.lab.live`, the training
process) and the recorded source (`gradscope.lab.recorded`, a session file) answer the same
commands, and tell the lab the same things.

Commands, from the lab: `start()` (train, or play), `pause()`, `step()` (one step, then
paused), `seek(step, cursor)`, `run_to(step)` (go on to `step` and pause there), `pump()` (hand
over what has arrived, or what the replay clock has passed), `close()`.

What a source tells the lab (its `attach`ed sink, the LabModel): `show_slots(slots, live)`
(these runs are on show now), `slot_updated(slot)` (its history grew), `source_state_changed()`,
`slot_diverged(slot, event)`, `run_failed(text)`, `setting_refused(text)`, `file_problem(text)`,
`cursor_moved(step)` and `notice(text)`. A source not attached to the lab tells it nothing.
"""
from __future__ import annotations

PUMP_BUDGET_SECONDS = 0.012       # a pump hands over at most this much work per call, the rest next time


class SourceError(RuntimeError):
    """What a source cannot do (a live run cannot go back), said in one line."""
