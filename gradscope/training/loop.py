"""The training loop: one run, or two or three runs in lockstep.

Lockstep trains step s of every run, then step s + 1 of every run, round-robin in one thread,
so runs compared side by side stand at the same step whenever the loop looks up: pause,
resume, stop, a single step and a scheduled pause act on all of them between two rounds. A run
that diverges, finishes or fails leaves the lockstep (a finished one is marked so at once) and
the others go on. A single trainer's `run()` is a lockstep of one.

Each run's own schedule (`Trainer.schedule`) holds what was asked of that run alone; the
lockstep's schedule holds what applies to all of them (`change_settings`, `pause_at`,
`note_at` here: checked against every run first, then scheduled in one go). A round takes the
lockstep's entries for its step once, before its first run's step, so every run gets them at
the same step, however the request fell against the round.
"""
from __future__ import annotations

import time
import traceback
from typing import Any, Iterable

from gradscope.config import LiveSettings
from gradscope.records import EventKind, RunState
from gradscope.training.control import Controlled, RunControl
from gradscope.training.schedule import Due, Schedule


class Lockstep(Controlled):
    def __init__(self, trainers: Iterable, control: RunControl | None = None):
        self.trainers = list(trainers)
        if not self.trainers:
            raise ValueError("a lockstep needs at least one trainer")
        steps = {trainer.step_index for trainer in self.trainers}
        if len(steps) > 1:
            raise ValueError(f"the runs of a lockstep start at one step, not at {sorted(steps)}")
        self.control = control if control is not None else RunControl()
        self.schedule = Schedule()           # for all of them

    # -- control, from any thread (and pause, resume, stop, request_step: Controlled) ----------

    @property
    def going(self) -> list:
        """The runs still in the lockstep (not in a final state)."""
        return [t for t in self.trainers if t.state is None or not t.state.is_final] or self.trainers

    @property
    def step_index(self) -> int:
        """The step the runs still going stand at."""
        return max(trainer.step_index for trainer in self.going)

    def change_settings(self, step: int | None = None, runs: Iterable[int] | None = None, **changes: Any) -> None:
        """Live settings from `step` on (None: the next round) in the runs numbered `runs`
        (default: every run); all are checked before any is scheduled."""
        if runs is not None:
            chosen = [self.trainers[index] for index in runs]
            for trainer in chosen:
                LiveSettings.check(trainer.live.applied_to(trainer.config), changes)
            for trainer in chosen:
                trainer.change_settings(step, **changes)
            return
        for trainer in self.trainers:
            LiveSettings.check(trainer.live.applied_to(trainer.config), changes)
        checked = LiveSettings.check(self.trainers[0].live.applied_to(self.trainers[0].config), changes)
        self.schedule.change(self._future(step, "change a setting"), **checked)

    def pause_at(self, step: int) -> None:
        """Pause every run after step `step`."""
        self.schedule.pause_at(self._future(step, "pause"))

    def note_at(self, step: int, text: str) -> None:
        """A note event at step `step` in every run."""
        self.schedule.note_at(self._future(step, "make a note"), str(text))

    def _future(self, step: int | None, what: str) -> int | None:
        return self.going[0].future_step(step, what) if step is None else max(
            trainer.future_step(step, what) for trainer in self.going)

    def salvage(self, timeout: float) -> bool:
        """`Trainer.salvage` for every run, within `timeout` seconds in all (from another
        thread, as the process ends in the middle of a round)."""
        deadline = time.monotonic() + timeout
        return all([trainer.salvage(max(0.0, deadline - time.monotonic())) for trainer in self.trainers])

    # -- the loop ------------------------------------------------------------------------------

    def run(self, steps: int | None = None) -> list[RunState]:
        """Train every run until `steps` more steps (default: its configured total) are done,
        or it is stopped, diverges or fails; returns each run's state. A run that fails leaves
        the others going; once they are done, its exception is raised."""
        for trainer in self.trainers:
            trainer.check_open()
        running = [trainer for trainer in self.trainers if trainer.state is None or not trainer.state.is_final]
        targets = {id(trainer): trainer.config.steps if steps is None
                   else min(trainer.config.steps, trainer.step_index + steps) for trainer in running}
        failures: list[BaseException] = []
        retired: set[int] = set()
        self._share_probe_thread(running)

        def going() -> list:
            return [trainer for trainer in running if not _final(trainer) and trainer.step_index < targets[id(trainer)]]

        try:
            for trainer in running:
                trainer.start()
                trainer.set_state(RunState.RUNNING)
            active = going()
            while active and not self.control.stop_requested:
                if self.control.pause_requested:
                    self._flush(active, failures, wait=True)
                    self._set_states(going(), RunState.PAUSED)
                    while (active := going()) and not self.control.wait_while_paused(0.1):
                        if self.control.stop_requested:
                            break
                        if self.control.take_step_request():
                            # Step while paused: one round, delivered whole, still paused
                            self._round(active, failures, measure=False)
                            self._flush(going(), failures, wait=True)
                            self._retire(running, targets, retired, failures)
                    if self.control.stop_requested or not active:
                        break
                    self._set_states(active, RunState.RUNNING)
                self._round(active, failures, measure=True)
                self._retire(running, targets, retired, failures)
                active = going()
            stopping = self.control.stop_requested
            for trainer in running:
                if _final(trainer):
                    continue
                # a stop does not wait for a probe in flight (on a big model that can take
                # minutes): its step is delivered without it
                self._flush([trainer], failures, wait=not stopping, abandon=stopping)
                if _final(trainer):
                    continue                     # the flush failed it: FAILED it stays
                self._end_state(trainer, RunState.STOPPED if stopping else None)
        except KeyboardInterrupt:
            for trainer in running:
                if not _final(trainer):
                    trainer.flush(wait=False, abandon=True)
                    trainer.set_state(RunState.STOPPED)
            raise
        finally:
            for trainer in running:
                trainer.end()
        if failures:
            raise failures[0]
        return [trainer.state for trainer in self.trainers]

    def _round(self, active: list, failures: list, measure: bool) -> None:
        """Step s of every active run (they all stand at s), then the pause due after it."""
        step = active[0].step_index
        shared = self.schedule.take(step)
        pause = shared.pause
        for trainer in active:
            own = trainer.schedule.take(step)
            due = Due({**shared.changes, **own.changes}, shared.notes + own.notes, own.pause)
            pause = pause or own.pause
            self._guarded(trainer, failures, trainer.advance, due, measure)
        if pause:
            self.control.pause()

    def _retire(self, running: list, targets: dict, retired: set, failures: list) -> None:
        """Runs that reached their number of steps leave the lockstep now, as they are:
        finished (or paused, when asked for fewer steps), their records delivered."""
        for trainer in running:
            if id(trainer) not in retired and not _final(trainer) and trainer.step_index >= targets[id(trainer)]:
                retired.add(id(trainer))
                self._flush([trainer], failures, wait=True)
                if not _final(trainer):
                    self._end_state(trainer, None)

    @staticmethod
    def _end_state(trainer, state: RunState | None) -> None:
        if state is None:
            state = RunState.FINISHED if trainer.step_index >= trainer.config.steps else RunState.PAUSED
        trainer.set_state(state)

    @staticmethod
    def _share_probe_thread(trainers: list) -> None:
        """Runs that probe in threads share one (see ProbeWorker): due at the same step, their
        probes take turns beside the training instead of contending with it."""
        from gradscope.probes.runner import ProbeWorker

        waiting = [t for t in trainers if t.probe_mode == "thread" and t.probe_runner is None and t.probe_worker is None]
        if len(waiting) > 1:
            worker = ProbeWorker(waiting[0].threads)
            for trainer in waiting:
                trainer.probe_worker = worker
                trainer.probe_runner = trainer.open_probe_runner()

    def _flush(self, trainers: list, failures: list, wait: bool, abandon: bool = False) -> None:
        for trainer in trainers:
            if trainer.state is not RunState.FAILED:
                self._guarded(trainer, failures, trainer.flush, wait, abandon)

    def _set_states(self, trainers: list, state: RunState) -> None:
        for trainer in trainers:
            trainer.set_state(state)

    @staticmethod
    def _guarded(trainer, failures: list, action, *args) -> None:
        """Run `action`; an exception fails this run (an event with its traceback) and is kept
        for later, so the other runs go on."""
        try:
            action(*args)
        except Exception as exc:
            step = getattr(exc, "step", trainer.step_index)
            try:
                trainer.flush(wait=False, abandon=True)      # the steps before it still count
            except Exception:
                pass
            trainer.emit_event(EventKind.FAILED, step=step, error=f"{type(exc).__name__}: {exc}",
                               traceback=traceback.format_exc(limit=20))
            trainer.set_state(RunState.FAILED, step=step)
            failures.append(exc)


def _final(trainer) -> bool:
    return trainer.state is not None and trainer.state.is_final
