"""The path a writer is asked to write: what sits there (nothing, a session, or something
else), and making it ready for a new file or an append.

Looked at without blocking: a pipe opened to read would wait for a writer, so the file is
opened non-blocking and checked with fstat after the open (not before, where it could change).
"""
from __future__ import annotations

import os
from pathlib import Path

from gradscope.inputs import NotReadable, read_head
from gradscope.session import schema
from gradscope.session.errors import SessionError

SIDE_FILES = ("-wal", "-shm", "-journal")


def check_writable(path: Path) -> None:
    """Refuse, before any work is done, to add to a session file that cannot be written (a
    read-only file, folder or disk: SQLite also needs the folder for its side files)."""
    path = Path(path)
    if not (os.access(path, os.W_OK) and os.access(path.parent, os.W_OK | os.X_OK)):
        raise SessionError(path, "cannot be written (a read-only file, folder or disk); copy it somewhere "
                           "writable to add to it")


def prepare(path: Path, append: bool) -> bool:
    """Make `path` ready for a writer; whether it appends to the session there (False: a new
    file is to be created, and whatever was there, with its side files, is gone)."""
    existing = existing_kind(path)
    if existing == "foreign":
        raise SessionError(path, "exists and is not a gradscope session; refusing to overwrite it")
    if append and existing == "session":
        from gradscope.session.reader import open_session, refuse_to_write_past
        # the hardened reader vets the file first: triggers in a stranger's file would fire
        # on our inserts once it is open read-write, and SQLite would act on a junk journal
        # or a foreign -wal beside it
        with open_session(path) as session:
            refuse_to_write_past(session)
        return True
    try:
        for suffix in ("", *SIDE_FILES):
            Path(str(path) + suffix).unlink(missing_ok=True)
    except OSError as exc:
        raise SessionError(path, f"cannot replace it ({exc.strerror or exc})") from None
    return False


_PROBLEMS = {"folder": "is a folder; name the session file to write in it",
             "special": "is not a regular file (a pipe, a device or a socket)"}


def existing_kind(path: Path) -> str:
    """'none', 'session' or 'foreign' for whatever sits at `path` now; a folder, a pipe or a
    device is refused at once (opening a pipe to look at it would wait for a writer)."""
    try:
        header = read_head(path, 100)
    except NotReadable as exc:
        if exc.kind == "missing":
            return "none"
        raise SessionError(path, _PROBLEMS.get(exc.kind) or exc.failure) from None
    if not header:
        return "none"  # an empty placeholder, e.g. from tempfile: nothing to lose
    if (len(header) == 100 and header.startswith(schema.SQLITE_MAGIC)
            and int.from_bytes(header[68:72], "big") == schema.APPLICATION_ID):
        return "session"
    return "foreign"
