"""The training worker: a QObject in its own QThread that owns the training process.

The worker thread starts the child (gradscope.training.remote), reads what it sends, turns it
back into frozen records and puts them into the RecordBuffer that the GUI drains on a timer.
It holds no widget and calls no GUI method. Commands (run, pause, step, stop, settings) go
straight from the GUI thread into the child's command queue, so they act at once even while
the worker thread waits: a queued Qt call would wait behind the reading loop.

Signals reach slots of objects that live in the GUI thread (FIELD-NOTES: a lambda connected to
a worker's signal runs in the worker's thread).
"""
from __future__ import annotations

import threading

from PySide6.QtCore import QObject, QThread, Signal, Slot

from gradscope.config import RunConfig
from gradscope.training.remote import TrainingProcess, event_from_wire, record_from_wire
from gradscope.ui.buffer import RecordBuffer

POLL_SECONDS = 0.05


class TrainingWorker(QObject):
    ready = Signal(dict)                # the child is up: pid, session, cuda
    run_ended = Signal(int, str)        # run index, final state
    run_failed = Signal(str)            # a traceback, or what happened to the process
    setting_refused = Signal(str)       # the trainer refused a setting, with the reason

    def __init__(self, buffer: RecordBuffer, session_path: str):
        super().__init__()
        self.buffer = buffer
        self.session_path = session_path
        self.process = TrainingProcess(session_path)
        self.stop_requested = threading.Event()
        self.is_ready = False

    # -- commands, from the GUI thread ---------------------------------------------------------

    def start_run(self, config: RunConfig, autorun: bool = True) -> None:
        """A new run in the same session; the one training now stops first."""
        self.process.send("start", config.to_json(), bool(autorun))

    def resume(self) -> None:
        self.process.send("run")

    def pause(self) -> None:
        self.process.send("pause")

    def step(self) -> None:
        self.process.send("step")

    def stop(self) -> None:
        self.process.send("stop")

    def set_clipping(self, mode: str, threshold: float) -> None:
        self.process.send("clip", mode, float(threshold))

    def set_learning_rate(self, lr: float) -> None:
        self.process.send("lr", float(lr))

    def fork(self, session_path: str, run_id: int, step: int, changes: dict | None = None,
             steps: int | None = None, autorun: bool = True) -> None:
        """Fork run `run_id` of `session_path` at its recorded `step` as the next live run, with
        `changes` (lr, clip_mode, clip_threshold); it is recorded into `session_path`."""
        import json

        self.process.send("fork", str(session_path), int(run_id), int(step), json.dumps(dict(changes or {})),
                          None if steps is None else int(steps), bool(autorun))

    def set_session(self, path: str) -> None:
        """Record the next runs (fresh or forks) into `path`; the run training now stops."""
        self.process.send("session", str(path))

    # -- the worker thread -----------------------------------------------------------------------

    @Slot()
    def serve(self) -> None:
        """Runs in the worker thread until `stop_requested`: start the child and relay it."""
        try:
            self.process.start()
        except Exception as error:   # fork/spawn refused: say so, the window stays usable
            self.run_failed.emit(f"The training process could not start: {error}")
            return
        while not self.stop_requested.is_set():
            message = self.process.receive(POLL_SECONDS)
            if message is None:
                continue
            if not self._dispatch(message):
                return

    def _dispatch(self, message: tuple) -> bool:
        kind = message[0]
        if kind == "batch":
            _, _, records, events, states = message
            self.buffer.add(records=[record_from_wire(r) for r in records],
                            events=[event_from_wire(e) for e in events], states=states)
        elif kind == "run_started":
            self.buffer.start_run(message[1])
        elif kind == "run_ended":
            self.run_ended.emit(int(message[1]), str(message[2]))
        elif kind == "ready":
            self.is_ready = True
            self.ready.emit(message[1])
        elif kind == "failed":
            self.run_failed.emit(message[2])
            if message[1] is None:          # the child could not even set up
                return False
        elif kind == "refused":
            self.setting_refused.emit(message[1])
        elif kind == "crashed":
            if not self.stop_requested.is_set():
                self.run_failed.emit(
                    f"The training process ended unexpectedly (exit code {message[1]}). Everything it "
                    f"recorded up to its last commit is in {self.session_path}.")
            return False
        return True


class WorkerThread(QThread):
    """A QThread that always ends: `shutdown` stops the child's run, joins the thread, and
    joins (or at last terminates) the child process."""

    def shutdown(self, worker: TrainingWorker, timeout_ms: int = 2000) -> bool:
        worker.stop_requested.set()
        worker.process.send("quit")        # the child stops its run and commits meanwhile
        self.quit()
        joined = self.wait(min(500, timeout_ms))
        worker.process.close(timeout=max(0.1, (timeout_ms - 500) / 1000))
        return joined and self.wait(100)
