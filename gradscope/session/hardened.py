"""A read-only SQLite connection to a file from a stranger.

Every session file is treated as hostile. Before SQLite parses anything we check the 100-byte
header ourselves; then the connection is opened read-only with `trusted_schema=OFF`,
`query_only`, defensive mode where Python offers it, an authorizer that allows nothing but
SELECTs of the known columns, a deadline on every query, and a length cap on every value. The
schema in `sqlite_master` must match ours row for row before any data is read, so no view,
trigger, generated column or extra index of the file's own can run.
"""
from __future__ import annotations

import math
import os
import shutil
import sqlite3
import tempfile
import time
from pathlib import Path
from typing import Any, Iterator

from gradscope.inputs import NotReadable, read_head
from gradscope.session import schema, side_files
from gradscope.session.errors import SessionError

_ALLOWED_FUNCTIONS = frozenset({"count", "length", "max", "total"})
_ALLOWED_PRAGMAS = frozenset({"application_id", "user_version"})
_PROGRESS_OPCODES = 10_000


def read_header(path: Path) -> int:
    """The schema version the file claims, after checking it is a gradscope SQLite file at all."""
    return int.from_bytes(header_bytes(path)[60:64], "big", signed=True)


def header_bytes(path: Path) -> bytes:
    """The file's 100-byte SQLite header, checked to be a gradscope session's."""
    try:
        header = read_head(path, 100)
    except NotReadable as exc:
        words = {"missing": "no such session file", "folder": "is a directory, not a session file",
                 "special": "is not a regular file"}
        raise SessionError(path, words.get(exc.kind) or exc.failure) from None
    if not header:
        raise SessionError(path, "is empty, not a gradscope session")
    if not header.startswith(schema.SQLITE_MAGIC):
        raise SessionError(path, "is not a gradscope session (not an SQLite database)")
    if len(header) < 100:
        raise SessionError(path, f"is truncated ({len(header)} bytes, shorter than an SQLite header)")
    check_marks(path, int.from_bytes(header[68:72], "big", signed=True),
                int.from_bytes(header[60:64], "big", signed=True))
    return header


def check_marks(path: Path, application_id: Any, version: Any) -> None:
    if application_id != schema.APPLICATION_ID:
        raise SessionError(path, "is an SQLite database but not a gradscope session "
                                 f"(application_id {application_id!r})")
    if type(version) is not int or version < 1:
        raise SessionError(path, f"has no valid gradscope schema version ({version!r})")
    if version > schema.SCHEMA_VERSION:
        raise SessionError(path, f"needs gradscope schema {version} (it was written by a newer gradscope); "
                                 f"this gradscope reads up to schema {schema.SCHEMA_VERSION}, "
                                 "so update gradscope to open it")


