"""Giving a session file back after a crash or a stranger's side files: `gradscope recover FILE`.

What a reader only sets aside in memory (side_files.py) is dealt with on disk here, and nothing
is deleted: a junk `-journal` and a foreign or damaged `-wal` are renamed beside the file
(`FILE-journal.set-aside`, `FILE-wal.set-aside`, numbered when that name is taken), so they can
still be looked at. Then SQLite opens the file to write, which rolls back a real journal left
by a crash and applies the good commits of the `-wal`; the log is folded into the file and
the file returned to rollback-journal mode, so the `.gscope` file alone is the whole session
again. Last, the hardened reader must read the result.

A file that a writer is recording into is left alone: SQLite will not leave WAL mode while
another connection has the file open, and recover says so.
"""
from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from gradscope.session import side_files
from gradscope.session.errors import SessionError
from gradscope.session.hardened import HardenedConnection, header_bytes


@dataclass(frozen=True)
class Recovery:
    path: Path
    actions: tuple[str, ...]     # what was done, one line each, for the user
    runs: int                    # the runs the recovered file holds
    steps: int                   # their recorded steps, all together


def recover(path: str | os.PathLike, *, timeout: float = 10.0) -> Recovery:
    """Recover the session file at `path` in place; a SessionError when it cannot be."""
    path = Path(path)
    header = header_bytes(path)
    sides = side_files.inspect(path, header)
    actions: list[str] = []
    # what is not this file's goes first, before SQLite opens it to write and would act on it
    if sides.junk_journal:
        actions.append(f"set aside {path.name}-journal (not an SQLite journal) as {_set_aside(path, '-journal')}")
    foreign = sides.foreign_wal or (sides.refusal is None and _wal_is_foreign(path, timeout))
    if foreign:
        actions.append(f"set aside {path.name}-wal (not this file's log) as {_set_aside(path, '-wal')}")
        side_files.side_path(path, "-shm").unlink(missing_ok=True)   # an index of that log: nothing of its own
    elif any("-wal" in notice for notice in sides.notices):
        # a damaged log: its good commits are folded in below; the whole of it is kept
        copy = _set_aside(path, "-wal", copy=True)
        actions.append(f"kept a copy of the damaged {path.name}-wal as {copy}; its good commits are folded in")
    if sides.refusal is not None:
        actions.append(f"rolled back the unfinished write in {path.name}-journal")
    wal_before = 0 if foreign else sides.wal_frames
    _fold(path, timeout)
    if wal_before:
        actions.append(f"folded {wal_before} frame(s) of {path.name}-wal into the file")
    from gradscope.session.reader import open_session

    with open_session(path, timeout=timeout) as session:
        if session.notices:
            raise SessionError(path, f"after recovery: {session.notices[0]}")
        steps = sum(len(run.steps) for run in session.runs)
        runs = len(session.runs)
    return Recovery(path=path, actions=tuple(actions) or ("nothing beside it needed recovering",),
                    runs=runs, steps=steps)


def _wal_is_foreign(path: Path, timeout: float) -> bool:
    try:
        reader = HardenedConnection(path, timeout=timeout)
    except SessionError:
        return False
    try:
        return any("another session" in notice for notice in reader.notices)
    finally:
        reader.close()


def _fold(path: Path, timeout: float) -> None:
    conn = _open_to_write(path, timeout=timeout, roll_back=True)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        mode = conn.execute("PRAGMA journal_mode = DELETE").fetchone()[0]
        if str(mode).lower() != "delete":
            raise sqlite3.OperationalError("database is locked")
    except sqlite3.Error as exc:
        raise SessionError(path, _why(exc)) from None
    finally:
        conn.close()


def _open_to_write(path: Path, *, timeout: float, roll_back: bool) -> sqlite3.Connection:
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=rw", uri=True, isolation_level=None,
                               timeout=timeout)
        conn.execute("PRAGMA trusted_schema = OFF")
        if roll_back:
            # the first read of a file rolls back a hot journal and reads the log's good commits
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.Error as exc:
        raise SessionError(path, _why(exc)) from None
    return conn


def _why(exc: sqlite3.Error) -> str:
    text = str(exc)
    if "locked" in text or "busy" in text:
        return "is being written (a recording is running, or another program has it open); recover it once it stops"
    if "readonly" in text or "unable to open" in text:
        return ("cannot be written (a read-only file, folder or disk); copy it and the files beside it to a "
                "writable folder and recover the copy")
    return f"cannot be recovered ({text})"


def _free_name(path: Path, suffix: str) -> Path:
    target = side_files.side_path(path, f"{suffix}.set-aside")
    number = 1
    while target.exists():
        number += 1
        target = side_files.side_path(path, f"{suffix}.set-aside-{number}")
    return target


def _set_aside(path: Path, suffix: str, *, copy: bool = False) -> str:
    """Move FILE<suffix> to a free `.set-aside` name beside it (or, with `copy`, copy it
    there and leave it in place); the new name."""
    import shutil

    target = _free_name(path, suffix)
    try:
        (shutil.copyfile if copy else os.rename)(side_files.side_path(path, suffix), target)
    except OSError as exc:
        raise SessionError(path, f"cannot set aside its {suffix} ({exc.strerror or exc})") from None
    return target.name
