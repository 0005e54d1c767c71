"""Slow motion and the layout on show: the lab's commands that change how a story is told,
not what trains.

Slow motion runs one training step (or one recorded step, on a replay) at a time with a
chosen pause between them, so a class can watch each step land. While it runs, the lab's
state reads "running" (or "playing"), though the source pauses after every step: Run / Pause
acts on the slow run as on a fast one. It is done here, by the lab, step by step, rather than
by slowing the trainer, so the pause is the same on a replay and a step is never cut short.
"""
from __future__ import annotations

import math
import time

from gradscope.lab.events import FINAL_STATES
from gradscope.lab.layouts import DEFAULT_LAYOUT, LAYOUT_NAMES, kind_of, layout_named, layouts_for

MAX_PACE_SECONDS = 10.0


class Pacing:
    """A mixin of `gradscope.lab.model.LabModel` (it uses the lab's sources, state and events)."""

    pace = 0.0              # seconds between slow-motion steps; 0 trains at full speed
    layout = DEFAULT_LAYOUT
    _paced = False          # a slow-motion run is going
    _pace_due = 0.0         # when (time.monotonic) the next slow step may go
    _pace_sent: int | None = None   # the cursor when the last live step was asked for

    def set_layout(self, name: str) -> bool:
        """Put the layout `name` on show (`gradscope.lab.layouts`); False and `refused` for an unknown one."""
        if name not in LAYOUT_NAMES:
            self._refuse(f"there is no layout {name!r}; the layouts are {', '.join(LAYOUT_NAMES)}")
            return False
        if name != self.layout:
            self.layout = name
            self.events.layout_changed.emit(name)
        return True

    def match_layout(self) -> bool:
        """Put the first layout of the runs' kind on show when the one on show is for the
        other kind (a CNN run after an RNN's); True when it changed."""
        archs = [slot.config.arch for slot in self.slots] or [self.config.arch]
        kind = kind_of(archs[0])
        if layout_named(self.layout).kind == kind:
            return False
        return self.set_layout(layouts_for(kind)[0].name)

    def set_pace(self, seconds: float) -> bool:
        """Slow motion with `seconds` between steps (0: full speed). A run going on goes on at
        the new pace."""
        try:
            seconds = float(seconds)
        except (TypeError, ValueError):
            seconds = math.nan
        if not (math.isfinite(seconds) and 0.0 <= seconds <= MAX_PACE_SECONDS):
            self._refuse(f"slow motion takes 0 to {MAX_PACE_SECONDS:g} seconds between steps, not {seconds}")
            return False
        running = self._paced or self.state in ("running", "playing")
        self.pace = seconds
        self.events.pace_changed.emit(seconds)
        if running:
            self._stop_pacing(resume=seconds == 0.0)
            if seconds > 0.0:
                self._start_pacing()
        return True

    @property
    def slow(self) -> bool:
        """A slow-motion run is going."""
        return self._paced

    def _start_pacing(self) -> None:
        if self.recorded is not None:
            self.recorded.pause()
        else:
            if not self.active:
                self.start_runs(autorun=False)
            if self.live is None:
                return
            self.live.pause()
        self._paced, self._pace_due, self._pace_sent = True, 0.0, None
        self.source_state_changed()

    def _stop_pacing(self, resume: bool = False) -> None:
        """End slow motion: paused where it is, or going on at full speed with `resume`."""
        if not self._paced:
            return
        self._paced = False
        if resume:
            (self.recorded or self.live).start()
        self.source_state_changed()

    def _pace_tick(self) -> None:
        """From the pump: the next slow step when its time has come and the last one has landed."""
        if not self._paced:
            return
        if self.recorded is not None:
            steps = self.recorded.steps
            if not len(steps) or self.cursor >= int(steps[-1]):
                self._stop_pacing()
                return
        elif self.state in FINAL_STATES or self.live is None:
            self._stop_pacing()
            return
        elif self._pace_sent is not None and self.cursor <= self._pace_sent:
            return                  # the step asked for has not landed yet
        now = time.monotonic()
        if now < self._pace_due:
            return
        self._pace_due = now + self.pace
        if self.recorded is not None:
            self.recorded.step_by(1)
        else:
            self._pace_sent = self.cursor
            self.live.step()
