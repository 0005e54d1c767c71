"""The lab's handle on its training process (`gradscope.training.remote`): start it, send it
commands from any thread, read its reports. torch is imported in the child only."""
from __future__ import annotations

import multiprocessing
import os
import queue

from gradscope.messages import Crashed, Quit


class TrainingProcess:
    def __init__(self, session_path: str | os.PathLike) -> None:
        from gradscope.training.remote import serve

        context = multiprocessing.get_context("spawn")
        self.session_path = os.fspath(session_path)
        self.commands = context.Queue()
        self.reports = context.Queue()
        self.process = context.Process(target=serve, args=(self.commands, self.reports, self.session_path),
                                       name="gradscope-trainer", daemon=True)
        self._closed = False
        self._crash_told = False

    def start(self) -> None:
        self.process.start()

    def send(self, command) -> None:
        if not self._closed:
            self.commands.put(command)

    def receive(self, timeout: float | None = None):
        """The next report, or None (after `timeout`, or at once without one); one `Crashed`
        report once the child died and everything it sent was read."""
        if self._crash_told:
            return None
        try:
            if timeout is None:
                return self.reports.get_nowait()
            return self.reports.get(timeout=timeout)
        except queue.Empty:
            if self.process.exitcode is not None and not self._closed:
                return self._crashed()
            return None
        except (EOFError, OSError):
            return self._crashed()

    def _crashed(self) -> Crashed:
        self._crash_told = True
        return Crashed(self.process.exitcode)

    @property
    def alive(self) -> bool:
        return self.process.is_alive()

    @property
    def ended(self) -> bool:
        """It was started and is gone."""
        return self.process.pid is not None and self.process.exitcode is not None

    @property
    def pid(self) -> int | None:
        return self.process.pid

    def close(self, timeout: float = 1.5) -> None:
        """Ask the child to stop its run and quit; it commits its session file on the way out.
        A child that does not answer in time is terminated (a process, never a thread)."""
        if self._closed:
            return
        self.send(Quit())
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
        self.reports.close()
        self.commands.cancel_join_thread()
        self.reports.cancel_join_thread()
