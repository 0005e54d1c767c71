"""Trainer callbacks, Lightning style: a class of no-op hooks that listeners override.

Every hook but `on_step_salvaged` runs in the thread that trains. A GUI bridge or a session recorder subclasses
`Callback`; nothing else couples them to the trainer.
"""
from __future__ import annotations

import threading

from gradscope.records import Checkpoint, Event, EventKind, RunState, StepRecord

# a salvaged step waits this long for the training thread to finish a write of its own (a big
# checkpoint, say): the process is ending, and must end promptly
SALVAGE_WAIT_SECONDS = 0.5


class Callback:
    def on_run_start(self, trainer) -> None:
        """The run exists: configuration, model and probe batch are fixed."""

    def on_step_end(self, trainer, record: StepRecord) -> None:
        """A training step finished and measured itself."""

    def on_step_salvaged(self, trainer, record: StepRecord) -> None:
        """A finished step's record handed over from another thread as the process ends, the
        training thread being in the middle of a later step (Trainer.salvage). Only listeners
        that are safe from any thread and matter after the end (the session file) take it."""

    def on_event(self, trainer, event: Event) -> None:
        """A setting changed, the run diverged, or its state changed."""

    def on_checkpoint(self, trainer, checkpoint: Checkpoint) -> None:
        """Weights (and optimiser state) before the update of `checkpoint.step`."""

    def on_state_changed(self, trainer, state: RunState) -> None:
        """running, paused, stopped, finished, failed or diverged."""

    def on_run_end(self, trainer) -> None:
        """The loop returned, whatever the reason."""


class SessionRecorder(Callback):
    """Records a run into a session file through the engine's crash-safe writer.

    A run is written once it has its first step: what comes before (its start, its state, a
    checkpoint) waits for it, so a run that never trained (a Reset, a setting changed before
    Run) leaves nothing in the file. Its id is reserved at the start, so it is known at once.
    Its hooks take a lock: salvaged steps come from another thread while the training thread
    may still record a checkpoint or an event of the step under way.
    """

    def __init__(self, writer, parent: tuple[int, int] | None = None):
        self.writer = writer
        self.parent = parent
        self.run_id: int = writer.reserve_run_id()
        self.written = False
        self._waiting: list[tuple] = []     # (method name, arguments) until the first step
        self._config = self._probe_batch = None
        self._comparison: dict | None = None
        self._lock = threading.RLock()

    def compared_with(self, run_ids: list[int], varies) -> None:
        """Mark the run as one of `run_ids` (its own among them), compared in the settings
        `varies`: a `comparison` event at its first step."""
        self._comparison = {"runs": [int(run) for run in run_ids], "varies": list(varies)}

    def on_run_start(self, trainer) -> None:
        self._config, self._probe_batch = trainer.config, trainer.probe_batch_arrays()

    @property
    def stopped_writing(self) -> bool:
        """After a failed write the file says where the run stops (write_failure.py), and the
        failure has reached the trainer once; what comes after is not written, nor raised again."""
        return getattr(self.writer, "failure", None) is not None

    def _write(self, method: str, *args) -> None:
        with self._lock:
            if self.stopped_writing:
                return
            if not self.written:
                self._waiting.append((method, args))
                return
            getattr(self.writer, method)(self.run_id, *args)

    def on_step_end(self, trainer, record: StepRecord) -> None:
        with self._lock:
            self._add_step(record)

    def on_step_salvaged(self, trainer, record: StepRecord) -> None:
        if not self._lock.acquire(timeout=SALVAGE_WAIT_SECONDS):
            raise TimeoutError(f"step {record.step} not salvaged: the training thread is still writing")
        try:
            self._add_step(record)   # the writer is safe from any thread, under its own lock
        finally:
            self._lock.release()

    def _add_step(self, record: StepRecord) -> None:
        if self.stopped_writing:
            return
        if not self.written:
            self.writer.start_run(self._config, self._probe_batch, parent=self.parent, run_id=self.run_id)
            self.written = True
            if self._comparison is not None:
                self._waiting.insert(0, ("add_event", (Event(record.step, EventKind.COMPARISON.value,
                                                              self._comparison, record.wall_time),)))
            for method, args in self._waiting:
                getattr(self.writer, method)(self.run_id, *args)
            self._waiting.clear()
        self.writer.add_step(self.run_id, record)

    def on_event(self, trainer, event: Event) -> None:
        self._write("add_event", event)

    def on_checkpoint(self, trainer, checkpoint: Checkpoint) -> None:
        self._write("add_checkpoint", checkpoint)

    def on_state_changed(self, trainer, state: RunState) -> None:
        # set_state commits: pause, stop, divergence and the end are all on disk at once
        self._write("set_state", state)

    def on_run_end(self, trainer) -> None:
        if self.written and not self.stopped_writing:
            self.writer.commit()
