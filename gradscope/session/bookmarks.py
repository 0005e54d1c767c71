"""Bookmarks: a step of a run with a note, added to a session file after (or while) recording.

    bookmark = add_bookmark("lesson.gscope", run_id=0, step=120, note="the forget gate opens")
    edit_bookmark("lesson.gscope", bookmark.id, "the forget gate saturates")
    remove_bookmark("lesson.gscope", bookmark.id)
    open_session("lesson.gscope").run(0).bookmarks   # -> [Bookmark(...), ...]

Each call is one short transaction of its own connection, so it works while another process
(or this one's worker thread) records into the same file: in WAL mode it waits, at most
`timeout` seconds, for the recorder's next commit, and the recorder waits the milliseconds the
bookmark takes. The file is vetted by the hardened reader before anything is written, and again
inside the write transaction. A schema 1 file is upgraded to schema 2 in place, in the same
transaction that adds its first bookmark.

Errors: a problem with the file is a `SessionError` naming it (a run, step or bookmark the file
does not hold is a `MissingEntryError`); a bad argument is a TypeError or ValueError, as with
`SessionWriter`.
"""
from __future__ import annotations

import contextlib
import operator
import os
import sqlite3
import time
from pathlib import Path
from typing import Any, Iterator

from gradscope.session import migrate, schema
from gradscope.session.bookmark_rows import SELECT_COLUMNS, Bookmark, bookmark_from_row
from gradscope.session.errors import MissingEntryError, SessionError
from gradscope.session.reader import open_session, refuse_to_write_past

DEFAULT_TIMEOUT = 10.0


def add_bookmark(path: str | os.PathLike, run_id: int, step: int, note: str = "", *,
                 timeout: float = DEFAULT_TIMEOUT) -> Bookmark:
    """Bookmark `step` of run `run_id`, which must be a step the run recorded."""
    path = Path(path)
    run_id, step, note = _integer(run_id, "run_id"), _integer(step, "step"), _note(note)
    _vet(path, timeout)
    with _write(path, timeout) as conn:
        # checked under the write lock: a step the recorder had not committed when we started
        # (the GUI shows steps before they are committed) is on file once we hold the lock
        if conn.execute("SELECT id FROM run WHERE id = ?", (run_id,)).fetchone() is None:
            raise MissingEntryError(path, f"has no run {run_id}")
        if conn.execute("SELECT step FROM step WHERE run_id = ? AND step = ?", (run_id, step)).fetchone() is None:
            raise MissingEntryError(path, f"run {run_id} has no recorded step {step} to bookmark")
        migrate.upgrade(conn, path)
        count = conn.execute("SELECT count(*) FROM bookmark WHERE run_id = ?", (run_id,)).fetchone()[0]
        if count >= schema.MAX_BOOKMARKS:
            raise SessionError(path, f"run {run_id} already has {count} bookmarks, "
                                     f"the most a session holds per run is {schema.MAX_BOOKMARKS}")
        created = time.time()
        cursor = conn.execute("INSERT INTO bookmark (run_id, step, note, created) VALUES (?, ?, ?, ?)",
                              (run_id, step, note, created))
        bookmark_id = cursor.lastrowid
    return Bookmark(bookmark_id, run_id, step, note, created)


def edit_bookmark(path: str | os.PathLike, bookmark_id: int, note: str, *,
                  timeout: float = DEFAULT_TIMEOUT) -> Bookmark:
    """Replace the note of a bookmark; returns the bookmark as it is now."""
    path = Path(path)
    bookmark_id, note = _integer(bookmark_id, "bookmark_id"), _note(note)
    _vet(path, timeout)
    with _write(path, timeout) as conn:
        old = _find(conn, path, bookmark_id)
        conn.execute("UPDATE bookmark SET note = ? WHERE id = ?", (note, bookmark_id))
    return Bookmark(old.id, old.run_id, old.step, note, old.created)


def remove_bookmark(path: str | os.PathLike, bookmark_id: int, *,
                    timeout: float = DEFAULT_TIMEOUT) -> Bookmark:
    """Delete a bookmark; returns what it was."""
    path = Path(path)
    bookmark_id = _integer(bookmark_id, "bookmark_id")
    _vet(path, timeout)
    with _write(path, timeout) as conn:
        old = _find(conn, path, bookmark_id)
        conn.execute("DELETE FROM bookmark WHERE id = ?", (bookmark_id,))
    return old


# -- internals ---------------------------------------------------------------------------------

def _vet(path: Path, timeout: float) -> None:
    """The hardened reader's checks (header, marks, schema row for row) before we open it to write."""
    with open_session(path, timeout=timeout) as session:
        refuse_to_write_past(session)


@contextlib.contextmanager
def _write(path: Path, timeout: float) -> Iterator[sqlite3.Connection]:
    """One write transaction on a connection of its own: committed if the block succeeds."""
    conn = migrate.connect(path, timeout=timeout)
    try:
        migrate.begin_write(conn, path, timeout)
        migrate.check_schema(conn, path)
        yield conn
        conn.execute("COMMIT")
    except sqlite3.Error as exc:
        raise SessionError(path, f"cannot write ({type(exc).__name__}: {exc})") from None
    finally:
        try:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
        finally:
            conn.close()


def _find(conn: sqlite3.Connection, path: Path, bookmark_id: int) -> Bookmark:
    if conn.execute("PRAGMA user_version").fetchone()[0] < 2:
        raise MissingEntryError(path, f"has no bookmark {bookmark_id} (a schema 1 file has none)")
    rows = conn.execute(f"SELECT {SELECT_COLUMNS} FROM bookmark WHERE id = ?",
                        (schema.MAX_NOTE_CHARS, bookmark_id)).fetchall()
    if not rows:
        raise MissingEntryError(path, f"has no bookmark {bookmark_id}")
    return bookmark_from_row(rows[0], lambda problem: SessionError(path, problem))


def _integer(value: Any, what: str) -> int:
    if isinstance(value, bool):
        raise TypeError(f"{what} must be an integer, not bool")
    try:
        value = operator.index(value)  # ints and numpy integers, such as an element of run.steps
    except TypeError:
        raise TypeError(f"{what} must be an integer, not {type(value).__name__}") from None
    if not -2**63 <= value < 2**63:
        raise ValueError(f"{what} {value} is out of range")
    return value


def _note(note: Any) -> str:
    if not isinstance(note, str):
        raise TypeError(f"a bookmark note must be text, not {type(note).__name__}")
    if len(note) > schema.MAX_NOTE_CHARS:
        raise ValueError(f"a bookmark note holds at most {schema.MAX_NOTE_CHARS} characters, "
                         f"not {len(note)}")
    try:
        note.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("a bookmark note must be valid text (it holds a lone surrogate)") from None
    return str(note)
