"""What a writer does when a write fails (a full disk, a file size limit, a vanished folder).

SQLite rolls back the transaction under way, so the steps added since the last commit are
gone; had the writer gone on, later steps would be committed after a hole. So a failed write
ends the writer's writing for good (`SessionWriter.failure`), and before it goes quiet it
tells the file where its runs stop: for every run on disk, a `write_failed` event at the step
after its last committed one, and the state `failed`, in one small transaction. That one
fits in room the writer keeps allocated past the end of the log (`WalRoom`), so it succeeds
on a full disk; when even that fails, the file is still exactly as of its last commit.

`Committed` keeps the books: which runs and steps each commit made durable.
"""
from __future__ import annotations

import contextlib
import errno
import json
import os
import sqlite3
import time
from pathlib import Path

from gradscope.records import EventKind, RunState


class Committed:
    """The runs and last steps on disk, and those waiting for the next commit."""

    def __init__(self) -> None:
        self.last: dict[int, int | None] = {}      # run -> its last committed step (None: none yet)
        self._pending_runs: set[int] = set()
        self._pending_steps: dict[int, int] = {}

    @property
    def saved_a_step(self) -> bool:
        return any(step is not None for step in self.last.values())

    def started(self, run_id: int) -> None:
        self._pending_runs.add(run_id)

    def stepped(self, run_id: int, step: int) -> None:
        self._pending_steps[run_id] = max(step, self._pending_steps.get(run_id, step))

    def commit(self) -> None:
        for run_id in self._pending_runs:
            self.last.setdefault(run_id, None)
        for run_id, step in self._pending_steps.items():
            if run_id in self.last:
                previous = self.last[run_id]
                self.last[run_id] = step if previous is None else max(previous, step)
        self.rolled_back()

    def rolled_back(self) -> None:
        self._pending_runs.clear()
        self._pending_steps.clear()


def note_failure(conn: sqlite3.Connection, books: Committed, runs: set[int], why: str) -> None:
    """Roll back what is under way, then mark each of `runs` on disk as failed where it stops."""
    note_stop(conn, books, runs, EventKind.WRITE_FAILED, RunState.FAILED, {"error": why})


def note_stop(conn: sqlite3.Connection, books: Committed, runs: set[int], kind: EventKind, state: RunState,
              detail: dict) -> None:
    """Roll back what is under way; then, in one transaction, give each of `runs` on disk the
    event `kind` at the step after its last committed one (detail: `detail` plus what was
    saved) and the state `state`. A failure here leaves the file as of its last commit."""
    with contextlib.suppress(sqlite3.Error):
        if conn.in_transaction:
            conn.execute("ROLLBACK")
    books.rolled_back()
    on_disk = [(run_id, last) for run_id, last in books.last.items() if run_id in runs]
    if not on_disk:
        return
    try:
        conn.execute("BEGIN IMMEDIATE")
        for run_id, last in on_disk:
            stop = 0 if last is None else last + 1
            saved = {"last_saved_step": last, "saved": "nothing" if last is None else f"steps up to {last}"}
            conn.execute("INSERT INTO event (run_id, step, kind, detail, wall_time) VALUES (?, ?, ?, ?, ?)",
                         (run_id, stop, kind.value, json.dumps({**detail, **saved}), time.time()))
            conn.execute("UPDATE run SET state = ? WHERE id = ?", (state.value, run_id))
        conn.execute("COMMIT")
    except sqlite3.Error:
        with contextlib.suppress(sqlite3.Error):
            conn.execute("ROLLBACK")


def reason(exc: sqlite3.Error) -> str:
    """SQLite's words for a failed write, and what they mean for the user."""
    text = str(exc)
    if "readonly" in text or "unable to open" in text:
        return f"{text}: the folder or the file cannot be written"
    if "full" in text:
        return f"{text}: the disk is full"
    return text


# The failure note must fit on a disk that is already full. SQLite writes the note's frames
# where the log's committed frames end, so a writer keeps room allocated past that end:
# between SLACK and 2 * SLACK bytes, zeros that SQLite's reader takes for the end of the log
# (their salts are not the log's). When the disk cannot give that room any more, the writer
# stops at once, while the note still fits.
SLACK = 128 * 1024
_FULL = {errno.ENOSPC: "the disk is full", errno.EFBIG: "the file size limit is reached",
         getattr(errno, "EDQUOT", errno.ENOSPC): "the disk quota is used up"}


class WalRoom:
    """Keeps room allocated past the end of a -wal's frames (sqlite.org/fileformat2.html)."""

    def __init__(self, path: Path, page_size: int):
        self.wal = Path(f"{path}-wal")
        self.frame = 24 + int(page_size)
        self._salts: bytes | None = None
        self._end = 32                # where the frames end (the 32-byte header first)

    def keep(self) -> str | None:
        """Make sure of the room; why the disk refused it (a full disk), or None."""
        try:
            descriptor = os.open(self.wal, os.O_RDWR)
        except OSError:
            return None               # no log yet, or none to keep room in: nothing to do
        try:
            salts = os.pread(descriptor, 32, 0)[16:24]
            if salts != self._salts:  # a new round of the log starts at its beginning again
                self._salts, self._end = salts, 32
            while True:
                header = os.pread(descriptor, 24, self._end)
                if len(header) < 24 or header[8:16] != salts:
                    break
                self._end += self.frame
            size = os.fstat(descriptor).st_size
            if size - self._end < SLACK:
                os.posix_fallocate(descriptor, size, self._end + 2 * SLACK - size)
        except OSError as exc:
            if exc.errno in _FULL:
                return f"{exc.strerror or exc}: {_FULL[exc.errno]}"
            return None               # a filesystem that cannot preallocate: go on as SQLite would
        finally:
            os.close(descriptor)
        return None
