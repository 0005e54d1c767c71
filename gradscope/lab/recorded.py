"""The recorded source: one to three runs of a session file under one cursor, aligned by step.

A seek hands the lab, for every run on show, everything it recorded up to the cursor as one
block, so the panels rebuild their histories in a few milliseconds; a forward seek (scrubbing
forward, playing) hands over only the steps in between. Playing moves the cursor at the pace
the runs were recorded, times the speed, with pauses in the recording cut short.

A part of the file that cannot be read stops the replay where it is and is reported to the
lab (`file_problem`); every block is cut before any is handed over, so what is drawn stays
whole. Plain Python and numpy: no Qt.
"""
from __future__ import annotations

import time

import numpy as np

from gradscope.config.comparison import difference_labels
from gradscope.lab.history import RunHistory, drawn_scalar
from gradscope.lab.slots import MAX_SLOTS, RunSlot
from gradscope.lab.source import SourceError
from gradscope.series import CLIPPED, loaded_over_training
from gradscope.session import Session, SessionError
from gradscope.session.player import RunPlayer

SPEEDS = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0)
MAX_GAP_SECONDS = 0.5        # a pause in the recording plays as at most this long


def _needed_scalar(name: str) -> bool:
    return name == CLIPPED.name() or drawn_scalar(name)


