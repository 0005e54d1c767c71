"""Trainer callbacks, Lightning style: a class of no-op hooks that listeners override.

Every hook runs in the thread that trains. A GUI bridge or a session recorder subclasses
`Callback`; nothing else couples them to the trainer.
"""
from __future__ import annotations

from gradscope.records import Checkpoint, Event, RunState, StepRecord


class Callback:
    def on_run_start(self, trainer) -> None:
        """The run exists: configuration, model and probe batch are fixed."""

    def on_step_end(self, trainer, record: StepRecord) -> None:
        """A training step finished and measured itself."""

    def on_event(self, trainer, event: Event) -> None:
        """A setting changed, the run diverged, or its state changed."""

    def on_checkpoint(self, trainer, checkpoint: Checkpoint) -> None:
        """Weights (and optimiser state) before the update of `checkpoint.step`."""

    def on_state_changed(self, trainer, state: RunState) -> None:
        """running, paused, stopped, finished, failed or diverged."""

    def on_run_end(self, trainer) -> None:
        """The loop returned, whatever the reason."""


class SessionRecorder(Callback):
    """Records a run into a session file through the engine's crash-safe writer."""

    def __init__(self, writer, parent: tuple[int, int] | None = None):
        self.writer = writer
        self.parent = parent
        self.run_id: int | None = None

    def on_run_start(self, trainer) -> None:
        self.run_id = self.writer.start_run(trainer.config, trainer.probe_batch_arrays(), parent=self.parent)

    def on_step_end(self, trainer, record: StepRecord) -> None:
        self.writer.add_step(self.run_id, record)

    def on_event(self, trainer, event: Event) -> None:
        self.writer.add_event(self.run_id, event)

    def on_checkpoint(self, trainer, checkpoint: Checkpoint) -> None:
        self.writer.add_checkpoint(self.run_id, checkpoint)

    def on_state_changed(self, trainer, state: RunState) -> None:
        # set_state commits: pause, stop, divergence and the end are all on disk at once
        self.writer.set_state(self.run_id, state)

    def on_run_end(self, trainer) -> None:
        self.writer.commit()
