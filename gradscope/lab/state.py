"""What the lab model holds, and how its sources change it: the slots on show and the earlier
runs faded behind them, the cursor, the run state, and the source on show (`live` or
`recorded`). The sources (`gradscope.lab.source`) call the methods below, and nothing else
changes these; `gradscope.lab.model.LabModel` adds the user's commands."""
from __future__ import annotations

from pathlib import Path

from gradscope.lab.events import FINAL_STATES, LabEvents
from gradscope.lab.history import RunHistory
from gradscope.lab.slots import RunSlot

MAX_EARLIER = 3        # earlier live runs drawn faded on the per-timestep view


class LabState:
    def __init__(self) -> None:
        self.events = LabEvents()
        self.slots: list[RunSlot] = []
        self.earlier: list[RunHistory] = []
        self.cursor = -1
        self.state = "idle"
        self.stray_updates = 0          # slot updates from a source not on show (never drawn)
        self.errors: list[str] = []
        self.live = None                # the LiveSource, or None in a window that only replays
        self.recorded = None            # the RecordedSource while a recording is on show
        self._dirty = False

    # -- what is on show --------------------------------------------------------------------

    @property
    def kind(self) -> str:
        """Which source is on show: "live" or "recorded"."""
        return "recorded" if self.recorded is not None else "live"

    @property
    def active(self) -> bool:
        """A live run exists that can go on (it may be paused, or still starting)."""
        return self.kind == "live" and self.state in ("starting", "running", "paused")

    @property
    def session_path(self) -> Path | None:
        if self.recorded is not None:
            return Path(self.recorded.path)
        return None if self.live is None else self.live.session_path

    @property
    def current(self) -> RunHistory | None:
        """The first slot's history (the run the status bar speaks of)."""
        return self.slots[0].history if self.slots else None

    # -- what the sources tell the lab (gradscope.lab.source) ----------------------------------

    def show_slots(self, slots: list[RunSlot], live: bool) -> None:
        if live and self.recorded is not None:
            self.stray_updates += 1           # live runs while a recording is on show: never shown
            return
        if live:
            # the runs that were on show stay, faded, behind the new ones (RNN, LSTM and GRU on one axis)
            for slot in self.slots:
                slot.history.forget_series()
            self.earlier = ([slot.history for slot in self.slots] + self.earlier)[:MAX_EARLIER]
        self.slots = list(slots)
        if self.slots and hasattr(self, "match_layout"):
            self.match_layout()          # a CNN's runs after an RNN's: the image layouts
        self.events.slots_changed.emit()
        self._dirty = True
        if live:
            self.source_state_changed()

    def slot_updated(self, slot: RunSlot) -> None:
        if slot not in self.slots:
            self.stray_updates += 1       # never drawn: its source is not on show
            return
        self._dirty = True

    def source_state_changed(self) -> None:
        if self.recorded is not None:
            self._set_state("playing" if self.recorded.playing else "replay")
            return
        if self.live is not None and self.live.pending:
            self._set_state("starting")
            return
        states = [slot.state for slot in self.slots]
        if not states:
            return
        for state in ("running", "paused", "starting"):
            if state in states:
                self._set_state(state)
                return
        if len(set(states)) == 1:
            self._set_state(states[0])
        else:
            self._set_state(next(state for state in ("stopped", "finished", "diverged", "failed") if state in states))

    def slot_diverged(self, slot: RunSlot, event) -> None:
        if slot in self.slots:
            self.events.diverged.emit(slot, event)

    def run_failed(self, text: str) -> None:
        self.errors.append(text)
        if self.kind == "live" and self.state not in FINAL_STATES:
            self._set_state("failed")
        self.events.run_failed.emit(text)

    def setting_refused(self, text: str) -> None:
        if text.startswith("cannot fork") and self.state == "starting":
            self._set_state("idle")
        self._refuse(text)

    def file_problem(self, text: str) -> None:
        self.errors.append(text)
        self.events.file_problem.emit(text)

    def cursor_moved(self, step: int) -> None:
        self.cursor = int(step)
        self.events.cursor_moved.emit(self.cursor)

    def notice(self, text: str) -> None:
        self.events.notice.emit(text)

    # -- pieces ---------------------------------------------------------------------------------

    def _refuse(self, text: str) -> None:
        self.events.refused.emit(text)

    def _set_state(self, state: str) -> None:
        if getattr(self, "_paced", False):
            # slow motion pauses its source after every step; to the user the run goes on
            state = {"paused": "running", "replay": "playing"}.get(state, state)
        if state != self.state:
            self.state = state
            self.events.state_changed.emit(state)
