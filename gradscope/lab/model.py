"""The lab model: the state of the live lab and of a replay, with no Qt (napari's
`ViewerModel`, glue's state classes).

It holds the configuration (the settings on the left), the comparison (runs that differ in a
setting), the source on show (live training or a recording), the run slots (one to three) with
their histories, the one step cursor and the run state. The window, its settings tree, its
timeline and its panels are views: they subscribe to `lab.events` and call the lab's commands.

    lab = LabModel("sessions")                 # starts its training process
    lab.set_setting("rho", 1.5)
    lab.compare(parse_compare(["arch=rnn,lstm"]))
    lab.toggle_run()                           # train
    lab.wait_until(lambda: lab.cursor >= 100)  # headless: pump the source until it holds
    lab.open_recording("lesson.gscope")        # the live run stops; the recording is on show
    lab.seek(250); lab.fork(run_id=0, step=250)

A source that is not on show never reaches the slots: leaving live training for a recording
stops its run and drops what it still reports, and a slot update from anywhere else than the
source on show is counted in `stray_updates` and ignored. Events are psygnal signals, emitted
in the thread that calls the lab (the window's: its timer calls `pump`).
"""
from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any, Callable

from gradscope.config.rules import carried_along
from gradscope.config import LIVE_SETTINGS, SETTINGS, ConfigError, LiveSettings, RunConfig
from gradscope.config.comparison import Comparison
from gradscope.config.run_config import described
from gradscope.lab.pacing import Pacing
from gradscope.lab.slots import MAX_SLOTS
from gradscope.lab.source import SourceError
from gradscope.lab.state import LabState
from gradscope.session.files import new_session_path

# The window's first run, when no settings are saved: it must tell a story a class sees at once.
# W_hh orthogonal at rho = 0.5 contracts every step, so the error signal dies by about fifteen
# decades on its way back across the 50 timesteps, along the dashed m^(T-t) line, and the net
# never learns the first marker. The contraction makes the story the same on every machine (an
# exploding run's is chaotic). The command line keeps RunConfig's defaults, which the README's
# table documents.
DEFAULT_CONFIG = RunConfig(arch="rnn", task="adding", hidden=32, seq_len=50, init="orthogonal", rho=0.5,
                           steps=100_000, checkpoint_every=500)


