"""The training process: the live lab's trainers, out of the window's interpreter lock.

A training thread in the window's own process takes the interpreter lock often enough to make
the window stutter (a small LSTM pushed the window's p99 gap between 16 ms ticks to 46 to 70 ms,
against 21 ms from a child process). So the window's lab owns one child process that lives as
long as the window, trains one run (or one comparison of two or three runs in lockstep) after
another into one session file, and takes the commands of `gradscope.messages` between two
steps. Its main thread trains; a listener thread takes commands as they come, so a pause or a
setting change acts at the next step whatever the main thread is doing, and a watcher
(`gradscope.training.lifeline`) ends the process when the window's process is gone or when
it is sent SIGTERM: it commits what was trained and exits, leaving nothing running.

Every run is recorded with the engine's crash-safe writer, so a window that dies loses nothing
the trainer finished. Plain Python: no Qt (torch is imported in the child only).
"""
from __future__ import annotations

import os
import queue
import signal
import threading
import time
import traceback

from gradscope.messages import (ChangeSettings, ForkRun, NoteAt, Pause, PauseAt, Quit, Ready, Records, Refused,
                                Resume, RunEnded, RunFailed, RunStarted, RunTo, StartRuns, StepOnce, Stop, UseSession)
from gradscope.records import Event, RunState, StepRecord
from gradscope.training.callbacks import Callback
from gradscope.training.lifeline import PARENT_GONE, Lifeline

COALESCE_SECONDS = 0.05   # the child reports at most 20 times a second
CHILD_NICENESS = 5        # the window's paint ticks win over training for the CPU
# once the window's process is gone, the step under way may finish and the run stop cleanly
# within this long; a step still running then (a long backward pass in C++) is not waited for
GRACE_SECONDS = 1.0
# then the steps trained before the long one, still held for a probe in flight, are handed to
# the file within this long (the training thread may be handing some over itself)
SALVAGE_SECONDS = 0.5
EXIT_CUT_SHORT = 1        # ended by the watcher, not by a Quit taken between two steps
STARTING = (StartRuns, ForkRun)