class RecordedSource:
    kind = "recorded"

    def __init__(self, session: Session):
        """Replay `session`, which this source now owns (it closes it)."""
        if not session.runs:
            raise SessionError(session.path, "holds no runs yet")
        self.session = session
        self.lab = None
        self.players: dict[int, RunPlayer] = {}
        self.run_ids: list[int] = []
        self.slots: list[RunSlot] = []
        self.steps = np.empty(0, dtype=np.int64)     # the recorded steps of the runs on show, merged
        self.clock = np.empty(0)
        self.cursor = -1             # the step on show
        self.speed = 1.0
        self.playing = False
        self._positions: dict[int, int] = {}          # run id -> its steps on show
        self._stop_at: int | None = None
        self.bookmarks: list = []
        self._play_time = 0.0
        self._ticked = 0.0

    def attach(self, lab) -> None:
        self.lab = lab

    @property
    def path(self):
        return self.session.path

    def player(self, run_id: int) -> RunPlayer:
        player = self.players.get(run_id)
        if player is None:
            run = self.session.run(run_id)
            run.check_size()        # what a replay draws over the whole run, added up
            player = RunPlayer(run, scalars=_needed_scalar, arrays=loaded_over_training)
            self.players[run_id] = player
        return player

    # -- what is on show ----------------------------------------------------------------------

    def load(self, run_ids: list[int] | tuple = (), step: int | None = None) -> None:
        """What `show` does, raising SessionError, and the bookmarks read: for the first runs
        shown, before the lab leaves what it showed."""
        self._show(list(run_ids) or [self.session.runs[-1].id], step)
        self.bookmarks = [mark for run in self.session.runs for mark in run.bookmarks]

    def show(self, run_ids: list[int] | tuple = (), step: int | None = None) -> bool:
        """Show these runs (default: the newest) under one cursor at `step` (default: the
        end); False (and the lab told) when the file cannot give them."""
        return self._guarded(self._show, list(run_ids) or [self.session.runs[-1].id], step)

    def _show(self, run_ids: list[int], step: int | None) -> None:
        self.pause()
        run_ids = list(dict.fromkeys(run_ids))[:MAX_SLOTS]
        for run_id in run_ids:
            self.session.run(run_id)        # a clear error for a run that is not there
        players = [self.player(run_id) for run_id in run_ids]     # read before anything changes
        steps = np.unique(np.concatenate([player.steps for player in players])) if players else np.empty(0, np.int64)
        self.run_ids, self.steps, self.clock = run_ids, steps, self._clock(players, steps)
        configs = [player.run.config for player in players]
        labels = difference_labels(configs)
        extent = (int(steps[0]), int(steps[-1])) if len(steps) else None
        self.slots = [RunSlot(index=index, config=player.run.config, label=labels[index],
                              history=RunHistory(player.run.config, player.run.id, extent, player.run.state.value),
                              run_id=player.run.id, parent=player.run.parent, state=player.run.state.value)
                      for index, player in enumerate(players)]
        self._positions = {}
        if self.lab is not None:
            self.lab.show_slots(self.slots, live=False)
        self._seek(int(steps[-1]) if step is None and len(steps) else (step if step is not None else -1))

    @staticmethod
    def _clock(players: list[RunPlayer], steps: np.ndarray) -> np.ndarray:
        """Seconds of replay at each merged step: the recorded pace, gaps cut short."""
        if not len(steps):
            return np.empty(0)
        times = np.full(len(steps), np.nan)
        for player in reversed(players):           # the first run's times win where runs overlap
            where = np.searchsorted(steps, player.steps)
            times[where] = player.wall_times
        with np.errstate(invalid="ignore"):
            gaps = np.nan_to_num(np.clip(np.diff(times), 0.0, MAX_GAP_SECONDS), nan=0.0)
        return np.concatenate([[0.0], np.cumsum(gaps)])

    # -- moving --------------------------------------------------------------------------------

    def seek(self, step: int, cursor: int | None = None) -> bool:
        """Show the runs as they were at `step` (the nearest recorded step at or before it);
        playing, the replay goes on from there."""
        moved = self._guarded(self._seek, int(step))
        if self.playing and len(self.steps):
            self._play_time = float(self.clock[max(self.position(self.cursor) - 1, 0)])
        return moved

    def position(self, step: int) -> int:
        """How many of the merged recorded steps lie at or before `step`."""
        return int(np.searchsorted(self.steps, step, side="right"))

    def _seek(self, step: int) -> None:
        if not len(self.steps):
            self.cursor = -1
            self._report_cursor()
            return
        step = int(min(max(step, self.steps[0]), self.steps[-1]))
        step = int(self.steps[self.position(step) - 1])
        players = [self.player(run_id) for run_id in self.run_ids]
        targets = [player.position(step) for player in players]
        forward = bool(self._positions) and step >= self.cursor and all(
            target >= self._positions.get(player.run.id, 0) for player, target in zip(players, targets))
        # every block is cut before any is handed over: a part that cannot be read leaves the
        # panels as they were
        if forward:
            cut = [(player.block(self._positions[player.run.id], target),
                    player.events_between(self.cursor, step)) for player, target in zip(players, targets)]
        else:
            cut = [(player.block(0, target), player.events_between(-1, step)) for player, target in zip(players, targets)]
        for slot, player, target, (block, events) in zip(self.slots, players, targets, cut):
            if not forward:
                slot.history = RunHistory(slot.config, slot.run_id, slot.history.extent, player.run.state.value)
            if len(block):
                slot.history.add_block(block)
            if events:
                slot.history.add_events(events)
            self._positions[player.run.id] = target
            if self.lab is not None:
                self.lab.slot_updated(slot)
        self.cursor = step
        self._report_cursor()

    def _report_cursor(self) -> None:
        if self.lab is not None:
            self.lab.cursor_moved(self.cursor)

    def step_by(self, count: int) -> bool:
        """`count` recorded steps on (or back), paused."""
        self.pause()
        if not len(self.steps):
            return True
        index = min(max(self.position(self.cursor) - 1 + count, 0), len(self.steps) - 1)
        return self.seek(int(self.steps[index]))

    def step(self) -> bool:
        return self.step_by(1)

    def run_to(self, step: int) -> None:
        """Play on to `step` (the last recorded step at most) and pause there; at once, when it
        is behind."""
        if not len(self.steps):
            return
        step = min(int(step), int(self.steps[-1]))
        if step <= self.cursor:
            self.seek(step)
            return
        self._stop_at = step
        self.start()

    def _guarded(self, move, *args) -> bool:
        """Make a move the user asked for; a damaged part of the file stops the replay where
        it is and is reported, instead of raising into whoever asked."""
        try:
            move(*args)
            return True
        except SessionError as error:
            self.pause()
            self._positions = {}                 # what is drawn may be half done: rebuild next time
            if self.lab is not None:
                self.lab.file_problem(str(error))
            return False

    def what_if(self, run_id: int, threshold: float):
        """What a norm-clipping `threshold` would have done to run `run_id`'s recorded steps up
        to the cursor (a `WhatIf`: which it clips, by how much)."""
        from gradscope.series import GRAD_NORM
        from gradscope.session.player import WhatIf

        empty = np.empty(0)
        steps, norms = self.player(run_id).scalars.get(GRAD_NORM.name(), (empty, empty))
        upto = int(np.searchsorted(steps, self.cursor, "right"))
        return WhatIf(steps[:upto], norms[:upto], threshold)

    # -- playing -------------------------------------------------------------------------------

    def start(self) -> None:
        if self.playing or not len(self.steps):
            return
        if self.cursor >= int(self.steps[-1]) and self._stop_at is None:   # at the end: from the start
            self.seek(int(self.steps[0]))
        self._play_time = float(self.clock[max(self.position(self.cursor) - 1, 0)])
        self._ticked = time.monotonic()
        self.playing = True
        if self.lab is not None:
            self.lab.source_state_changed()

    def pause(self) -> None:
        self._stop_at = None
        if self.playing:
            self.playing = False
            if self.lab is not None:
                self.lab.source_state_changed()

    def set_speed(self, speed: float) -> None:
        self.speed = float(min(max(speed, SPEEDS[0]), SPEEDS[-1]))

    def pump(self) -> bool:
        """Move the cursor as far as the replay clock has gone since the last pump."""
        if not self.playing:
            return False
        now = time.monotonic()
        elapsed, self._ticked = now - self._ticked, now
        self._play_time += elapsed * self.speed
        target = min(int(np.searchsorted(self.clock, self._play_time, side="right")), len(self.steps))
        if self._stop_at is not None:
            target = min(target, self.position(self._stop_at))
        moved = target > self.position(self.cursor)
        if moved and not self._guarded(self._seek, int(self.steps[target - 1])):
            return True
        if self.position(self.cursor) >= len(self.steps) or (
                self._stop_at is not None and self.position(self.cursor) >= self.position(self._stop_at)):
            self.pause()
        return moved

    def close(self) -> None:
        self.pause()
        self.session.close()
        self.players, self.slots, self.run_ids = {}, [], []


__all__ = ["RecordedSource", "SPEEDS", "SourceError"]
