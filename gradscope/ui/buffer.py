"""The hand-over point between the training thread and the GUI: a lock-protected buffer of
frozen records. The trainer's thread only appends; the GUI's timer takes everything at once
(coalescing), so the GUI draws at its own pace, never once per record."""
from __future__ import annotations

import threading
from dataclasses import dataclass, field

from gradscope.records import Checkpoint, Event, RunState, StepRecord
from gradscope.training import Callback


@dataclass
class Batch:
    """What arrived since the last drain."""

    records: list[StepRecord] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    states: list[RunState] = field(default_factory=list)
    checkpoints: list[int] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.records or self.events or self.states or self.checkpoints)


class RecordBuffer(Callback):
    """A trainer callback that buffers everything for the GUI thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._batch = Batch()

    def on_step_end(self, trainer, record: StepRecord) -> None:
        with self._lock:
            self._batch.records.append(record)

    def on_event(self, trainer, event: Event) -> None:
        with self._lock:
            self._batch.events.append(event)

    def on_state_changed(self, trainer, state: RunState) -> None:
        with self._lock:
            self._batch.states.append(state)

    def on_checkpoint(self, trainer, checkpoint: Checkpoint) -> None:
        with self._lock:
            self._batch.checkpoints.append(checkpoint.step)

    def drain(self) -> Batch:
        with self._lock:
            batch, self._batch = self._batch, Batch()
        return batch
