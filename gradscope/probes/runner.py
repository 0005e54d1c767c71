"""Probes off the training thread, so training never waits for them.

`ProbeThread` measures in a thread of this process: cheap to start, but its many small
tensor ops share the interpreter lock with the training thread. `ProbeProcess` measures in a
child process of its own (spawned once, a couple of seconds to import torch there), which
shares nothing with training but a core's worth of memory bandwidth. Both take the weights
of the step being probed at `submit` and hold at most one probe in flight.

The child is our own process and the pipe our own: what crosses it (weights, results) is
pickled by multiprocessing, which never touches a file a user can open.
"""
from __future__ import annotations

import collections
import multiprocessing
import os
import signal
import threading
import time
import traceback
from typing import Mapping

import numpy as np
import torch

from gradscope.models.denormals import flush_denormals


def default_probe_mode(preferred: str = "thread") -> str:
    """Where probes run: `preferred`, except a process needs a spare core.

    The library default is a thread: a probe process is spawned, and a plain script that
    trains at top level (no `if __name__ == "__main__"`) cannot spawn. The command line asks
    for a process, which shares no interpreter lock with training. GRADSCOPE_PROBE_MODE=
    thread|process overrides both (the test suite uses threads: a process costs seconds)."""
    chosen = os.environ.get("GRADSCOPE_PROBE_MODE")
    if chosen in ("thread", "process"):
        return chosen
    return preferred if preferred == "thread" or (os.cpu_count() or 1) >= 2 else "thread"


def start_probe_runner(mode: str, config, task, device, probe_inputs, probe_targets, threads: int = 1,
                       worker: ProbeWorker | None = None):
    """A probe process, or a probe thread (on `worker`'s thread when given: runs in lockstep
    share one)."""
    if mode == "process":
        return ProbeProcess(config, probe_inputs, probe_targets, device, threads)
    from gradscope.probes.station import ProbeStation

    return ProbeThread(ProbeStation(config, task, device, probe_inputs, probe_targets), threads=threads,
                       worker=worker)


class ProbeWorker:
    """One probe thread measuring for the probe stations of one or more trainers, in turn.

    The runs of a lockstep share one: their probes, due at the same step, then run one after
    the other beside the training, instead of three probe threads contending for the
    interpreter lock with each other and with the training thread (which made three runs in
    lockstep 1.4 times slower than one after the other). It ends with its last station.
    """

    def __init__(self, threads: int = 1):
        self.lock = threading.Condition()
        self.queue: collections.deque = collections.deque()
        self.threads = threads
        self.users = 0
        self.closing = False
        self.thread = threading.Thread(target=self._loop, name="gradscope-probe", daemon=True)
        self.thread.start()

    def attach(self) -> None:
        with self.lock:
            self.users += 1

    def detach(self, handle) -> None:
        with self.lock:
            if handle in self.queue:
                self.queue.remove(handle)
            self.users -= 1
            last = self.users <= 0
            if last:
                self.closing = True
                self.lock.notify_all()
        if last:
            # a probe in flight finishes on its own; the thread is a daemon and holds nothing to save
            self.thread.join(timeout=2)

    def _loop(self) -> None:
        torch.set_num_threads(self.threads)   # per thread, like the denormal flag
        flush_denormals()
        while True:
            with self.lock:
                while not self.queue and not self.closing:
                    self.lock.wait()
                if self.closing:
                    return
                handle = self.queue.popleft()
                step = handle.job
            began = time.perf_counter()
            try:
                results, error = handle.station.measure(step), None
            except BaseException as exc:  # handed to the training thread, which reports it
                results, error = None, exc
            with self.lock:
                handle.job = None
                handle.done = (step, results, error, time.perf_counter() - began)
                self.lock.notify_all()


class ProbeThread:
    """One trainer's probes, measured on a probe thread (its own, or a shared ProbeWorker's)."""

    def __init__(self, station, threads: int = 1, worker: ProbeWorker | None = None):
        self.station = station
        self._worker = worker if worker is not None else ProbeWorker(threads)
        self._worker.attach()
        self._lock = self._worker.lock
        self.job: int | None = None
        self.done: tuple | None = None
        self._closed = False

    @property
    def busy(self) -> bool:
        with self._lock:
            return self.job is not None or self.done is not None

    def submit(self, step: int, weights: Mapping[str, torch.Tensor], settings: Mapping | None = None) -> None:
        """Measure `step` with `weights` and the live `settings` in force at it."""
        with self._lock:
            if self.job is not None or self.done is not None:
                raise RuntimeError("a probe is already in flight")
            self.station.load(weights, settings)   # this station is idle: no race
            self.job = step
            self._worker.queue.append(self)
            self._lock.notify_all()

    def result(self, wait: bool) -> tuple[int, dict, float] | None:
        """(step, results, seconds) of the finished probe, or None; re-raises its exception."""
        with self._lock:
            while wait and self.done is None and self.job is not None:
                self._lock.wait()
            if self.done is None:
                return None
            step, results, error, seconds = self.done
            self.done = None
        if error is not None:
            raise error
        return step, results, seconds

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._worker.detach(self)