def serve(commands, reports, session_path: str, niceness: int = CHILD_NICENESS) -> None:
    """The child process's main function."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)   # Ctrl-C in a terminal belongs to the window
    server = _Server(commands, reports, session_path)
    # watching from the start: the window may be gone while torch is still being imported
    threading.Thread(target=server.watch, args=(Lifeline(),), name="gradscope-lifeline", daemon=True).start()
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
        reports.put(RunFailed(None, traceback.format_exc()))
        return
    reports.put(Ready(pid=os.getpid(), session=session_path, cuda=bool(torch.cuda.is_available())))
    try:
        server.main_loop()
    finally:
        if server.writer is not None:
            server.writer.close()
    # the loop ends only at a Quit, after which the window reads no more reports: exiting must
    # not wait to push the last ones into a pipe that nobody empties
    reports.cancel_join_thread()


class _Server:
    def __init__(self, commands, reports, session_path: str) -> None:
        self.commands = commands
        self.reports = reports
        self.session_path = session_path
        self.writer = None              # the file appears with the first step, not at launch
        self.main_queue: queue.Queue = queue.Queue()
        self.lock = threading.Lock()
        self.loop = None                # the Lockstep training now
        self.starting = False           # a start is on its way to the main thread
        self.early: list = []           # commands that arrived for the runs being built
        self.run_index = 0

    def main_loop(self) -> None:
        threading.Thread(target=self._listen, name="gradscope-commands", daemon=True).start()
        while True:
            command = self.main_queue.get()
            if isinstance(command, Quit):
                return
            if isinstance(command, STARTING):
                self._train(command)
            elif isinstance(command, UseSession):
                self._use_session(command.path)

    def _listen(self) -> None:
        while True:
            try:
                command = self.commands.get()
            except (EOFError, OSError):
                command = Quit()         # the window is gone
            self._take(command)
            if isinstance(command, Quit):
                return

    def watch(self, lifeline: Lifeline) -> None:
        """The window's process may die without a word (SIGKILL, a crash), or this process may
        be sent SIGTERM: stop, commit and end, instead of training on as an orphan. (The
        listener never sees the end of the command pipe: this process holds its other end.)"""
        why = lifeline.wait()
        if why == PARENT_GONE:
            # nobody reads the reports any more: exiting must not wait to send what is buffered
            self.reports.cancel_join_thread()
            self._take(Quit())
            time.sleep(GRACE_SECONDS)   # meanwhile the run stops between two steps and the process ends
        # still here: a step is running long, or SIGTERM asked for the end now
        writer, loop = self.writer, self.loop
        if writer is not None:
            if loop is not None:
                # whatever goes wrong here (a full disk), the process must still end: the writer
                # keeps what it committed and notes where a failed write stopped it
                try:
                    loop.salvage(SALVAGE_SECONDS)
                except Exception:
                    pass
            writer.interrupt("the window's process ended" if why == PARENT_GONE
                             else "the training process was sent SIGTERM")
        os._exit(EXIT_CUT_SHORT)

    def _take(self, command) -> None:
        with self.lock:
            if isinstance(command, (*STARTING, UseSession, Quit)):
                if self.loop is not None:
                    self.loop.stop()
                self.starting = isinstance(command, STARTING)
                self.early = []
                self.main_queue.put(command)
            elif self.starting:
                self.early.append(command)
            elif self.loop is not None:
                self._control(self.loop, command)

    def _control(self, loop, command) -> None:
        from gradscope.config import ConfigError

        try:
            if isinstance(command, Resume):
                loop.resume()
            elif isinstance(command, Pause):
                loop.pause()
            elif isinstance(command, StepOnce):
                loop.request_step()
            elif isinstance(command, Stop):
                loop.stop()
            elif isinstance(command, ChangeSettings):
                loop.change_settings(command.step, command.slots, **dict(command.changes))
            elif isinstance(command, PauseAt):
                loop.pause_at(command.step)
            elif isinstance(command, RunTo):
                loop.pause_at(command.step)           # refused: nothing resumes
                loop.resume()
            elif isinstance(command, NoteAt):
                loop.note_at(command.step, command.text)
        except (ConfigError, ValueError, IndexError, TypeError) as error:
            self.reports.put(Refused(str(error)))

    def _train(self, command) -> None:
        from gradscope.config import ConfigError
        from gradscope.probes.runner import default_probe_mode
        from gradscope.session import SessionError, SessionWriter
        from gradscope.training import SessionRecorder, Trainer
        from gradscope.training.fork import plan_fork, start_fork
        from gradscope.training.loop import Lockstep

        outbox = _Outbox(self.reports)
        trainers, forwarders, loop = [], [], None
        superseded = False
        try:
            plan = None
            if isinstance(command, ForkRun):
                try:
                    plan = plan_fork(command.session, command.run_id, command.step, dict(command.changes),
                                     command.steps)
                except (ConfigError, SessionError) as error:
                    self.reports.put(Refused(f"cannot fork: {error}", group=command.token))
                    return
                self._use_session(command.session)   # a fork is recorded beside its parent
            configs = [plan.config] if plan is not None else list(command.configs)
            if self.writer is None:
                self.writer = SessionWriter(self.session_path, append=os.path.exists(self.session_path))
            recorders = [SessionRecorder(self.writer, parent=None if plan is None else plan.parent)
                         for _ in configs]
            if len(configs) > 1:
                for recorder in recorders:
                    recorder.compared_with([other.run_id for other in recorders], command.varies)
            for slot, (config, recorder) in enumerate(zip(configs, recorders)):
                self.run_index += 1
                forwarder = _Forwarder(outbox, self.run_index, command.token, slot, recorder,
                                       None if plan is None else plan.parent, self.session_path)
                callbacks, probe_mode = [recorder, forwarder], default_probe_mode("thread")
                trainer = (start_fork(plan, callbacks, probe_mode=probe_mode) if plan is not None
                           else Trainer(config, callbacks, probe_mode=probe_mode))
                trainers.append(trainer)
                forwarders.append(forwarder)
            loop = Lockstep(trainers)
            if not command.autorun:
                loop.pause()
            with self.lock:
                # a newer start, fork, session or quit came while these runs were being built:
                # it would have stopped them, had they been running
                superseded = not self.main_queue.empty()
                if not superseded:
                    self.loop = loop
                    self.starting = False
                    for early in self.early:
                        self._control(loop, early)
                    self.early = []
            if not superseded:
                loop.run()
        except Exception:
            outbox.flush()
            failed = next((forwarder.run for forwarder, trainer in zip(forwarders, trainers)
                           if trainer.state is RunState.FAILED), self.run_index)
            self.reports.put(RunFailed(failed, traceback.format_exc(), group=command.token))
        finally:
            with self.lock:
                if self.loop is loop and loop is not None:
                    self.loop = None
                elif self.main_queue.empty():
                    self.starting = False    # these runs never started, and no others are coming
            for trainer in trainers:
                trainer.close()
            outbox.flush()
            for forwarder, trainer in zip(forwarders, trainers):
                # the loop has returned: a run that did not reach a final state was cut short
                # by an error outside any one step (a full disk at a commit, say)
                final = trainer.state is not None and trainer.state.is_final
                state = "stopped" if superseded else (trainer.state.value if final else "failed")
                self.reports.put(RunEnded(forwarder.run, state))

    def _use_session(self, path: str) -> None:
        """Record the next runs into `path`; the current session file is closed when it is
        another one (it appears, or is appended to, with the next run's first step)."""
        path = os.fspath(path)
        if self.writer is not None and os.path.abspath(path) == os.path.abspath(self.session_path):
            return
        writer, self.writer = self.writer, None
        self.session_path = path
        if writer is not None:
            try:
                writer.close()
            except Exception as error:   # e.g. the disk is full: say so, go on with the new file
                self.reports.put(Refused(f"closing the previous session file: {error}"))


class _Outbox:
    """Reports of the runs of one group, sent together at most every COALESCE_SECONDS."""

    def __init__(self, reports) -> None:
        self.reports = reports
        self.pending: dict[int, tuple[list, list, list]] = {}
        self.last_sent = time.monotonic()

    def add(self, run: int, record: StepRecord | None = None, event: Event | None = None,
            state: str | None = None) -> None:
        records, events, states = self.pending.setdefault(run, ([], [], []))
        if record is not None:
            records.append(record)
        if event is not None:
            events.append(event)
        if state is not None:
            states.append(state)

    def due(self) -> bool:
        return time.monotonic() - self.last_sent >= COALESCE_SECONDS

    def flush(self) -> None:
        for run, (records, events, states) in self.pending.items():
            if records or events or states:
                self.reports.put(Records(run, tuple(records), tuple(events), tuple(states)))
        self.pending = {}
        self.last_sent = time.monotonic()


class _Forwarder(Callback):
    """A trainer callback that reports one run's records through the group's outbox."""

    def __init__(self, outbox: _Outbox, run: int, group: int, slot: int, recorder, parent, session: str) -> None:
        self.outbox, self.run, self.group, self.slot = outbox, run, group, slot
        self.recorder, self.parent, self.session = recorder, parent, session

    def on_run_start(self, trainer) -> None:
        self.outbox.flush()       # what came before this run goes first
        self.outbox.reports.put(RunStarted(
            run=self.run, config=trainer.config, run_id=self.recorder.run_id, device=str(trainer.device),
            device_note=trainer.device_note or "", parent=self.parent, session=self.session,
            group=self.group, slot=self.slot))

    def on_step_end(self, trainer, record: StepRecord) -> None:
        self.outbox.add(self.run, record=record)
        # a step taken while paused goes out at once: nothing else would push it
        if trainer.state is RunState.PAUSED or self.outbox.due():
            self.outbox.flush()

    def on_event(self, trainer, event: Event) -> None:
        self.outbox.add(self.run, event=event)

    def on_state_changed(self, trainer, state: RunState) -> None:
        self.outbox.add(self.run, state=state.value)
        self.outbox.flush()

    def on_run_end(self, trainer) -> None:
        self.outbox.flush()
