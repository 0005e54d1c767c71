"""One recorded run, read lazily from a hardened connection.

Nothing is read until asked for, and nothing read is trusted: step indices must be ints,
scalars numbers, arrays pass `arrays.decode`, and the bytes a load may pull are budgeted against
the file's size before the first row is fetched.
"""
from __future__ import annotations

import json
from functools import cached_property
from typing import Any, Iterator

import numpy as np

from gradscope.config import RunConfig
from gradscope.records import Checkpoint, Event, RunState, StepRecord, legacy_event
from gradscope.session import arrays, schema
from gradscope.session.bookmark_rows import SELECT_COLUMNS, Bookmark, bookmark_from_row
from gradscope.session.errors import MissingEntryError, SessionError
from gradscope.session.hardened import HardenedConnection
from gradscope.series import shape_problem


class Run:
    """One recorded run: its config and state, and lazy access to everything it recorded."""

    def __init__(self, db: HardenedConnection, run_id: int, config: RunConfig, state: RunState,
                 parent: tuple[int, int] | None, created: float, *, has_bookmarks: bool = False):
        self._db = db
        self._has_bookmarks = has_bookmarks  # False for schema 1 files, which have no bookmark table
        self.id, self.config, self.state, self.parent, self.created = run_id, config, state, parent, created

    def __repr__(self) -> str:
        return f"<Run {self.id} {self.config.arch}/{self.config.task} {self.state.value}>"

    @property
    def path(self):
        """The session file it was read from."""
        return self._db.path

    def _error(self, problem: str, missing: bool = False) -> SessionError:
        return (MissingEntryError if missing else SessionError)(self._db.path, f"run {self.id}: {problem}")

    # -- steps and series ----------------------------------------------------------------------

    @cached_property
    def steps(self) -> np.ndarray:
        """Every recorded step index, ascending (int64)."""
        rows = self._db.query("SELECT step FROM step WHERE run_id = ? ORDER BY step LIMIT ?",
                              (self.id, schema.MAX_STEPS + 1))
        return self._step_array([row[0] for row in rows], "steps")

    @cached_property
    def wall_times(self) -> np.ndarray:
        """When each of `steps` was recorded (seconds since the epoch, float64)."""
        rows = self._db.query("SELECT wall_time FROM step WHERE run_id = ? ORDER BY step LIMIT ?",
                              (self.id, schema.MAX_STEPS + 1))
        return self._scalar_array([row[0] for row in rows], "wall times")

    @cached_property
    def _series(self) -> dict[str, tuple[int, str, np.dtype, tuple[int, ...]]]:
        table = {}
        for series_id, name, kind, dtype, shape in self._db.iterate(
                "SELECT id, name, kind, dtype, shape FROM series WHERE run_id = ? LIMIT ?",
                (self.id, schema.MAX_SERIES + 1)):
            if len(table) >= schema.MAX_SERIES:
                raise self._error(f"has more than {schema.MAX_SERIES} series")
            if type(series_id) is not int or not isinstance(name, str) or len(name) > schema.MAX_TEXT_BYTES:
                raise self._error(f"has a malformed series entry ({series_id!r})")
            try:
                parsed = (series_id, kind, arrays.parse_dtype(dtype), arrays.parse_shape(shape))
            except arrays.ArrayFormatError as exc:
                raise self._error(f"series {name!r}: {exc}") from None
            if kind not in (schema.KIND_SCALAR, schema.KIND_ARRAY) or (
                    kind == schema.KIND_SCALAR and (parsed[2].name != "float64" or parsed[3] != ())):
                raise self._error(f"series {_quoted(name)} has an invalid kind {_quoted(kind)}")
            # a declared series must be what its declaration says: a shape is a claim, and
            # panels and exports size things from it
            problem = shape_problem(name, kind, parsed[3])
            if problem is not None:
                raise self._error(f"series {_quoted(name)} {problem}")
            table[name] = parsed
        return table

    def series_names(self) -> dict[str, tuple[str, str, tuple[int, ...]]]:
        """name -> (kind 'scalar' or 'array', dtype name, per-step shape)."""
        return {name: (kind, dtype.name, shape) for name, (_, kind, dtype, shape) in self._series.items()}

    def series(self, name: str) -> np.ndarray:
        """The values of one series, stacked by step: shape [rows, *per-step shape]."""
        return self._load_series(name, values=True)[1]

    def series_steps(self, name: str) -> np.ndarray:
        """The steps the rows of `series(name)` belong to (arrays exist only on probed steps)."""
        return self._load_series(name, values=False)[0]

    def series_with_steps(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """(steps, values) of one series in one query."""
        return self._load_series(name, values=True)

    def _load_series(self, name: str, values: bool) -> tuple[np.ndarray, np.ndarray | None]:
        if name not in self._series:
            raise self._error(f"has no series {name!r}", missing=True)
        series_id, kind, dtype, shape = self._series[name]
        table = "scalar_value" if kind == schema.KIND_SCALAR else "array_value"
        column = ("value" if kind == schema.KIND_SCALAR else "data") if values else "NULL"
        if values and kind == schema.KIND_ARRAY:
            self._check_budget(f"series {name!r}", "SELECT count(*), total(length(data)) FROM array_value "
                               "WHERE series_id = ?", (series_id,))
        rows = self._db.query(f"SELECT step, {column} FROM {table} WHERE series_id = ? ORDER BY step LIMIT ?",
                              (series_id, schema.MAX_STEPS + 1))
        steps = self._step_array([row[0] for row in rows], f"series {name!r}")
        if not values:
            return steps, None
        if kind == schema.KIND_SCALAR:
            return steps, self._scalar_array([row[1] for row in rows], f"series {name!r}")
        try:
            return steps, arrays.decode_rows([row[1] for row in rows], dtype, shape)
        except arrays.ArrayFormatError as exc:
            raise self._error(f"series {name!r}: {exc}") from None

    def check_size(self) -> None:
        """Refuse a run whose arrays, all together, claim more bytes than the file holds: in a
        crafted file rows can share overflow pages, so each series may fit its budget alone
        while a whole-run read (an export, a replay) adds them up. One query, no data read."""
        total = self._db.query("SELECT total(length(data)) FROM array_value WHERE series_id IN "
                               "(SELECT id FROM series WHERE run_id = ?)", (self.id,))[0][0]
        if not isinstance(total, (int, float)) or total > self._db.byte_budget:
            raise self._error("its arrays claim more data than the file holds")

    def record(self, step: int) -> StepRecord:
        """The StepRecord recorded at `step`, as the trainer produced it (for replay)."""
        step = int(step)
        rows = self._db.query("SELECT wall_time FROM step WHERE run_id = ? AND step = ?", (self.id, step))
        if not rows:
            raise self._error(f"has no step {step}", missing=True)
        wall_time = self._scalar_array([rows[0][0]], f"step {step}")[0]
        scalars = {}
        for by_id, marks, chunk in self._series_chunks():
            for series_id, value in self._db.query(
                    f"SELECT series_id, value FROM scalar_value WHERE series_id IN ({marks}) AND step = ?",
                    (*chunk, step)):
                name = self._named(by_id, series_id, step)[0]
                scalars[name] = self._scalar_array([value], f"step {step}")[0]
        return StepRecord(step=step, scalars=scalars, arrays=self.arrays_at(step), wall_time=float(wall_time))

    def arrays_at(self, step: int) -> dict[str, np.ndarray]:
        """Every array recorded at `step` (none at a step that was not probed)."""
        step = int(step)
        found = {}
        for by_id, marks, chunk in self._series_chunks():
            self._check_budget(f"step {step}", "SELECT count(*), total(length(data)) FROM array_value "
                               f"WHERE series_id IN ({marks}) AND step = ?", (*chunk, step))
            for series_id, data in self._db.query(
                    f"SELECT series_id, data FROM array_value WHERE series_id IN ({marks}) AND step = ?",
                    (*chunk, step)):
                name, _, dtype, shape = self._named(by_id, series_id, step)
                found[name] = self._decode(data, dtype, shape, f"array {name!r} at step {step}")
        return found

    def _series_chunks(self) -> Iterator[tuple[dict, str, list[int]]]:
        """(series by id, '?,?,...', ids) in chunks that fit in one query."""
        by_id = {series_id: (name, kind, dtype, shape)
                 for name, (series_id, kind, dtype, shape) in self._series.items()}
        ids = sorted(by_id)
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            yield by_id, ",".join("?" * len(chunk)), chunk

    # -- events, probe batch, checkpoints ------------------------------------------------------

    @cached_property
    def events(self) -> list[Event]:
        """Every event of the run, by step."""
        # counted first: a file of too many events is refused before any is read
        if self.event_count() > schema.MAX_EVENTS:
            raise self._error(f"has more than {schema.MAX_EVENTS} events")
        return self.first_events(schema.MAX_EVENTS)

    def event_count(self) -> int:
        return int(self._db.query("SELECT count(*) FROM event WHERE run_id = ?", (self.id,))[0][0])

    def first_events(self, count: int, of_kind: str | None = None) -> list[Event]:
        """The first `count` events by step (of one kind, if given), checked as `events` are:
        what a summary shows of a run of very many, without reading them all."""
        events = []
        for step, kind, detail, wall_time in self._db.iterate(
                "SELECT step, kind, detail, wall_time FROM event WHERE run_id = ? AND (? IS NULL OR kind = ?) "
                "ORDER BY step, id LIMIT ?", (self.id, of_kind, of_kind, int(count))):
            if (not schema.is_index(step) or not isinstance(kind, str) or len(kind) > schema.MAX_TEXT_BYTES
                    or not isinstance(detail, str) or len(detail) > schema.MAX_DETAIL_BYTES
                    or not isinstance(wall_time, (int, float))):
                raise self._error(f"has a malformed event at step {step!r}")
            try:
                parsed = json.loads(detail)
            except (ValueError, RecursionError):
                raise self._error(f"has an event at step {step} with unreadable detail") from None
            if not isinstance(parsed, dict):
                raise self._error(f"has an event at step {step} whose detail is not a table")
            if _deeper_than(parsed, MAX_DETAIL_DEPTH):
                raise self._error(f"has an event at step {step} whose detail nests more than "
                                  f"{MAX_DETAIL_DEPTH} levels deep")
            # a version-2 file's lr_changed and friends read as the settings_changed of today
            kind, parsed = legacy_event(kind, parsed)
            events.append(Event(step=step, kind=kind, detail=parsed, wall_time=float(wall_time)))
        return events

    @cached_property
    def bookmarks(self) -> list[Bookmark]:
        """The user's bookmarks on this run, by step (none in a schema 1 file). Read once: a
        bookmark added later shows in a session opened later."""
        if not self._has_bookmarks:
            return []
        found = []
        for row in self._db.iterate(f"SELECT {SELECT_COLUMNS} FROM bookmark WHERE run_id = ? "
                                    "ORDER BY step, id LIMIT ?",
                                    (schema.MAX_NOTE_CHARS, self.id, schema.MAX_BOOKMARKS + 1)):
            if len(found) >= schema.MAX_BOOKMARKS:
                raise self._error(f"has more than {schema.MAX_BOOKMARKS} bookmarks")
            found.append(bookmark_from_row(row, self._error))
        return found

    @cached_property
    def probe_batch(self) -> dict[str, np.ndarray]:
        """The fixed probe inputs (e.g. "x", "y"), read-only arrays."""
        return self._tensors(schema.ROLE_PROBE, 0)

    def checkpoint_steps(self) -> np.ndarray:
        rows = self._db.query("SELECT step FROM checkpoint WHERE run_id = ? ORDER BY step LIMIT ?",
                              (self.id, schema.MAX_STEPS + 1))
        return self._step_array([row[0] for row in rows], "checkpoints")

    def checkpoint(self, step: int) -> Checkpoint:
        """The weights that computed `step` exactly; MissingEntryError if none was saved there."""
        step = int(step)
        if not self._db.query("SELECT step FROM checkpoint WHERE run_id = ? AND step = ?", (self.id, step)):
            raise self._error(f"has no checkpoint at step {step}", missing=True)
        return Checkpoint(step=step, weights=self._tensors(schema.ROLE_WEIGHT, step),
                          optimizer=self._tensors(schema.ROLE_OPTIMIZER, step))

    def nearest_checkpoint(self, step: int) -> Checkpoint:
        """The latest checkpoint at or before `step` (replay starts there and steps forward)."""
        rows = self._db.query("SELECT max(step) FROM checkpoint WHERE run_id = ? AND step <= ?",
                              (self.id, int(step)))
        found = rows[0][0] if rows else None
        if found is None:
            raise self._error(f"has no checkpoint at or before step {int(step)}", missing=True)
        if type(found) is not int:
            raise self._error(f"has a malformed checkpoint step {found!r}")
        return self.checkpoint(found)

    # -- checks ------------------------------------------------------------------------------

    def _tensors(self, role: str, step: int) -> dict[str, np.ndarray]:
        where = "FROM tensor WHERE run_id = ? AND role = ? AND step = ?"
        what = "probe batch" if role == schema.ROLE_PROBE else f"{role} tensors at step {step}"
        self._check_budget(what, f"SELECT count(*), total(length(data)) {where}", (self.id, role, step))
        found = {}
        for name, dtype, shape, data in self._db.iterate(
                f"SELECT name, dtype, shape, data {where} LIMIT ?", (self.id, role, step, schema.MAX_TENSORS + 1)):
            if not isinstance(name, str) or len(found) >= schema.MAX_TENSORS:
                raise self._error(f"has a malformed {what} entry")
            try:
                parsed = arrays.parse_dtype(dtype), arrays.parse_shape(shape)
            except arrays.ArrayFormatError as exc:
                raise self._error(f"{what} {name!r}: {exc}") from None
            found[name] = self._decode(data, *parsed, f"{what} {name!r}")
        return found

    def _named(self, by_id: dict, series_id: Any, step: int) -> tuple:
        # only a damaged index can return a row outside the IN list we asked for
        if series_id not in by_id:
            raise self._error(f"step {step}: is damaged (a value of an unknown series)")
        return by_id[series_id]

    def _decode(self, data: Any, dtype: np.dtype, shape: tuple[int, ...], what: str) -> np.ndarray:
        try:
            return arrays.decode(data, dtype, shape)
        except arrays.ArrayFormatError as exc:
            raise self._error(f"{what}: {exc}") from None

    def _check_budget(self, what: str, sql: str, params: tuple) -> None:
        # many rows may point at the same overflow pages in a crafted file; refuse to load more
        # bytes than the file could really hold before any of them is fetched
        count, total = self._db.query(sql, params)[0]
        if type(count) is not int or count > schema.MAX_STEPS or not isinstance(total, (int, float)) \
                or total > self._db.byte_budget:
            raise self._error(f"{what} claims more data than the file holds")

    def _step_array(self, values: list[Any], what: str) -> np.ndarray:
        if len(values) > schema.MAX_STEPS:
            raise self._error(f"{what}: more than {schema.MAX_STEPS} steps")
        # numpy sorts out the types in one pass: anything but plain integers (text, blobs, reals,
        # NULL, integers past 64 bits) gives an array that is not of a signed integer kind
        array = _as_array(values, np.int64)
        if array is None or array.dtype.kind != "i" or (
                array.size and (int(array.min()) < 0 or int(array.max()) > schema.MAX_INDEX)):
            raise self._error(f"{what}: a step index is not an integer in 0..{schema.MAX_INDEX}")
        return array.astype(np.int64, copy=False)

    def _scalar_array(self, values: list[Any], what: str) -> np.ndarray:
        array = _as_array(values, np.float64)
        if array is not None and array.dtype.kind in "if":
            return array.astype(np.float64, copy=False)
        # NULL (a NaN) among the numbers, or something that is not a number: value by value
        if not all(value is None or type(value) is float or type(value) is int for value in values):
            raise self._error(f"{what}: a value is not a number")
        try:
            return np.array([np.nan if value is None else value for value in values], dtype=np.float64)
        except OverflowError:
            raise self._error(f"{what}: a value is too large for a float") from None


def _as_array(values: list[Any], empty_dtype) -> np.ndarray | None:
    """The values as numpy makes them, or None when it cannot (integers past 64 bits)."""
    if not values:
        return np.empty(0, dtype=empty_dtype)
    try:
        return np.array(values)
    except (OverflowError, ValueError, TypeError):
        return None


# gradscope writes event details two or three levels deep; every reader of one (info, the
# timeline, a notebook) may then walk it without minding its depth
MAX_DETAIL_DEPTH = 16


def _deeper_than(value: Any, limit: int) -> bool:
    """Whether nested lists and tables in `value` go more than `limit` levels deep (walked
    without recursion: the depth is what is in question)."""
    level = [value]
    for _ in range(limit + 1):
        level = [item for container in level if isinstance(container, (dict, list))
                 for item in (container.values() if isinstance(container, dict) else container)]
        if not level:
            return False
    return True


def _quoted(text: Any) -> str:
    """A name from the file, as a message may show it: repr'd (no control characters), short."""
    shown = repr(text)
    return shown if len(shown) <= 80 else shown[:77] + "..."
