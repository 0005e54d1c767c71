"""Training in a child process: the trainer of the live lab, out of the GUI's interpreter lock.

A training thread in the GUI's own process takes the GIL often enough to make the window
stutter (FIELD-NOTES: a small LSTM pushes the GUI's p99 tick gap to 46-70 ms). So the GUI's
worker owns one child process that lives as long as the window, trains one run after another
into one session file, and takes commands between two steps:

    parent -> child   ("start", config_json, autorun) ("run",) ("pause",) ("step",) ("stop",)
                      ("clip", mode, threshold) ("lr", lr) ("quit",)
                      ("fork", session_path, run_id, step, changes_json, steps_or_None, autorun)
                      ("session", path)
    child -> parent   ("ready", info) ("run_started", info) ("batch", run, records, events, states)
                      ("run_ended", run, state) ("failed", run, traceback) ("refused", message)

"fork" starts a fork of run `run_id` at its recorded `step` (gradscope.training.fork) as the next
live run, like "start": `changes_json` holds the new lr / clip_mode / clip_threshold, `steps` the
total (None: the parent's). The fork is recorded beside its parent, in `session_path`, which
becomes the child's session file. A fork that cannot be made is "refused" with the reason.
"session" stops the run and records the next runs into `path`, closing the file it wrote so far.
run_started's info names the session file and the parent, [run_id, step] of a fork, else None.

Records cross as plain tuples of numbers and numpy arrays between two processes of ours;
nothing a user opens travels this way. The child records every run with the engine's
crash-safe writer, so a GUI that dies loses nothing the trainer finished. Plain Python: no Qt.
"""
from __future__ import annotations

import multiprocessing
import os
import queue
import signal
import threading
import time
import traceback
from typing import Any

from gradscope.records import Event, RunState, StepRecord

COALESCE_SECONDS = 0.05   # the child sends what it has at most 20 times a second
CHILD_NICENESS = 5        # the window's paint ticks win over training for the CPU


def run_info(trainer, run: int, run_id: int | None = None, parent: tuple[int, int] | None = None,
             session: str | None = None) -> dict[str, Any]:
    """What the GUI learns about a run as it starts (RunStarted.info)."""
    return {"run": run, "config": trainer.config.to_json(), "run_id": run_id,
            "device": str(trainer.device), "device_note": trainer.device_note or "",
            "parent": None if parent is None else [int(parent[0]), int(parent[1])], "session": session}


def record_to_wire(record: StepRecord) -> tuple:
    return record.step, dict(record.scalars), {name: value for name, value in record.arrays.items()}, record.wall_time


def record_from_wire(wire: tuple) -> StepRecord:
    step, scalars, arrays, wall_time = wire
    return StepRecord(step=step, scalars=scalars, arrays=arrays, wall_time=wall_time)


def event_to_wire(event: Event) -> tuple:
    return event.step, event.kind, dict(event.detail), event.wall_time


def event_from_wire(wire: tuple) -> Event:
    step, kind, detail, wall_time = wire
    return Event(step=step, kind=kind, detail=detail, wall_time=wall_time)


# -- the child ---------------------------------------------------------------------------------

