"""The training worker: a QObject living in its own QThread that drives one Trainer.

It holds no widget and calls no GUI method. Records leave through a RecordBuffer that the
GUI drains on a timer; the only signals it emits are `run_finished` and `run_failed` (with
the traceback), received by slots of objects that live in the GUI thread. Pause, resume,
stop and setting changes go straight to the trainer's thread-safe controls: a queued call
would wait behind the running loop (FIELD-NOTES: QTimer.singleShot(ms, worker.stop) hangs).
"""
from __future__ import annotations

import threading
import traceback

from PySide6.QtCore import QObject, QThread, Signal, Slot

from gradscope.config import RunConfig
from gradscope.ui.buffer import RecordBuffer


class TrainingWorker(QObject):
    run_finished = Signal(str)          # the final state's name
    run_failed = Signal(str)            # the traceback

    def __init__(self, buffer: RecordBuffer, extra_callbacks: list | None = None):
        super().__init__()
        self.buffer = buffer
        self.extra_callbacks = list(extra_callbacks or [])
        self.trainer = None
        # a stop that arrives while the trainer is still being built must not be lost
        self.stop_requested = threading.Event()

    @Slot(object)
    def train(self, config: RunConfig) -> None:
        """Runs in the worker thread: build the trainer there and train until done."""
        from gradscope.training import Trainer

        try:
            self.trainer = Trainer(config, [self.buffer, *self.extra_callbacks])
            if self.stop_requested.is_set():
                self.trainer.stop()
            state = self.trainer.run()
            self.run_finished.emit(state.value)
        except Exception:
            self.run_failed.emit(traceback.format_exc())
        finally:
            if self.trainer is not None:
                self.trainer.close()


class WorkerThread(QThread):
    """A QThread that always ends: `shutdown` stops the trainer cooperatively and joins."""

    def shutdown(self, worker: TrainingWorker, timeout_ms: int = 2000) -> bool:
        worker.stop_requested.set()
        trainer = worker.trainer
        if trainer is not None:
            trainer.stop()
        self.quit()
        return self.wait(timeout_ms)
