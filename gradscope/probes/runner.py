"""Probes on the second core: a background thread measures a snapshot of the weights while
the training thread goes on with the next steps.

The probe works on its own copy of the model, filled with the weights of the step it
measures (before that step's update) at the moment it is submitted, so training never
waits for it and never races with it. At most one probe is in flight.
"""
from __future__ import annotations

import threading
import time
from typing import Callable

import numpy as np
import torch


class ProbeRunner:
    def __init__(self, probe: Callable[[int], dict[str, np.ndarray]], threads: int = 1):
        self._probe = probe
        self._threads = threads
        self._lock = threading.Condition()
        self._job: int | None = None          # step waiting to be probed
        self._done: tuple[int, dict | None, BaseException | None, float] | None = None
        self._closing = False
        self._thread = threading.Thread(target=self._loop, name="gradscope-probe", daemon=True)
        self._thread.start()

    @property
    def busy(self) -> bool:
        with self._lock:
            return self._job is not None or self._done is not None

    def submit(self, step: int) -> None:
        with self._lock:
            if self._job is not None or self._done is not None:
                raise RuntimeError("a probe is already in flight")
            self._job = step
            self._lock.notify_all()

    def result(self, wait: bool) -> tuple[int, dict, float] | None:
        """(step, results, seconds) of the finished probe, or None; re-raises its exception."""
        with self._lock:
            while wait and self._done is None and self._job is not None:
                self._lock.wait()
            if self._done is None:
                return None
            step, results, error, seconds = self._done
            self._done = None
        if error is not None:
            raise error
        return step, results, seconds

    def close(self) -> None:
        with self._lock:
            self._closing = True
            self._lock.notify_all()
        self._thread.join(timeout=30)

    def _loop(self) -> None:
        torch.set_num_threads(self._threads)   # per thread, like the denormal flag
        torch.set_flush_denormal(True)
        while True:
            with self._lock:
                while self._job is None and not self._closing:
                    self._lock.wait()
                if self._closing:
                    return
                step = self._job
            began = time.perf_counter()
            try:
                results, error = self._probe(step), None
            except BaseException as exc:  # handed to the training thread, which reports it
                results, error = None, exc
            with self._lock:
                self._job = None
                self._done = (step, results, error, time.perf_counter() - began)
                self._lock.notify_all()