def serve(commands, messages, session_path: str, niceness: int = CHILD_NICENESS) -> None:
    """The child process's main function."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)   # Ctrl-C in a terminal belongs to the GUI
    try:
        os.nice(niceness)
    except OSError:
        pass
    try:
        import torch

        torch.set_num_threads(1)
        # the first optimiser imports torch._dynamo (about 2 s): pay it before saying ready
        torch.optim.Adam([torch.zeros(1, requires_grad=True)])
    except Exception:
        messages.put(("failed", None, traceback.format_exc()))
        return
    messages.put(("ready", {"pid": os.getpid(), "session": session_path,
                            "cuda": bool(torch.cuda.is_available())}))
    server = _Server(commands, messages, session_path)
    try:
        server.main_loop()
    finally:
        if server.writer is not None:
            server.writer.close()


class _Server:
    def __init__(self, commands, messages, session_path: str) -> None:
        self.commands = commands
        self.messages = messages
        self.session_path = session_path
        self.writer = None              # the file appears with the first run, not at launch
        self.main_queue: queue.Queue = queue.Queue()
        self.lock = threading.Lock()
        self.trainer = None
        self.starting = False           # a start is on its way to the main thread
        self.early: list[tuple] = []    # controls that arrived for the run being built
        self.run_index = 0
        self.listener = threading.Thread(target=self._listen, name="gradscope-commands", daemon=True)

    def main_loop(self) -> None:
        self.listener.start()
        while True:
            command = self.main_queue.get()
            if command[0] == "quit":
                return
            if command[0] == "start":
                self._train(command[1], command[2])
            elif command[0] == "fork":
                self._train(None, command[6], fork=command[1:6])
            elif command[0] == "session":
                self._use_session(command[1])

    def _listen(self) -> None:
        while True:
            try:
                command = self.commands.get()
            except (EOFError, OSError):
                command = ("quit",)      # the parent is gone
            with self.lock:
                if command[0] in ("start", "fork", "session", "quit"):
                    if self.trainer is not None:
                        self.trainer.stop()
                    self.starting = command[0] in ("start", "fork")
                    self.early = []
                    self.main_queue.put(command)
                    if command[0] == "quit":
                        return
                elif self.starting:
                    self.early.append(command)
                elif self.trainer is not None:
                    self._control(self.trainer, command)

    def _control(self, trainer, command: tuple) -> None:
        from gradscope.config import ConfigError

        kind = command[0]
        try:
            if kind == "run":
                trainer.resume()
            elif kind == "pause":
                trainer.pause()
            elif kind == "step":
                trainer.request_step()
            elif kind == "stop":
                trainer.stop()
            elif kind == "clip":
                trainer.set_clipping(mode=command[1], threshold=command[2])
            elif kind == "lr":
                trainer.set_learning_rate(command[1])
        except ConfigError as error:
            self.messages.put(("refused", str(error)))

    def _train(self, config_json: str | None, autorun: bool, fork: tuple | None = None) -> None:
        from gradscope.config import ConfigError, RunConfig
        from gradscope.probes.runner import default_probe_mode
        from gradscope.session import SessionError
        from gradscope.training import SessionRecorder, Trainer
        from gradscope.training.fork import plan_fork, start_fork

        self.run_index += 1
        index = self.run_index
        forwarder = _Forwarder(self.messages, index)
        trainer = None
        superseded = False
        try:
            plan = None
            if fork is not None:
                source, run_id, step, changes_json, steps = fork
                try:
                    plan = plan_fork(source, run_id, step, _changes(changes_json), steps)
                except (ConfigError, SessionError) as error:
                    self.messages.put(("refused", f"cannot fork: {error}"))
                    return
                self._use_session(source)   # a fork is recorded beside its parent
                forwarder.parent = plan.parent
            config = plan.config if plan is not None else RunConfig.from_json(config_json)
            if self.writer is None:
                from gradscope.session import SessionWriter

                self.writer = SessionWriter(self.session_path, append=os.path.exists(self.session_path))
            forwarder.session = self.session_path
            recorder = SessionRecorder(self.writer, parent=None if plan is None else plan.parent)
            callbacks, probe_mode = [recorder, forwarder], default_probe_mode("thread")
            if plan is not None:
                trainer = start_fork(plan, callbacks, probe_mode=probe_mode)
            else:
                trainer = Trainer(config, callbacks, probe_mode=probe_mode)
            forwarder.recorder = recorder
            if not autorun:
                trainer.pause()
            with self.lock:
                # a newer start, fork, session or quit came while this run was being built: it
                # would have stopped this run, had it been running
                superseded = not self.main_queue.empty()
                if not superseded:
                    self.trainer = trainer
                    self.starting = False
                    for command in self.early:
                        self._control(trainer, command)
                    self.early = []
            if not superseded:
                trainer.run()
        except Exception:
            forwarder.flush()
            self.messages.put(("failed", index, traceback.format_exc()))
        finally:
            with self.lock:
                if self.trainer is trainer and trainer is not None:
                    self.trainer = None
                elif self.main_queue.empty():
                    self.starting = False    # this run never started, and no other is coming
            if trainer is not None:
                trainer.close()
            forwarder.flush()
            if superseded:
                state = "stopped"
            else:
                state = trainer.state.value if trainer is not None and trainer.state is not None else "failed"
            self.messages.put(("run_ended", index, state))

    def _use_session(self, path: str) -> None:
        """Record the next runs into `path`; the current session file is closed when it is
        another one (it appears, or is appended to, with the next run)."""
        path = os.fspath(path)
        if self.writer is not None and os.path.abspath(path) == os.path.abspath(self.session_path):
            return
        writer, self.writer = self.writer, None
        self.session_path = path
        if writer is not None:
            try:
                writer.close()
            except Exception as error:   # e.g. the disk is full: say so, go on with the new file
                self.messages.put(("refused", f"closing the previous session file: {error}"))


def _changes(changes_json: str | None) -> dict:
    import json

    from gradscope.config import ConfigError

    try:
        changes = json.loads(changes_json) if changes_json else {}
    except (TypeError, ValueError) as error:
        raise ConfigError("config", f"the fork's changes are not valid JSON ({error})") from None
    if not isinstance(changes, dict):
        raise ConfigError("config", "the fork's changes must be a table of settings")
    return changes


class _Forwarder:
    """A trainer callback that sends records to the parent in coalesced batches."""

    def __init__(self, messages, run_index: int) -> None:
        self.messages = messages
        self.run_index = run_index
        self.recorder = None
        self.parent: tuple[int, int] | None = None
        self.session: str | None = None
        self.records: list[tuple] = []
        self.events: list[tuple] = []
        self.states: list[str] = []
        self.last_sent = time.monotonic()

    def on_run_start(self, trainer) -> None:
        run_id = self.recorder.run_id if self.recorder is not None else None
        self.messages.put(("run_started", run_info(trainer, self.run_index, run_id, self.parent, self.session)))

    def on_step_end(self, trainer, record: StepRecord) -> None:
        self.records.append(record_to_wire(record))
        # a step taken while paused goes out at once: nothing else would push it
        if trainer.state is RunState.PAUSED or time.monotonic() - self.last_sent >= COALESCE_SECONDS:
            self.flush()

    def on_event(self, trainer, event: Event) -> None:
        self.events.append(event_to_wire(event))

    def on_checkpoint(self, trainer, checkpoint) -> None:
        pass

    def on_state_changed(self, trainer, state: RunState) -> None:
        self.states.append(state.value)
        self.flush()

    def on_run_end(self, trainer) -> None:
        self.flush()

    def flush(self) -> None:
        if self.records or self.events or self.states:
            self.messages.put(("batch", self.run_index, self.records, self.events, self.states))
            self.records, self.events, self.states = [], [], []
        self.last_sent = time.monotonic()


# -- the parent's handle -----------------------------------------------------------------------

class TrainingProcess:
    """The parent's side: start the child, send it commands from any thread, read its messages."""

    def __init__(self, session_path: str | os.PathLike) -> None:
        context = multiprocessing.get_context("spawn")
        self.session_path = os.fspath(session_path)
        self.commands = context.Queue()
        self.messages = context.Queue()
        self.process = context.Process(target=serve, args=(self.commands, self.messages, self.session_path),
                                       name="gradscope-trainer", daemon=True)
        self._closed = False

    def start(self) -> None:
        self.process.start()

    def send(self, *command: Any) -> None:
        if not self._closed:
            self.commands.put(command)

    def receive(self, timeout: float) -> tuple | None:
        """The next message, or None after `timeout`; ("crashed", exitcode) when the child died."""
        try:
            return self.messages.get(timeout=timeout)
        except queue.Empty:
            if self.process.exitcode is not None and not self._closed:
                return ("crashed", self.process.exitcode)
            return None
        except (EOFError, OSError):
            return ("crashed", self.process.exitcode)

    @property
    def alive(self) -> bool:
        return self.process.is_alive()

    def close(self, timeout: float = 1.5) -> None:
        """Ask the child to stop its run and quit; it commits its session file on the way out.
        A child that does not answer in time is terminated (a process, never a thread)."""
        if self._closed:
            return
        self.send("quit")
        self._closed = True
        if self.process.pid is not None:
            self.process.join(timeout)
            if self.process.is_alive():
                self.process.terminate()
                self.process.join(1.0)
            if self.process.is_alive():
                self.process.kill()
                self.process.join(1.0)
        self.commands.close()
        self.messages.close()
        self.commands.cancel_join_thread()
        self.messages.cancel_join_thread()