class HardenedConnection:
    """Read-only, authorizer-guarded access to one session file. Single-threaded.

    Reading creates nothing beside the file: its side files are inspected first
    (side_files.py), a file with nothing in its `-wal` is opened `immutable=1`, and one whose
    `-wal` must be applied but has no `-shm` is read through a private copy. `notices` holds
    what a reader should be told about them (a junk journal or a foreign `-wal` ignored, a
    damaged one read up to its last good commit). `alone=True` reads the file as if no side
    file were there."""

    def __init__(self, path: str | os.PathLike, *, timeout: float = 10.0, alone: bool = False):
        self.path = Path(path)
        self.timeout = float(timeout)
        self._deadline = math.inf
        self._timed_out = False      # the progress callback stopped a query at the deadline
        self._copy: Path | None = None
        header = header_bytes(self.path)
        self.version = int.from_bytes(header[60:64], "big", signed=True)
        self.byte_budget = _byte_budget(self.path)
        page = int.from_bytes(header[16:18], "big")
        self._page_size = 65536 if page == 1 else page
        sides = side_files.SideFiles(immutable=True) if alone else side_files.inspect(self.path, header)
        if sides.refusal is not None:
            raise self.error(sides.refusal)
        self.notices = list(sides.notices)
        try:
            self._connect(sides)
            self._harden()
            self.version = self._check_pragmas()
            self._check_schema()
            if sides.wal_frames:
                self._check_wal_is_ours()
        except BaseException:
            self.close()
            raise

    def _connect(self, sides: side_files.SideFiles) -> None:
        target = self.path.resolve()
        if sides.wal_without_shm:
            target = self._private_copy(sides.wal_frames)
        query = "mode=ro&immutable=1" if sides.immutable else "mode=ro"
        try:
            self._conn = sqlite3.connect(f"{target.as_uri()}?{query}", uri=True, isolation_level=None)
        except sqlite3.Error as exc:
            raise self.error(f"cannot open ({exc})") from None

    def _private_copy(self, frames: int) -> Path:
        """The file and the good frames of its -wal (`frames` of them, as side_files.check_wal
        counted: what SQLite would apply), copied where SQLite may make the -shm it needs to
        apply the log; a reader never makes one beside a stranger's file, or on a read-only
        mount. Only bytes the disk holds are copied: a -wal grown sparse beyond its frames is not."""
        log = 32 + frames * (24 + self._page_size)
        if os.stat(self.path).st_size + log > self.byte_budget:
            raise self.error("claims more bytes than the disk holds for it (a sparse file); refusing to copy it "
                             "to read its -wal")
        folder = Path(tempfile.mkdtemp(prefix="gradscope-read-"))
        self._copy = folder
        target = folder / "session.gscope"
        try:
            shutil.copyfile(self.path, target)
            with open(side_files.side_path(self.path, "-wal"), "rb") as source, \
                    open(side_files.side_path(target, "-wal"), "wb") as copy:
                left = log
                while left > 0 and (chunk := source.read(min(left, 1 << 20))):
                    copy.write(chunk)
                    left -= len(chunk)
        except OSError as exc:
            raise self.error(f"cannot copy it to read its -wal ({exc.strerror or exc})") from None
        return target

    def _check_wal_is_ours(self) -> None:
        """A -wal from another session would be applied by SQLite as if it were this file's. A
        writer stamps its session's id into `meta` with every commit, so the log carries it: the
        file read alone and read with its log must name the same session."""
        applied = self._session_id()
        try:
            alone = HardenedConnection(self.path, timeout=self.timeout, alone=True)
        except SessionError:
            return    # the file alone is not yet a session (its log holds it all): nothing to compare
        try:
            own = alone._session_id()
        finally:
            alone.close()
        if own is None or applied is None or own == applied:
            return
        self.close()
        self._connect(side_files.SideFiles(immutable=True))
        self._harden()
        self.version = self._check_pragmas()
        self._check_schema()
        self.notices.append(f"{self.path.name}-wal beside it belongs to another session, not this file; it "
                            f"was ignored, so what it holds is not shown; `gradscope recover {self.path}` "
                            "sets it aside")

    def _session_id(self) -> str | None:
        rows = self.query("SELECT value FROM meta WHERE key = 'session'")
        return rows[0][0] if rows and isinstance(rows[0][0], str) else None

    def _harden(self) -> None:
        conn = self._conn
        config = getattr(sqlite3, "SQLITE_DBCONFIG_DEFENSIVE", None)
        if config is not None and hasattr(conn, "setconfig"):  # Python 3.12+
            conn.setconfig(config, True)
            for name in ("SQLITE_DBCONFIG_TRUSTED_SCHEMA", "SQLITE_DBCONFIG_ENABLE_TRIGGER",
                         "SQLITE_DBCONFIG_ENABLE_VIEW"):
                if hasattr(sqlite3, name):
                    conn.setconfig(getattr(sqlite3, name), False)
        for limit, value in (("SQLITE_LIMIT_LENGTH", schema.MAX_VALUE_BYTES + 1024),
                             ("SQLITE_LIMIT_ATTACHED", 0)):
            if hasattr(sqlite3, limit) and hasattr(conn, "setlimit"):
                conn.setlimit(getattr(sqlite3, limit), value)
        try:
            for pragma in ("trusted_schema = OFF", "query_only = ON", "cell_size_check = ON",
                           "mmap_size = 0"):
                conn.execute(f"PRAGMA {pragma}")
        except sqlite3.Error as exc:
            raise self.error(f"cannot open ({exc})") from None
        conn.set_progress_handler(self._on_progress, _PROGRESS_OPCODES)
        # installed last: from here on only known reads are allowed
        conn.set_authorizer(self._authorize)

    def _authorize(self, action: int, arg1: Any, arg2: Any, database: Any, source: Any) -> int:
        if database not in (None, "main") or source is not None:
            return sqlite3.SQLITE_DENY
        if action == sqlite3.SQLITE_SELECT:
            return sqlite3.SQLITE_OK
        if action == sqlite3.SQLITE_READ and (arg1, arg2) in schema.readable_columns(self.version):
            return sqlite3.SQLITE_OK
        if action == sqlite3.SQLITE_FUNCTION and arg2 in _ALLOWED_FUNCTIONS:
            return sqlite3.SQLITE_OK
        if action == sqlite3.SQLITE_PRAGMA and arg1 in _ALLOWED_PRAGMAS and arg2 is None:
            return sqlite3.SQLITE_OK
        return sqlite3.SQLITE_DENY

    def _on_progress(self) -> int:
        if time.monotonic() > self._deadline:
            self._timed_out = True
            return 1
        return 0

    def _check_pragmas(self) -> int:
        # the header we read may be stale when page 1 was rewritten in a WAL; sqlite has the truth
        application_id = self.query("PRAGMA application_id")[0][0]
        version = self.query("PRAGMA user_version")[0][0]
        check_marks(self.path, application_id, version)
        return version

    def _check_schema(self) -> None:
        found = self.query("SELECT type, name, tbl_name, sql FROM sqlite_master")
        expected = schema.expected_master(self.version)
        rows = set(found)
        if rows == expected and len(found) == len(expected):
            return
        extra = sorted(rows - expected, key=repr)
        missing = sorted(expected - rows, key=repr)
        if extra:
            kind, name = extra[0][0], extra[0][1]
            what = "a changed definition of" if any(m[1] == name for m in missing) else "an unexpected"
            raise self.error(f"has {what} {kind} {name!r}; refusing to read a crafted or foreign file")
        if missing:
            raise self.error(f"lacks the {missing[0][0]} {missing[0][1]!r} of a gradscope session")
        raise self.error("has duplicate schema entries; refusing to read a crafted file")

    # -- queries -------------------------------------------------------------------------------

    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        rows: list[tuple] = []
        for chunk in self._chunks(sql, params):
            rows.extend(chunk)
        return rows

    def iterate(self, sql: str, params: tuple = ()) -> Iterator[tuple]:
        """Rows of one query, under the deadline and with every sqlite error made a SessionError."""
        for chunk in self._chunks(sql, params):
            yield from chunk

    def _chunks(self, sql: str, params: tuple) -> Iterator[list[tuple]]:
        if self._conn is None:
            raise self.error("the session is closed")
        # the deadline bounds SQLite's own work on each batch, not the caller's between them: a
        # long but honest file read by slow Python code is not taken for one crafted to hang
        try:
            self._deadline = time.monotonic() + self.timeout
            cursor = self._conn.execute(sql, params)
            while True:
                self._deadline = time.monotonic() + self.timeout
                rows = cursor.fetchmany(4096)
                self._deadline = math.inf
                if not rows:
                    break
                yield rows
        except sqlite3.Error as exc:
            if "interrupted" in str(exc) and not self._timed_out:
                # not our deadline: a Ctrl-C raised in the progress callback, which sqlite3
                # reports only as an interruption. It is the user's, not the file's
                raise KeyboardInterrupt from None
            self._timed_out = False
            raise self.error(_describe(exc, self.timeout)) from None
        except UnicodeDecodeError:
            raise self.error("is damaged (text that is not UTF-8)") from None
        except (MemoryError, OverflowError) as exc:
            raise self.error(f"holds a value too large to read ({type(exc).__name__})") from None
        finally:
            self._deadline = math.inf

    def error(self, problem: str) -> SessionError:
        return SessionError(self.path, problem)

    def close(self) -> None:
        conn, self._conn = getattr(self, "_conn", None), None
        if conn is not None:
            conn.close()
        copy, self._copy = getattr(self, "_copy", None), None
        if copy is not None:
            shutil.rmtree(copy, ignore_errors=True)


