"""The hand-over point between whoever produces records (the training worker, or a replay)
and the GUI: a lock-protected, ordered buffer of frozen records. The producer only appends;
the GUI's timer takes everything at once (coalescing), so the GUI draws at its own pace,
never once per record. A run's start travels in the same stream as its records, so no record
can reach the panels ahead of the run it belongs to.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from gradscope.records import Event, RunState, StepBlock, StepRecord
from gradscope.training import Callback
from gradscope.training.remote import run_info


@dataclass
class RunStarted:
    """A new run: `info` holds run (index), config (JSON), run_id, device, device_note."""

    info: dict[str, Any]


@dataclass
class Batch:
    """What one run produced since the last drain: live records, or a replay's blocks."""

    records: list[StepRecord] = field(default_factory=list)
    blocks: list[StepBlock] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    states: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.records or self.blocks or self.events or self.states)


class RecordBuffer(Callback):
    """Ordered parts (RunStarted, Batch) waiting for the GUI thread. Also a trainer callback,
    for a trainer that runs in this process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._parts: list[RunStarted | Batch] = []
        self._runs = 0

    def start_run(self, info: dict[str, Any]) -> None:
        with self._lock:
            self._parts.append(RunStarted(dict(info)))

    def add(self, records=(), events=(), states=(), blocks=()) -> None:
        with self._lock:
            if not self._parts or not isinstance(self._parts[-1], Batch):
                self._parts.append(Batch())
            batch = self._parts[-1]
            batch.records.extend(records)
            batch.blocks.extend(blocks)
            batch.events.extend(events)
            batch.states.extend(state.value if isinstance(state, RunState) else str(state) for state in states)

    def drain(self) -> list[RunStarted | Batch]:
        with self._lock:
            parts, self._parts = self._parts, []
        return parts

    # -- as a callback of an in-process trainer ---------------------------------------------

    def on_run_start(self, trainer) -> None:
        self._runs += 1
        self.start_run(run_info(trainer, self._runs))

    def on_step_end(self, trainer, record: StepRecord) -> None:
        self.add(records=[record])

    def on_event(self, trainer, event: Event) -> None:
        self.add(events=[event])

    def on_state_changed(self, trainer, state: RunState) -> None:
        self.add(states=[state])
