"""How a child process learns that it must end: its parent's process is gone, or SIGTERM.

A training child that goes on after its window died is an orphan that holds the window's
stdout and stderr open (a caller waiting for their end waits for ever) and keeps the resource
tracker alive, which holds them too. Polling `os.getppid()` misses a parent that died before
the child first looked, so the child waits on multiprocessing's parent sentinel instead: a
pipe that the parent holds open and that the kernel closes when the parent dies, however it
dies (SIGKILL and crashes included). `prctl(PR_SET_PDEATHSIG)` is not used: it fires when the
*thread* that started the child ends, which for a lab started from a short-lived thread would
end a child whose parent lives on, and it only exists on Linux.

SIGTERM gets a Python handler that does nothing but make the interpreter's C-level handler
write the signal's number into a pipe (`signal.set_wakeup_fd`). That write happens at once,
even while the main thread is inside a long torch call, where a Python handler would wait for
the call to return; the watching thread wakes on it.

Plain Python: no Qt, no torch.
"""
from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import os
import signal

PARENT_GONE = "parent gone"
TERMINATED = "terminated"
# without a parent sentinel (the function was not started by multiprocessing) the parent's
# pid is compared this often
POLL_SECONDS = 0.5


class Lifeline:
    """Create in the child's main thread (signal handlers can only be set there); `wait` from
    any thread."""

    def __init__(self) -> None:
        self._read, self._write = os.pipe()
        os.set_blocking(self._read, False)
        os.set_blocking(self._write, False)   # the C handler must never block
        signal.signal(signal.SIGTERM, _wake_only)
        signal.set_wakeup_fd(self._write, warn_on_full_buffer=False)
        parent = multiprocessing.parent_process()
        self._sentinel = None if parent is None else parent.sentinel
        self._parent_pid = os.getppid()

    def wait(self) -> str:
        """Block until the parent is gone (PARENT_GONE) or SIGTERM came (TERMINATED)."""
        watched = [self._read] + ([self._sentinel] if self._sentinel is not None else [])
        while True:
            ready = multiprocessing.connection.wait(watched, timeout=POLL_SECONDS)
            if self._read in ready and self._terminated():
                return TERMINATED
            if (self._sentinel is not None and self._sentinel in ready) or os.getppid() != self._parent_pid:
                return PARENT_GONE

    def _terminated(self) -> bool:
        """Whether SIGTERM is among the signals written since the last look (another handled
        signal may have written its number too)."""
        try:
            numbers = os.read(self._read, 512)
        except BlockingIOError:
            return False
        return signal.SIGTERM in numbers


def _wake_only(signum, frame) -> None:
    """The work is done by the thread that `Lifeline.wait`s: a handler in the main thread could
    run in the middle of any of its statements, holding any of its locks."""
