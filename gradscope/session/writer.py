"""Recording a session: append-only, committed at least once a second, safe against a kill.

While recording the file is in WAL mode with synchronous=NORMAL: every committed transaction
survives the process being killed (not a power cut), and a reader can open the file while it
grows. A clean `close()` checkpoints and returns to rollback-journal mode, so the `.gscope` file
alone is the whole session, ready to share.

Threading: a writer is used by one thread at a time, under its lock. `record` creates it in
the main thread, trains (and writes) in a worker, and closes it in the main thread again; on a
Ctrl-C in the middle of a long step, the main thread marks the runs interrupted (`interrupt`)
while the worker is still computing. Only frozen records cross threads.

Other processes may write bookmarks into the file while it records (see bookmarks.py); they
wait for the writer's next commit, and the writer waits the few milliseconds they take.
Appending to a file of an older schema upgrades it in place first.
"""
from __future__ import annotations

import contextlib
import enum
import functools
import json
import math
import os
import sqlite3
import threading
import time
import uuid
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np

import gradscope
from gradscope.config import RunConfig
from gradscope.records import Checkpoint, Event, EventKind, RunState, StepRecord
from gradscope.session import arrays, migrate, schema, target, write_failure
from gradscope.session.errors import SessionError

# how long a statement waits for another writer (a bookmark being added) to let go of the lock
_BUSY_SECONDS = 5.0


def _sqlite_errors(method: Callable) -> Callable:
    """A full disk or a vanished directory reaches the worker as a SessionError naming the file,
    and ends the writer's writing (write_failure.py): nothing is written after a hole."""
    @functools.wraps(method)
    def wrapper(self: SessionWriter, *args: Any, **kwargs: Any) -> Any:
        with self._lock:
            if self.failure is not None:
                raise self.failure
            try:
                return method(self, *args, **kwargs)
            except sqlite3.Error as exc:
                raise self._failed(write_failure.reason(exc)) from None
    return wrapper