class ProbeFailed(RuntimeError):
    """A probe raised in the probe process; the message carries its traceback."""


class ProbeProcess:
    def __init__(self, config, probe_inputs: torch.Tensor, probe_targets: torch.Tensor, device, threads: int = 1):
        context = multiprocessing.get_context("spawn")
        self._connection, child = context.Pipe()
        self._process = context.Process(
            target=_serve, name="gradscope-probe", daemon=True,
            args=(child, config.to_json(), probe_inputs.cpu().numpy(), probe_targets.cpu().numpy(), str(device),
                  threads))
        self._process.start()
        child.close()
        self._in_flight: int | None = None
        self._ready = False

    def wait_ready(self, timeout: float = 120.0) -> None:
        """Block until the child has imported torch and built its model (a few seconds)."""
        if self._ready:
            return
        if not self._connection.poll(timeout):
            raise ProbeFailed(f"the probe process did not start within {timeout:.0f} s")
        self._receive()
        self._ready = True

    def _receive(self):
        try:
            return self._connection.recv()
        except (EOFError, OSError):
            self._in_flight = None
            raise ProbeFailed(f"the probe process ended unexpectedly (exit code {self._process.exitcode})") from None

    @property
    def busy(self) -> bool:
        return self._in_flight is not None

    def submit(self, step: int, weights: Mapping[str, torch.Tensor], settings: Mapping | None = None) -> None:
        if self._in_flight is not None:
            raise RuntimeError("a probe is already in flight")
        snapshot = {name: value.detach().cpu().numpy() for name, value in weights.items()}
        self._connection.send(("probe", step, (snapshot, dict(settings or {}))))
        self._in_flight = step

    def result(self, wait: bool) -> tuple[int, dict, float] | None:
        if self._in_flight is None or (not wait and not self._connection.poll()):
            return None
        if not self._ready:
            self.wait_ready()
            if not wait and not self._connection.poll():
                return None
        kind, step, payload, seconds = self._receive()
        self._in_flight = None
        if kind == "error":
            raise ProbeFailed(f"a probe failed at step {step}:\n{payload}")
        return step, payload, seconds

    def close(self) -> None:
        """End the probe process; a probe in flight is abandoned, not waited for."""
        if self._in_flight is not None or not self._ready:
            # a result larger than the pipe's buffer blocks the child in send(): drain it, or
            # stop the child outright if it is still measuring (or still starting)
            if self._connection.poll(0.2):
                try:
                    self._connection.recv()
                except (EOFError, OSError):
                    pass
            else:
                self._process.terminate()
            self._in_flight = None
        try:
            self._connection.send(("close", None, None))
        except (OSError, BrokenPipeError):
            pass
        self._process.join(timeout=5)
        if self._process.is_alive():
            self._process.terminate()
            self._process.join(timeout=5)
        self._connection.close()


def _serve(connection, config_json: str, inputs: np.ndarray, targets: np.ndarray, device: str, threads: int) -> None:
    """The probe process: build the station once, then measure whatever arrives."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)   # Ctrl-C is for the trainer, which stops us
    torch.set_num_threads(threads)
    flush_denormals()
    from gradscope import tasks
    from gradscope.config import RunConfig
    from gradscope.probes.station import ProbeStation

    config = RunConfig.from_json(config_json)
    station = ProbeStation(config, tasks.build(config), torch.device(device),
                           torch.from_numpy(inputs), torch.from_numpy(targets))
    connection.send(("ready", None, None, 0.0))
    while True:
        try:
            kind, step, payload = connection.recv()
        except (EOFError, OSError):
            return                                   # the trainer is gone
        if kind == "close":
            return
        began = time.perf_counter()
        try:
            station.load(*payload)
            message = ("result", step, station.measure(step), time.perf_counter() - began)
        except Exception:
            message = ("error", step, traceback.format_exc(limit=20), time.perf_counter() - began)
        connection.send(message)