# A file's size is a claim too: a sparse file says 16 GB with 400 KB on the disk. What the disk
# really holds bounds it, with room for a filesystem that compresses (up to 16 times).
_COMPRESSION_ROOM = 16
_SMALL_FILE_ROOM = 1 << 20


def _byte_budget(path: Path) -> int:
    """How many payload bytes the file can honestly hold: its size plus its WAL's, where the
    disk really holds them (a sparse tail holds nothing)."""
    total = 0
    for suffix in ("", "-wal"):
        try:
            info = os.stat(str(path) + suffix)
        except OSError:
            continue
        allocated = getattr(info, "st_blocks", None)
        held = info.st_size if allocated is None else min(info.st_size,
                                                           allocated * 512 * _COMPRESSION_ROOM + _SMALL_FILE_ROOM)
        total += held
    return total


def _describe(exc: sqlite3.Error, timeout: float) -> str:
    text = str(exc)
    if "decode to UTF-8" in text:
        return "is damaged (text that is not UTF-8)"
    if "unsupported file format" in text:
        return "is damaged or uses an SQLite file format this Python cannot read"
    text = text if len(text) <= 200 else text[:197] + "..."
    if "interrupted" in text:
        return f"reading took longer than {timeout:g} s; the file may be crafted to hang"
    if "not authorized" in text or "prohibited" in text:
        return f"asks for a forbidden operation ({text})"
    if "file is not a database" in text:
        return "is not a gradscope session (not a readable SQLite database)"
    if "malformed" in text or "corrupt" in text or "disk image" in text:
        return f"is damaged ({text})"
    if "too big" in text:
        return f"holds a value larger than any gradscope writes ({text})"
    return f"cannot be read ({type(exc).__name__}: {text})"
