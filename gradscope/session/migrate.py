"""Writing into an existing session file: a guarded read-write connection, short transactions
that wait their turn behind a live recording, and the in-place upgrade of older schemas.

Callers vet the file with the hardened reader first. The checks here repeat the cheap part of
that vetting inside the write transaction, so that what was vetted is what gets written: by
the time we hold the write lock, the file's marks and its `sqlite_master` must equal our DDL
row for row, so no trigger or view of a stranger's can run on our statements.
"""
from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path

from gradscope.session import schema
from gradscope.session.errors import SessionError
from gradscope.session.hardened import check_marks

# A recording holds the write lock for up to its commit interval (a second) and frees it only
# between two training steps, perhaps for a millisecond. SQLite's own busy handler backs off to
# 100 ms sleeps and can miss such windows for a long time, so the write lock is polled here.
_POLL_SECONDS = 0.002


def connect(path: str | os.PathLike, *, timeout: float) -> sqlite3.Connection:
    """A read-write connection to an existing file (never creates one), hardened for writing.

    The journal mode is left as the file has it: WAL while a recording runs (so we join it),
    rollback journal once the recording closed (so the file stays self-contained).
    """
    path = Path(path)
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=rw", uri=True, isolation_level=None,
                               timeout=max(float(timeout), 0.0), check_same_thread=True)
    except sqlite3.Error as exc:
        raise SessionError(path, f"cannot open for writing ({exc})") from None
    try:
        config = getattr(sqlite3, "SQLITE_DBCONFIG_DEFENSIVE", None)
        if config is not None and hasattr(conn, "setconfig"):  # Python 3.12+
            conn.setconfig(config, True)
        conn.execute("PRAGMA trusted_schema = OFF")
    except sqlite3.Error as exc:
        conn.close()
        raise SessionError(path, f"cannot open for writing ({exc})") from None
    return conn


def begin_write(conn: sqlite3.Connection, path: Path, timeout: float) -> None:
    """BEGIN IMMEDIATE, waiting up to `timeout` s for a live recording to let go of the lock."""
    deadline = time.monotonic() + max(float(timeout), 0.0)
    conn.execute("PRAGMA busy_timeout = 0")
    try:
        while True:
            try:
                conn.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) and "busy" not in str(exc):
                    raise SessionError(path, f"cannot write ({exc})") from None
                if time.monotonic() >= deadline:
                    raise SessionError(path, f"is busy: another process held its write lock for more "
                                             f"than {timeout:g} s; try again") from None
                time.sleep(_POLL_SECONDS)
    finally:
        # later statements (a COMMIT waiting for readers in rollback-journal mode) wait normally
        conn.execute(f"PRAGMA busy_timeout = {int(max(float(timeout), 0.5) * 1000)}")


def check_schema(conn: sqlite3.Connection, path: Path) -> int:
    """The file's schema version, after checking its marks and schema inside our transaction."""
    application_id = conn.execute("PRAGMA application_id").fetchone()[0]
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    check_marks(path, application_id, version)
    if version not in schema.DDL:
        raise SessionError(path, f"schema {version} has no writer in this gradscope")
    found = conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_master").fetchall()
    if set(found) != schema.expected_master(version) or len(found) != len(schema.expected_master(version)):
        raise SessionError(path, "does not have the schema of a gradscope session (it changed while "
                                 "being opened?); refusing to write to it")
    return version


def upgrade(conn: sqlite3.Connection, path: Path) -> int:
    """Bring the file to SCHEMA_VERSION inside the caller's write transaction; returns the
    version it had. Data is never rewritten: each step only adds tables and indexes."""
    found = version = check_schema(conn, path)
    while version < schema.SCHEMA_VERSION:
        for statement in schema.UPGRADES[version]:
            conn.execute(statement)
        version += 1
        conn.execute(f"PRAGMA user_version = {version}")
    return found


def upgrade_file(conn: sqlite3.Connection, path: Path, timeout: float) -> int:
    """Upgrade in one transaction of its own (all or nothing); returns the version it had."""
    begin_write(conn, path, timeout)
    try:
        found = upgrade(conn, path)
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return found
