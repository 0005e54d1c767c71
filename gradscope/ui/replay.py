"""Replay in the window: a recorded session drawn by the same panels through the same bridge
as live training.

A seek hands the bridge everything up to the target step as one block per run (the run on
show and the runs overlaid on it), so the panels rebuild their history in a few milliseconds;
playing hands over the steps the replay clock has passed, tick by tick. The replay clock runs
at the pace the run was recorded, times the speed, with pauses in the recording cut short.
"""
from __future__ import annotations

import time

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal, Slot

from gradscope.session import Session, SessionError
from gradscope.session.player import RunPlayer
from gradscope.ui.bridge import DRAIN_INTERVAL_MS, RecordBridge
from gradscope.ui.buffer import RecordBuffer
from gradscope.ui.history import _UNDRAWN_PREFIXES, drawn_over_training

SPEEDS = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0)
MAX_GAP_SECONDS = 0.5        # a pause in the recording plays as at most this long


def _needed_scalar(name: str) -> bool:
    return name == "clipped" or not name.startswith(_UNDRAWN_PREFIXES)


class ReplayController(QObject):
    position_changed = Signal(int)      # the step on show
    playing_changed = Signal(bool)
    run_changed = Signal(int)           # the run on show (its id)
    failed = Signal(str)                # a part of the file that cannot be read, met on the way

    def __init__(self, buffer: RecordBuffer, bridge: RecordBridge, parent: QObject | None = None):
        super().__init__(parent)
        self.buffer = buffer
        self.bridge = bridge
        self.session: Session | None = None
        self.players: dict[int, RunPlayer] = {}
        self.run_id: int | None = None
        self.overlays: list[int] = []
        self.step = -1
        self.speed = 1.0
        self.timer = QTimer(self)
        self.timer.setInterval(DRAIN_INTERVAL_MS)
        self.timer.timeout.connect(self._advance)
        self._position = 0               # recorded steps on show, of the run on show
        self._drawn: tuple | None = None  # (run, overlays) the panels hold, for forward seeks
        self._play_time = 0.0
        self._ticked = 0.0

    # -- the session ---------------------------------------------------------------------------

    def load(self, session: Session, run_id: int | None = None, step: int | None = None) -> None:
        """Show a session: `run_id` (default: the newest run) at `step` (default: its end).
        The caller keeps the session open until `close`."""
        self.pause()
        self.close()
        self.session = session
        if not session.runs:
            raise ValueError(f"{session.path} holds no runs yet")
        self._show_run(run_id if run_id is not None else session.runs[-1].id, step=step)

    def close(self) -> None:
        self.pause()
        if self.session is not None:
            self.session.close()
        self.session, self.players, self.run_id, self.overlays, self._drawn = None, {}, None, [], None

    @property
    def active(self) -> bool:
        return self.session is not None

    def player(self, run_id: int | None = None) -> RunPlayer:
        run_id = self.run_id if run_id is None else run_id
        player = self.players.get(run_id)
        if player is None:
            player = RunPlayer(self.session.run(run_id), scalars=_needed_scalar, arrays=drawn_over_training)
            with np.errstate(invalid="ignore"):       # a damaged file may hold inf wall times
                gaps = np.nan_to_num(np.clip(np.diff(player.wall_times), 0.0, MAX_GAP_SECONDS), nan=0.0)
            player.clock = np.concatenate([[0.0], np.cumsum(gaps)])
            self.players[run_id] = player
        return player

    def show_run(self, run_id: int, overlays: list[int] | tuple = (), step: int | None = None) -> bool:
        return self._report(self._show_run, run_id, overlays, step)

    def _show_run(self, run_id: int, overlays: list[int] | tuple = (), step: int | None = None) -> None:
        """Show run `run_id` at `step` (default: its end) with `overlays` drawn whole behind it.
        A run the file cannot give fails before anything changes."""
        self.pause()
        self.session.run(run_id)              # a clear error for a run that is not there
        overlays = [other for other in overlays if other != run_id]
        for wanted in (run_id, *overlays):
            self.player(wanted)
        self.run_id, self.overlays, self._drawn = run_id, overlays, None
        self.run_changed.emit(run_id)
        self._seek(self.player().last_step if step is None else step)

    def set_overlays(self, run_ids: list[int]) -> None:
        self._report(self._set_overlays, run_ids)

    def _set_overlays(self, run_ids: list[int]) -> None:
        overlays = [other for other in run_ids if other != self.run_id]
        for wanted in overlays:
            self.player(wanted)
        self.overlays, self._drawn = overlays, None
        self._seek(self.step)

    # -- moving ------------------------------------------------------------------------------------

    def seek(self, step: int) -> None:
        """Show the run as it was at `step` (the nearest recorded step at or before it). A part
        of the file that cannot be read pauses the replay and is reported through `failed`."""
        self._report(self._seek, step)

    def _seek(self, step: int) -> None:
        player = self.player()
        if not len(player):
            step, position = -1, 0
        else:
            step = int(min(max(step, player.first_step), player.last_step))
            position = player.position(step)
            step = int(player.steps[position - 1])
        if self._drawn == (self.run_id, tuple(self.overlays)) and step >= self.step:
            self._extend(position)                # forward: only the steps in between
            return
        # every block is cut before any is handed over: a part that cannot be read leaves the
        # panels as they were
        overlaid = [self.player(run_id) for run_id in self.overlays]     # whole, faded behind this one
        parts = [(other.run.id, other.block(0, len(other)), other.events) for other in overlaid]
        parts.append((self.run_id, player.block(0, position), player.events_between(-1, step)))
        for index, (run_id, block, events) in enumerate(parts):
            self.buffer.start_run(self._info(run_id, reset=index == 0))
            self.buffer.add(blocks=[block], events=events)
        self._position, self.step = position, step
        self._drawn = (self.run_id, tuple(self.overlays))
        self.bridge.flush()
        self.position_changed.emit(step)

    def _extend(self, position: int) -> None:
        """Hand over the recorded steps from the one on show up to `position` (exclusive)."""
        player = self.player()
        if position > self._position:
            step = int(player.steps[position - 1])
            self.buffer.add(blocks=[player.block(self._position, position)],
                            events=player.events_between(self.step, step))
            self._position, self.step = position, step
        self.bridge.flush()                      # drawn now, not on the bridge's next tick
        self.position_changed.emit(self.step)

    def step_by(self, count: int) -> None:
        player = self.player()
        if len(player):
            self.pause()
            index = min(max(self._position - 1 + count, 0), len(player) - 1)
            self.seek(int(player.steps[index]))

    def _report(self, move, *args) -> bool:
        """Make a move the user asked for; a damaged part of the file stops the replay where it
        is and is reported through `failed`, instead of raising into Qt's event loop."""
        try:
            move(*args)
            return True
        except SessionError as error:
            self.pause()
            self._drawn = None                   # what is drawn may be half done: rebuild next time
            self.failed.emit(str(error))
            return False

    def _info(self, run_id: int, reset: bool) -> dict:
        run = self.session.run(run_id)
        shown = [self.player(other) for other in (self.run_id, *self.overlays) if len(self.player(other))]
        extent = [min(p.first_step for p in shown), max(p.last_step for p in shown)] if shown else None
        return {"run": run_id, "config": run.config.to_json(), "run_id": run_id, "device": "", "replay": True,
                "reset": reset, "parent": list(run.parent) if run.parent else None, "state": run.state.value,
                "extent": extent}

    # -- playing -----------------------------------------------------------------------------------

    @property
    def playing(self) -> bool:
        return self.timer.isActive()

    def play(self) -> None:
        if not self.active or self.playing:
            return
        player = self.player()
        if self._position >= len(player):          # at the end: play from the start
            self.seek(player.first_step)
        self._play_time = float(player.clock[max(self._position - 1, 0)])
        self._ticked = time.monotonic()
        self.timer.start()
        self.playing_changed.emit(True)

    def pause(self) -> None:
        if self.timer.isActive():
            self.timer.stop()
            self.playing_changed.emit(False)

    def toggle_play(self) -> None:
        self.pause() if self.playing else self.play()

    def set_speed(self, speed: float) -> None:
        self.speed = float(min(max(speed, SPEEDS[0]), SPEEDS[-1]))

    @Slot()
    def _advance(self) -> None:
        now = time.monotonic()
        elapsed, self._ticked = now - self._ticked, now
        player = self.player()
        self._play_time += elapsed * self.speed
        target = min(int(np.searchsorted(player.clock, self._play_time, side="right")), len(player))
        if target > self._position and not self._report(self._seek, int(player.steps[target - 1])):
            return
        if self._position >= len(player):
            self.pause()
