"""Thread-safe run control: pause, resume, stop and setting changes between two steps.

The GUI's thread calls these while the worker thread trains; the trainer only looks at them
between steps, so a change never lands in the middle of a forward or backward pass.
"""
from __future__ import annotations

import threading
from typing import Any


class RunControl:
    def __init__(self) -> None:
        self._stop = threading.Event()
        self._running = threading.Event()
        self._running.set()
        self._lock = threading.Lock()
        self._pending: dict[str, Any] = {}

    def stop(self) -> None:
        self._stop.set()
        self._running.set()  # wake a paused loop so it can see the stop

    def pause(self) -> None:
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    @property
    def stop_requested(self) -> bool:
        return self._stop.is_set()

    @property
    def pause_requested(self) -> bool:
        return not self._running.is_set()

    def wait_while_paused(self, timeout: float | None = None) -> bool:
        """Block until resumed or stopped; True when the run may go on."""
        self._running.wait(timeout)
        return self._running.is_set() and not self._stop.is_set()

    def request(self, **changes: Any) -> None:
        """Queue setting changes (clip_mode, clip_threshold, lr) for the next step."""
        with self._lock:
            self._pending.update(changes)

    def take_pending(self) -> dict[str, Any]:
        with self._lock:
            pending, self._pending = self._pending, {}
        return pending
