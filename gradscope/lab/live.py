"""The live source: the lab's training process, behind the same interface as a recording.

It sends the process typed commands (`gradscope.messages`) and, when the lab pumps it, reads
the process's reports and hands them to the lab as slots and blocks. Every start carries a
token that its runs' reports carry back; reports of any other run (one stopped by a newer
start, or left from before a replay) never reach the lab.

Plain Python: no Qt, no torch (the training process imports torch).
"""
from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any, Mapping

from gradscope.config import RunConfig
from gradscope.config.comparison import difference_labels
from gradscope.lab.history import RunHistory
from gradscope.lab.slots import RunSlot
from gradscope.messages import (ChangeSettings, Crashed, ForkRun, NoteAt, Pause, PauseAt, Ready, Records, Refused,
                                Resume, RunEnded, RunFailed, RunStarted, RunTo, StartRuns, StepOnce, Stop, UseSession)
from gradscope.records import EventKind, StepBlock

from gradscope.lab.source import PUMP_BUDGET_SECONDS, SourceError  # noqa: F401  (SourceError: raised here)


class LiveSource:
    kind = "live"

    def __init__(self, session_path: str | os.PathLike, start: bool = True):
        self.lab = None
        from gradscope.training.process import TrainingProcess

        self.session_path = Path(session_path)
        self._process_class = TrainingProcess
        self.process = TrainingProcess(self.session_path)
        self.ready = False
        self.info: dict[str, Any] = {}
        self._token = 0
        self._configs: list[RunConfig] = []     # of the runs asked for by the start on show
        self._slots: dict[int, RunSlot] = {}    # run index -> its slot, for the start on show
        self.pending = False                     # a start is on its way
        self.crashed = False
        if start:
            self.process.start()

    # -- commands -----------------------------------------------------------------------------

    def begin(self, configs: list[RunConfig], autorun: bool, varies: tuple[str, ...] = ()) -> None:
        """New runs (a comparison when there are several): the ones training now stop."""
        self._ensure_process()
        self._token += 1
        self._configs, self._slots, self.pending = list(configs), {}, True
        self.process.send(StartRuns(tuple(configs), bool(autorun), tuple(varies), token=self._token))

    def fork(self, session: str | os.PathLike, run_id: int, step: int, changes: Mapping[str, Any],
             autorun: bool = True) -> None:
        self._ensure_process()
        self._token += 1
        self._configs, self._slots, self.pending = [], {}, True
        self.session_path = Path(session)
        self.process.send(ForkRun(str(session), int(run_id), int(step), dict(changes), None, bool(autorun),
                                  token=self._token))

    def use_session(self, path: str | os.PathLike) -> None:
        """Record the next runs into `path`; the run training now stops."""
        self.session_path = Path(path)
        self._drop_runs()
        self.process.send(UseSession(str(path)))

    def start(self) -> None:
        self.process.send(Resume())

    def pause(self) -> None:
        self.process.send(Pause())

    def step(self) -> None:
        """One step of every run on show, then paused."""
        self.process.send(Pause())
        self.process.send(StepOnce())

    def stop(self) -> None:
        """Stop the runs on show (they end `stopped` in the file); nothing of them is shown again."""
        self._drop_runs()
        self.process.send(Stop())

    def seek(self, step: int, cursor: int) -> None:
        if step < cursor:
            raise SourceError("a live run cannot go back; open its session file to replay it")
        if step > cursor:
            self.run_to(step)

    def run_to(self, step: int) -> None:
        """Train on to `step` and pause there: its record is the last one (refused, and the run
        left as it is, when it has begun that step already)."""
        self.process.send(RunTo(int(step)))

    def change_settings(self, changes: Mapping[str, Any], step: int | None = None) -> None:
        self.process.send(ChangeSettings(dict(changes), step))

    def pause_at(self, step: int) -> None:
        self.process.send(PauseAt(int(step)))

    def note_at(self, step: int, text: str) -> None:
        self.process.send(NoteAt(int(step), str(text)))

    def close(self, timeout: float = 1.5) -> None:
        self.process.close(timeout)

    def _drop_runs(self) -> None:
        self._token += 1              # whatever the runs on show still report is not shown
        self._configs, self._slots, self.pending = [], {}, False

    def _ensure_process(self) -> None:
        """A training process that died is replaced at the next start."""
        if self.crashed or self.process.ended:
            self.process.close(0.1)
            self.process = self._process_class(self.session_path)
            self.process.start()
            self.ready, self.crashed = False, False

    # -- reports ------------------------------------------------------------------------------

    def attach(self, lab) -> None:
        """The lab this source reports to (`gradscope.lab.source` says what it is told)."""
        self.lab = lab

    def pump(self, budget: float = PUMP_BUDGET_SECONDS) -> bool:
        """Hand the lab what the training process reported; True when anything changed."""
        if self.lab is None:
            return False
        began, changed = time.perf_counter(), False
        while time.perf_counter() - began < budget:
            report = self.process.receive()
            if report is None:
                break
            changed |= self._take(self.lab, report)
        return changed

    def _take(self, lab, report) -> bool:
        if isinstance(report, Records):
            slot = self._slots.get(report.run)
            if slot is None:
                return False              # a run that is not on show (stopped, or replaced)
            if report.records:
                slot.history.add_block(StepBlock.from_records(list(report.records)))
            if report.events:
                slot.history.add_events(report.events)
                for event in report.events:
                    if event.kind == EventKind.DIVERGED.value:
                        lab.slot_diverged(slot, event)
            if report.states:
                slot.state = report.states[-1]
                slot.history.set_state(slot.state)
            if not self.pending:          # a comparison is shown once all its runs started
                if report.states:
                    lab.source_state_changed()
                lab.slot_updated(slot)
            return True
        if isinstance(report, RunStarted):
            return self._started(lab, report)
        if isinstance(report, RunEnded):
            slot = self._slots.get(report.run)
            if slot is not None and slot.state not in ("stopped", "finished", "failed", "diverged"):
                slot.state = report.state
                slot.history.set_state(report.state)
                lab.source_state_changed()
            return slot is not None
        if isinstance(report, Ready):
            self.ready = True
            self.info = {"pid": report.pid, "cuda": report.cuda}
            lab.notice("training process ready")
            return False
        if isinstance(report, RunFailed):
            if report.group is not None and report.group != self._token:
                return False              # a start that a newer one replaced, or one left behind
            slot = self._slots.get(report.run)
            if slot is not None:
                slot.state = "failed"
                slot.history.set_state("failed")
            self.pending = False
            lab.run_failed(report.traceback)
            return True
        if isinstance(report, Refused):
            if report.group is not None:
                if report.group != self._token:
                    return False
                self.pending = False
            lab.setting_refused(report.message)
            return True
        if isinstance(report, Crashed):
            self.crashed = True
            self.pending = False
            lab.run_failed(f"The training process ended unexpectedly (exit code {report.exitcode}). Everything it "
                           f"recorded up to its last commit is in {self.session_path}; Run starts a new one.")
            return True
        return False

    def _started(self, lab, report: RunStarted) -> bool:
        if report.group != self._token:
            return False                  # a start that a newer one replaced
        if report.session:
            self.session_path = Path(report.session)
        configs = self._configs or [report.config]
        labels = difference_labels(configs)
        slot = RunSlot(index=report.slot, config=report.config, label=labels[report.slot] if report.slot < len(labels) else "",
                       history=RunHistory(report.config, run_id=report.run_id), run=report.run,
                       run_id=report.run_id, parent=report.parent, device=report.device, state="starting")
        self._slots[report.run] = slot
        if report.device_note:
            lab.notice(report.device_note)
        if len(self._slots) == max(len(self._configs), 1):
            self.pending = False
            lab.show_slots(sorted(self._slots.values(), key=lambda s: s.index), live=True)
        return True

    @property
    def slots(self) -> list[RunSlot]:
        return sorted(self._slots.values(), key=lambda slot: slot.index)
