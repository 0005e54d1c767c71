"""Reading a session: `open_session(path)` gives a lazy, read-only view of its runs.

Opening reads only the run table; steps, series, events and checkpoints are queried when asked
for, so a large file opens at once. Every failure is a `SessionError` naming the file. Loaders
are kept per schema version (glue-style), each adapting its version to the same `Session` API:
version 1 files are migrated on read (same runs, no bookmarks; the file is not touched), version
2 adds the bookmarks. A file only ever changes schema when something is written into it.
"""
from __future__ import annotations

import math
import os
from functools import cached_property
from typing import Any, Callable

from gradscope.config import RunConfig
from gradscope.records import RunState
from gradscope.session import schema
from gradscope.session.errors import MissingEntryError, SessionError
from gradscope.session.hardened import HardenedConnection
from gradscope.session.run import Run


def open_session(path: str | os.PathLike, *, timeout: float = 10.0) -> Session:
    """Open a `.gscope` file read-only; `timeout` bounds every single query, in seconds."""
    db = HardenedConnection(path, timeout=timeout)
    try:
        loader = _LOADERS.get(db.version)
        if loader is None:
            raise db.error(f"schema {db.version} has no loader in this gradscope")
        return loader(db)
    except BaseException:
        db.close()
        raise


load_session = open_session


class Session:
    """The runs of one session file. Use as a context manager, or call `close()`."""

    def __init__(self, db: HardenedConnection, runs: list[Run]):
        self._db = db
        self.path = db.path
        self.schema_version = db.version
        # what a reader should be told about the files beside it (side_files.py), one line each
        self.notices: tuple[str, ...] = tuple(db.notices)
        self.runs = runs
        self._by_id = {run.id: run for run in runs}

    def run(self, run_id: int) -> Run:
        try:
            return self._by_id[run_id]
        except (KeyError, TypeError):
            raise MissingEntryError(self.path, f"has no run {run_id!r} "
                                    f"(runs: {sorted(self._by_id)})") from None

    @cached_property
    def meta(self) -> dict[str, str]:
        return {key: value for key, value in self._db.query("SELECT key, value FROM meta LIMIT 1000")
                if isinstance(key, str) and isinstance(value, str)}

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<Session {str(self.path)!r}: {len(self.runs)} run(s)>"


def refuse_to_write_past(session: Session) -> None:
    """A SessionError when something beside the file (a junk journal, a foreign or damaged
    -wal) was set aside to read it: opened to write, SQLite would act on it, so the file is
    recovered first."""
    if session.notices:
        raise SessionError(session.path, f"{session.notices[0]}; it is not written to before that")


def _load_v1(db: HardenedConnection) -> Session:
    return Session(db, _runs(db, has_bookmarks=False))


def _load_v2(db: HardenedConnection) -> Session:
    # the run table is unchanged since version 1; bookmarks are read lazily per run
    return Session(db, _runs(db, has_bookmarks=True))


def _runs(db: HardenedConnection, has_bookmarks: bool) -> list[Run]:
    runs = []
    for row in db.iterate("SELECT id, config, parent_run, parent_step, state, created FROM run "
                          "ORDER BY id LIMIT ?", (schema.MAX_RUNS + 1,)):
        if len(runs) >= schema.MAX_RUNS:
            raise db.error(f"has more than {schema.MAX_RUNS} runs")
        runs.append(_run(db, *row, has_bookmarks=has_bookmarks))
    return runs


def _run(db: HardenedConnection, run_id: Any, config: Any, parent_run: Any, parent_step: Any,
         state: Any, created: Any, *, has_bookmarks: bool) -> Run:
    if not schema.is_index(run_id):
        raise db.error(f"has a malformed run id {str(run_id)[:40]!r}")
    if not isinstance(config, str) or len(config) > schema.MAX_CONFIG_BYTES:
        raise db.error(f"run {run_id}: the configuration is missing or too large")
    try:
        parsed = RunConfig.from_json(config)
    except (ValueError, TypeError, OverflowError, RecursionError) as exc:
        raise db.error(f"run {run_id}: bad configuration ({exc})") from None
    try:
        state = RunState(state)
    except ValueError:
        raise db.error(f"run {run_id}: unknown state {str(state)[:40]!r}") from None
    if parent_run is None and parent_step is None:
        parent = None
    elif schema.is_index(parent_run) and schema.is_index(parent_step):
        parent = (parent_run, parent_step)
    else:
        raise db.error(f"run {run_id}: malformed parent ({parent_run!r}, {parent_step!r})")
    if not isinstance(created, (int, float)) or isinstance(created, bool) or not math.isfinite(created):
        raise db.error(f"run {run_id}: malformed creation time")
    return Run(db, run_id, parsed, state, parent, float(created), has_bookmarks=has_bookmarks)


_LOADERS: dict[int, Callable[[HardenedConnection], Session]] = {1: _load_v1, 2: _load_v2}
