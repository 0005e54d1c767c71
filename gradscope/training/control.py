"""Thread-safe run control: pause, resume, stop and single steps between two steps.

The window's commands (or a signal handler) call these while another thread trains; the
training loop only looks at them between steps, so nothing lands in the middle of a forward
or backward pass. Setting changes go through a `Schedule` instead, which says at which step.
"""
from __future__ import annotations

import threading


class RunControl:
    def __init__(self) -> None:
        self._stop = threading.Event()
        self._running = threading.Event()
        self._running.set()
        self._wake = threading.Event()   # a paused loop sleeps on this
        self._lock = threading.Lock()
        self._steps_requested = 0

    def stop(self) -> None:
        self._stop.set()
        self._running.set()  # wake a paused loop so it can see the stop
        self._wake.set()

    def pause(self) -> None:
        self._running.clear()

    def resume(self) -> None:
        self._running.set()
        self._wake.set()

    def request_step(self) -> None:
        """One training step while paused (the window's Step button); the run stays paused."""
        with self._lock:
            self._steps_requested += 1
        self._wake.set()

    def take_step_request(self) -> bool:
        with self._lock:
            if self._steps_requested == 0:
                return False
            self._steps_requested -= 1
            return True

    @property
    def stop_requested(self) -> bool:
        return self._stop.is_set()

    @property
    def pause_requested(self) -> bool:
        return not self._running.is_set()

    def wait_while_paused(self, timeout: float | None = None) -> bool:
        """Block until resumed, stopped or asked for a step (or until `timeout`); True when
        the run may go on."""
        if not self._running.is_set():
            self._wake.wait(timeout)
            self._wake.clear()
        return self._running.is_set() and not self._stop.is_set()


class Controlled:
    """Pause, resume, stop and one step, from any thread, for whatever trains under a
    `RunControl` in its `control` (a trainer, a lockstep)."""

    control: RunControl

    def pause(self) -> None:
        self.control.pause()

    def resume(self) -> None:
        self.control.resume()

    def stop(self) -> None:
        self.control.stop()

    def request_step(self) -> None:
        """One step while `run` is paused; the run stays paused after it."""
        self.control.request_step()