class SessionWriter:
    """Writes runs into one `.gscope` file. Use as a context manager, or call `close()`."""

    def __init__(self, path: str | os.PathLike, *, append: bool = False,
                 commit_interval: float = 1.0):
        self.path = Path(path)
        self.commit_interval = float(commit_interval)
        self._conn: sqlite3.Connection | None = None
        # (run_id, name) -> (series_id, kind, dtype name, per-step shape)
        self._series: dict[tuple[int, str], tuple[int, str, str, tuple[int, ...]]] = {}
        self._runs: set[int] = set()
        self._reserved = 0            # ids below this are taken or held for a run to come
        self._books = write_failure.Committed()
        self._lock = threading.RLock()
        self.failure: SessionError | None = None   # the write that failed; nothing is written after it
        self.failure_reason = ""
        appending = target.prepare(self.path, append)
        self.created = not appending   # this writer made the file (so may take it away again)
        try:
            self._conn = sqlite3.connect(self.path, isolation_level=None, timeout=_BUSY_SECONDS,
                                         check_same_thread=False)   # one thread at a time: self._lock
            self._conn.execute("PRAGMA trusted_schema = OFF")
            if appending:
                # an older file is brought to the current schema first, in one transaction
                migrate.upgrade_file(self._conn, self.path, timeout=_BUSY_SECONDS)
            else:
                self._create()
            self._session = self._stamp()
            self._room = write_failure.WalRoom(self.path, self._conn.execute("PRAGMA page_size").fetchone()[0])
            self._conn.execute("PRAGMA journal_mode = WAL")
            self._conn.execute("PRAGMA synchronous = NORMAL")
        except sqlite3.Error as exc:
            self._abandon(remove=not appending)
            doing = "cannot write to it" if appending else "cannot create the session file"
            raise SessionError(self.path, f"{doing} ({write_failure.reason(exc)})") from None
        except BaseException:
            self._abandon(remove=not appending)
            raise
        self._last_commit = time.monotonic()

    def _create(self) -> None:
        # page_size must be set before the first table exists; 16 KiB pages keep [T]-sized
        # blobs inline in their b-tree cells, which makes series scans sequential
        self._conn.execute("PRAGMA page_size = 16384")
        self._conn.execute("BEGIN")
        schema.create(self._conn)
        self._conn.execute("INSERT INTO meta (key, value) VALUES ('writer', ?)",
                           (f"gradscope {gradscope.__version__}",))
        self._conn.execute("COMMIT")

    def _stamp(self) -> str:
        """The session's id, made once when the file is first written (a file from before ids
        gets one now). Each commit writes it again, so the meta page is in every stretch of
        the -wal: a reader compares the id the file alone holds with the one its -wal gives
        and so tells a log from another session (SQLite would apply it without a word)."""
        row = self._conn.execute("SELECT value FROM meta WHERE key = 'session'").fetchone()
        if row is not None and isinstance(row[0], str):
            return row[0]
        session = uuid.uuid4().hex
        self._conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('session', ?)", (session,))
        return session

    # -- runs ----------------------------------------------------------------------------------

    @_sqlite_errors
    def reserve_run_id(self) -> int:
        """The id the next run will have, held for it: a run is written only once it has data
        (`SessionRecorder` waits for the first step), yet the window names it from the start."""
        if self._conn is None:
            raise SessionError(self.path, "the session writer is closed")
        # a plain read, outside any transaction: a run that never trains must hold no lock
        stored = self._conn.execute("SELECT coalesce(max(id) + 1, 0) FROM run").fetchone()[0]
        self._reserved = max(stored, self._reserved)
        self._reserved += 1
        return self._reserved - 1

    @_sqlite_errors
    def start_run(self, config: RunConfig, probe_batch: Mapping[str, Any] | None = None,
                  parent: tuple[int, int] | None = None, run_id: int | None = None) -> int:
        """Add a run; `parent` is (run_id, step) of the run it was forked from; `run_id` one
        `reserve_run_id` gave (default: the next free id). Returns its id."""
        if not isinstance(config, RunConfig):
            raise TypeError(f"config must be a RunConfig, not {type(config).__name__}")
        if parent is not None:
            parent_run, parent_step = (int(parent[0]), int(parent[1]))
        else:
            parent_run = parent_step = None
        tensors = [(str(name), *arrays.encode(value, f"probe batch {name!r}"))
                   for name, value in (probe_batch or {}).items()]
        conn = self._begin()
        if run_id is None:
            run_id = conn.execute("SELECT coalesce(max(id) + 1, 0) FROM run").fetchone()[0]
            self._reserved = max(self._reserved, run_id + 1)
        conn.execute("INSERT INTO run (id, config, parent_run, parent_step, state, created) "
                     "VALUES (?, ?, ?, ?, ?, ?)",
                     (run_id, config.to_json(), parent_run, parent_step,
                      RunState.RUNNING.value, time.time()))
        self._insert_tensors(run_id, schema.ROLE_PROBE, 0, tensors)
        self._runs.add(run_id)
        self._books.started(run_id)
        self.commit()
        return run_id

    @_sqlite_errors
    def set_state(self, run_id: int, state: RunState | str) -> None:
        state = RunState(state)
        self._begin().execute("UPDATE run SET state = ? WHERE id = ?", (state.value, self._run(run_id)))
        self.commit()

    # -- records -------------------------------------------------------------------------------

    @_sqlite_errors
    def add_step(self, run_id: int, record: StepRecord) -> None:
        run_id, step = self._run(run_id), int(record.step)
        # encode and check everything before the first insert, so a bad record leaves no trace
        scalars = [(name, value) for name, value in record.scalars.items()]
        encoded = [(name, *arrays.encode(value, f"array {name!r} at step {step}"))
                   for name, value in record.arrays.items()]
        new_series = []
        for name, _ in scalars:
            new_series += self._check_series(run_id, name, schema.KIND_SCALAR, "float64", ())
        for name, dtype, shape, _ in encoded:
            new_series += self._check_series(run_id, name, schema.KIND_ARRAY, dtype, shape)
        conn = self._begin()
        try:
            conn.execute("INSERT INTO step (run_id, step, wall_time) VALUES (?, ?, ?)",
                         (run_id, step, float(record.wall_time)))
        except sqlite3.IntegrityError:
            raise ValueError(f"step {step} of run {run_id} is already recorded") from None
        for key, kind, dtype, shape in new_series:
            cursor = conn.execute("INSERT INTO series (run_id, name, kind, dtype, shape) "
                                  "VALUES (?, ?, ?, ?, ?)", (*key, kind, dtype, arrays.shape_text(shape)))
            self._series[key] = (cursor.lastrowid, kind, dtype, shape)
        series = self._series
        conn.executemany("INSERT INTO scalar_value (series_id, step, value) VALUES (?, ?, ?)",
                         [(series[run_id, name][0], step, None if math.isnan(value) else value)
                          for name, value in scalars])
        conn.executemany("INSERT INTO array_value (series_id, step, data) VALUES (?, ?, ?)",
                         [(series[run_id, name][0], step, data) for name, _, _, data in encoded])
        self._books.stepped(run_id, step)
        self._maybe_commit()

    @_sqlite_errors
    def add_event(self, run_id: int, event: Event) -> None:
        detail = json.dumps(dict(event.detail), default=_json_default)
        self._begin().execute(
            "INSERT INTO event (run_id, step, kind, detail, wall_time) VALUES (?, ?, ?, ?, ?)",
            (self._run(run_id), int(event.step), str(event.kind), detail, float(event.wall_time)))
        self._maybe_commit()

    @_sqlite_errors
    def add_checkpoint(self, run_id: int, checkpoint: Checkpoint) -> None:
        run_id, step = self._run(run_id), int(checkpoint.step)
        weights = [(str(n), *arrays.encode(v, f"weight {n!r}")) for n, v in checkpoint.weights.items()]
        optimizer = [(str(n), *arrays.encode(v, f"optimizer state {n!r}"))
                     for n, v in checkpoint.optimizer.items()]
        conn = self._begin()
        try:
            conn.execute("INSERT INTO checkpoint (run_id, step) VALUES (?, ?)", (run_id, step))
        except sqlite3.IntegrityError:
            raise ValueError(f"run {run_id} already has a checkpoint at step {step}") from None
        self._insert_tensors(run_id, schema.ROLE_WEIGHT, step, weights)
        self._insert_tensors(run_id, schema.ROLE_OPTIMIZER, step, optimizer)
        self._maybe_commit()

    # -- transactions --------------------------------------------------------------------------

    @property
    def saved_a_step(self) -> bool:
        """Whether some step this writer added is committed (on disk, whatever happens next)."""
        return self._books.saved_a_step

    @property
    def has_uncommitted(self) -> bool:
        """True while some added data is not yet committed (and so would not survive a kill)."""
        return self._conn is not None and self._conn.in_transaction

    @_sqlite_errors
    def commit(self) -> None:
        if self._conn is not None and self._conn.in_transaction:
            # every commit carries the session's id into the -wal (see _stamp)
            self._conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('session', ?)", (self._session,))
            self._conn.execute("COMMIT")
            self._books.commit()
            full = self._room.keep()
            if full is not None:
                # the disk has no room left past this commit: stop now, while the note fits
                raise self._failed(full)
        self._last_commit = time.monotonic()

    def _failed(self, why: str) -> SessionError:
        self.failure_reason = why
        self.failure = SessionError(self.path, f"cannot write ({why}); the file keeps every step committed "
                                    "before, and an event marks where each run stops")
        if self._conn is not None:
            write_failure.note_failure(self._conn, self._books, self._runs, why)
        return self.failure

    def interrupt(self, reason: str, wait: float = 2.0) -> dict[int, int | None] | None:
        """Commit what was added, mark every run interrupted (an event at the step after its
        last saved one, state stopped) and close, from any thread; later writes are refused.
        A file this writer created that holds no step yet is taken away instead (and {} is
        returned). The last saved step of each run, or None when the writer stayed busy for
        `wait` seconds (then the file is as of its last commit, which a kill keeps too)."""
        if not self._lock.acquire(timeout=wait):
            return None
        try:
            if self._conn is None:
                return dict(self._books.last)
            if self.failure is None:
                with contextlib.suppress(SessionError):
                    self.commit()
            if self.created and not self._books.saved_a_step:
                self._abandon(remove=True)
                return {}
            if self.failure is None:
                write_failure.note_stop(self._conn, self._books, self._runs, EventKind.INTERRUPTED,
                                        RunState.STOPPED, {"reason": reason})
                self.failure = SessionError(self.path, f"was interrupted ({reason})")
                with contextlib.suppress(sqlite3.Error):
                    self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                    self._conn.execute("PRAGMA journal_mode = DELETE")
            self._abandon()
            return dict(self._books.last)
        finally:
            self._lock.release()

    def close(self) -> None:
        """Commit, fold the WAL back into the file and close; safe to call more than once.
        After a failed write it only closes (what could be saved, was)."""
        with self._lock:
            self._close()

    def _close(self) -> None:
        if self._conn is None:
            return
        if self.failure is not None:
            self._abandon()
            return
        try:
            self.commit()
            try:
                self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                self._conn.execute("PRAGMA journal_mode = DELETE")
            except sqlite3.OperationalError:
                pass  # a reader still has the file open: it stays in WAL mode, nothing is lost
        except sqlite3.Error as exc:
            raise SessionError(self.path, f"could not finish writing ({exc})") from None
        finally:
            self._abandon()

    def __enter__(self) -> SessionWriter:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    # -- internals -----------------------------------------------------------------------------

    def _begin(self) -> sqlite3.Connection:
        if self._conn is None:
            raise SessionError(self.path, "the session writer is closed")
        if not self._conn.in_transaction:
            # IMMEDIATE: take the write lock now, while waiting for it is still possible. A
            # deferred transaction that read first (start_run) could not wait for a bookmark
            # committed meanwhile by another connection; it would fail at once with BUSY.
            self._conn.execute("BEGIN IMMEDIATE")
        return self._conn

    def _maybe_commit(self) -> None:
        if time.monotonic() - self._last_commit >= self.commit_interval:
            self.commit()

    def _abandon(self, remove: bool = False) -> None:
        """Close; with `remove`, take away the file this writer was creating (a full disk at
        creation must not leave an empty file that later runs refuse as existing)."""
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()
        if remove:
            for suffix in ("", *target.SIDE_FILES):
                with contextlib.suppress(OSError):
                    Path(str(self.path) + suffix).unlink(missing_ok=True)

    def discard(self) -> None:
        """Close and remove the file: a session that holds no run (its start failed)."""
        self._abandon(remove=True)

    def _run(self, run_id: int) -> int:
        if run_id not in self._runs:
            raise ValueError(f"run {run_id} was not started by this writer")
        return run_id

    def _check_series(self, run_id: int, name: str, kind: str, dtype: str,
                      shape: tuple[int, ...]) -> list:
        known = self._series.get((run_id, name))
        if known is None:
            return [((run_id, name), kind, dtype, shape)]
        if known[1] != kind or known[2] != dtype or known[3] != shape:
            raise ValueError(f"series {name!r} of run {run_id} holds {known[1]} {known[2]}{list(known[3])}; "
                             f"cannot add {kind} {dtype}{list(shape)}")
        return []

    def _insert_tensors(self, run_id: int, role: str, step: int, tensors: list) -> None:
        self._conn.executemany(
            "INSERT INTO tensor (run_id, role, step, name, dtype, shape, data) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(run_id, role, step, name, dtype, arrays.shape_text(shape), data)
             for name, dtype, shape, data in tensors])


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, enum.Enum):
        return value.value
    raise TypeError(f"event detail {value!r} is not JSON-serialisable")