class LabModel(Pacing, LabState):
    def __init__(self, sessions_dir: str | os.PathLike = "sessions", config: RunConfig | None = None,
                 training: bool = True):
        from gradscope.lab.live import LiveSource

        super().__init__()
        self.sessions_dir = Path(sessions_dir)
        self.sessions_dir.mkdir(parents=True, exist_ok=True)
        self.config = config or DEFAULT_CONFIG
        self.comparison: Comparison | None = None
        self.live = LiveSource(new_session_path(self.sessions_dir), start=True) if training else None
        self.source = self.live
        if self.live is not None:
            self.live.attach(self)

    # -- settings ------------------------------------------------------------------------------

    def set_setting(self, name: str, value: Any) -> bool:
        """Change one setting as the user did; False (and `refused`) when it makes no sense.
        A live setting reaches the running trainers at their next step, any other starts new
        runs (training if these were); on a replay nothing trains (Fork takes the settings)."""
        if self.comparison is not None and name in self.comparison.varies:
            self._refuse(f"{name} is what the comparison varies; stop comparing to set it")
            return False
        if getattr(self.config, name, object()) == value:
            return True
        if name in SETTINGS and SETTINGS[name].path and value:
            value = str(Path(value).expanduser().absolute())   # the session finds its data from anywhere
        try:
            config = self.config.replace(**{name: value, **carried_along(self.config, name, value)})
            if self.comparison is not None:
                self.comparison.configs(config)       # every compared run must still make sense
        except (ConfigError, TypeError) as error:
            self._refuse(described(error) if isinstance(error, ConfigError) else str(error))
            return False
        self.config = config
        self.events.config_changed.emit(config, name)
        self._match_layout_to_settings()
        if self.kind == "live" and self.active:
            if name in LIVE_SETTINGS:
                self.live.change_settings({name: getattr(config, name)})
            else:
                self.start_runs(autorun=self.state in ("running", "starting"))
        return True

    def show_config(self, config: RunConfig) -> None:
        """Put `config` on the left without acting on it (a replay shows its run's settings)."""
        self.config = config
        self.events.config_changed.emit(config, "")
        self._match_layout_to_settings()

    def _match_layout_to_settings(self) -> None:
        """With no run on show, the layouts are the settings' kind: a CNN chosen before Run
        brings the image layouts, its layer table among them, before anything trains."""
        if not self.slots:
            self.match_layout()

    def compare(self, comparison: Comparison | None) -> bool:
        """Train two or three runs that differ in a setting (None: one run again); runs live
        now start again as the comparison."""
        if comparison is not None:
            try:
                comparison.configs(self.config)
            except ConfigError as error:
                self._refuse(described(error) if isinstance(error, ConfigError) else str(error))
                return False
        self.comparison = comparison
        self.events.comparison_changed.emit(comparison)
        if self.active:
            self.start_runs(autorun=self.state in ("running", "starting"))
        return True

    # -- running -------------------------------------------------------------------------------

    def start_runs(self, autorun: bool) -> None:
        """New runs of the configuration (of the comparison, when there is one) in the session."""
        if self.live is None:
            self._refuse("this window only replays: it has no training process")
            return
        if self.recorded is not None:
            self._leave_recording(new_session=True)
        try:
            configs = self.comparison.configs(self.config) if self.comparison is not None else [self.config]
        except ConfigError as error:
            self._refuse(described(error))
            return
        if self._paced:
            autorun, self._pace_sent = False, None      # slow motion goes on with the new runs
        self.live.begin(configs, autorun, self.comparison.varies if self.comparison is not None else ())
        self._set_state("starting")

    def toggle_run(self) -> None:
        """Run / Pause: train, pause, or go on; on a replay, play or pause (in slow motion
        when `pace` is set)."""
        if self.pace > 0.0:
            self._stop_pacing() if self._paced else self._start_pacing()
        elif self.recorded is not None:
            self.recorded.pause() if self.recorded.playing else self.recorded.start()
        elif self.state == "running":
            self.live.pause()
        elif self.state in ("paused", "starting"):
            self.live.start()
        else:
            self.start_runs(autorun=True)

    def start(self) -> None:
        if self.recorded is not None:
            self.recorded.start()
        elif self.active:
            self.live.start()
        else:
            self.start_runs(autorun=True)

    def pause(self) -> None:
        self._stop_pacing()
        if self.recorded is not None:
            self.recorded.pause()
        elif self.active:
            self.live.pause()

    def step(self) -> None:
        """One step (of every run on show), then paused: a fresh run's first step when none
        is live."""
        self._stop_pacing()
        if self.recorded is not None:
            self.recorded.step_by(1)
            return
        if not self.active:
            self.start_runs(autorun=False)
        if self.live is not None:
            self.live.step()

    def reset(self) -> None:
        """A fresh run with the settings on the left, paused at step 0."""
        self._stop_pacing()
        self.start_runs(autorun=False)

    def seek(self, step: int) -> None:
        try:
            self.source.seek(int(step), self.cursor)
        except SourceError as error:
            self._refuse(str(error))

    def run_to(self, step: int) -> None:
        """Go on to `step` and pause there, exactly (live: the training process pauses after it)."""
        if self.recorded is not None:
            self.recorded.run_to(int(step))
        elif self.active:
            self.live.run_to(int(step))

    def schedule(self, step: int | None, **changes: Any) -> None:
        """Live settings from `step` on, in every run on show (a lesson's change)."""
        LiveSettings.check(self.config, changes)
        self.live.change_settings(changes, step)

    def pause_at(self, step: int) -> None:
        self.live.pause_at(step)

    def note_at(self, step: int, text: str) -> None:
        self.live.note_at(step, text)

    # -- files ---------------------------------------------------------------------------------

    def open_recording(self, path: str | os.PathLike) -> None:
        """Replay a session file: its newest run at its end. The live run stops first; a file
        that cannot be read raises SessionError, and what is on show stays."""
        from gradscope.lab.recorded import RecordedSource
        from gradscope.session import open_session

        session = open_session(path)
        self._stop_pacing()
        try:
            source = RecordedSource(session)
            source.load()
        except BaseException:
            session.close()
            raise
        if self.recorded is not None:
            self.recorded.close()
        if self.live is not None:
            self.live.stop()          # its run ends `stopped`; what it still reports is dropped
        self.recorded = self.source = source
        self.earlier = []
        source.attach(self)
        self.show_slots(source.slots, live=False)     # the views hear of the source with its slots in place
        self.cursor_moved(source.cursor)
        self._set_state("replay")
        self.events.source_changed.emit("recorded")
        self.events.session_changed.emit(str(source.path))
        self.show_config(source.slots[0].config)

    def show_runs(self, run_ids: list[int]) -> bool:
        """Replay these runs of the file (one to three) under the cursor."""
        if self.recorded is None:
            return False
        if len(run_ids) > MAX_SLOTS:
            self._refuse(f"at most {MAX_SLOTS} runs play side by side; showing the first {MAX_SLOTS}")
            run_ids = list(run_ids)[:MAX_SLOTS]
        shown = self.recorded.show(run_ids, self.cursor)
        if shown and self.slots:
            self.show_config(self.slots[0].config)
        return shown

    def new_live_session(self) -> None:
        """Leave the replay (or the session recorded so far): a fresh session file for live runs."""
        if self.live is None:
            self._refuse("this window only replays: it has no training process")
            return
        self._stop_pacing()
        if self.recorded is not None:
            self._leave_recording(new_session=False)
        self.live.use_session(new_session_path(self.sessions_dir))
        self.show_slots([], live=False)
        self.earlier = []                    # a fresh session: nothing of the last one faded behind
        self.cursor_moved(-1)
        self._set_state("idle")
        self.events.session_changed.emit(str(self.live.session_path))

    def fork(self, run_id: int, step: int) -> None:
        """A new live run from `step` of run `run_id` of the recording, with the live settings
        on the left; it is added to that file and drawn beside its parent."""
        if self.recorded is None or self.live is None:
            self._refuse("fork from a replay: open a session first")
            return
        step = self._forkable_step(run_id, step)
        if step is None:
            return
        path = self.recorded.path
        from gradscope.session import SessionError, target
        try:
            target.check_writable(path)     # the fork is a new run in this file
        except SessionError as error:
            self._refuse(f"cannot fork: {error}")
            return
        parents = [slot.history for slot in self.slots]
        self._leave_recording(new_session=False)
        self.earlier = parents
        self.show_slots([], live=False)
        self.live.fork(path, run_id, step, LiveSettings.of(self.config).values)
        self._set_state("starting")
        self.events.session_changed.emit(str(path))

    def _forkable_step(self, run_id: int, step: int) -> int | None:
        """The recorded step of `run_id` at or before `step` that has a checkpoint before it
        (the replay stays on show, and the reason is given, when there is none)."""
        import numpy as np

        from gradscope.session import SessionError

        try:
            run = self.recorded.player(run_id).run
            steps, saved = run.steps, run.checkpoint_steps()
        except SessionError as error:
            self._refuse(f"cannot fork: {error}")
            return None
        steps = steps[steps <= step]
        if not len(steps):
            self._refuse(f"cannot fork: run {run_id} recorded no step at or before {step}")
            return None
        if not np.any(saved <= steps[-1]):
            self._refuse(f"cannot fork: run {run_id} has no checkpoint at or before step {int(steps[-1])}")
            return None
        return int(steps[-1])

    def _leave_recording(self, new_session: bool) -> None:
        self.recorded.close()
        self.recorded = None
        self.source = self.live
        self.events.source_changed.emit("live")
        if new_session:
            self.live.use_session(new_session_path(self.sessions_dir))
            self.events.session_changed.emit(str(self.live.session_path))

    def what_if(self):
        """On a replay, what the threshold on the left would have clipped of the first run's
        recorded steps up to the cursor (a `WhatIf`); None live."""
        if self.recorded is None or not self.slots or self.slots[0] not in self.recorded.slots:
            return None
        return self.recorded.what_if(self.slots[0].run_id, self.config.clip_threshold)

    # -- the pump ------------------------------------------------------------------------------

    def pump(self) -> bool:
        """Take in what the sources have (the window calls this on a timer); True, and
        `histories_changed`, when there is something new to draw."""
        if self.live is not None:
            self.live.pump()
        if self.recorded is not None:
            self.recorded.pump()
        if self.kind == "live" and self.slots:
            cursor = max(slot.history.last_step for slot in self.slots)
            if cursor != self.cursor:
                self.cursor_moved(cursor)
        self._pace_tick()
        dirty, self._dirty = self._dirty, False
        if dirty:
            self.events.histories_changed.emit()
        return dirty

    def wait_until(self, predicate: Callable[[], bool], timeout: float = 60.0, interval: float = 0.01) -> bool:
        """Pump until `predicate()` holds or `timeout` passes (headless use: tests, notebooks)."""
        deadline = time.monotonic() + timeout
        while True:
            self.pump()
            if predicate():
                return True
            if time.monotonic() > deadline:
                return False
            time.sleep(interval)

    def close(self) -> None:
        """Stop the replay and the training process (which commits its session file)."""
        if self.recorded is not None:
            self.recorded.close()
            self.recorded = None
        if self.live is not None:
            self.live.close()
