"""The recorded series of one run as CSV (a table for spreadsheets) or NPZ (everything, for numpy).

CSV has one row per recorded step: `step`, the scalar series, then each probed 1-D array series
as columns `name[t]`, empty on the steps that were not probed. Arrays of two or more dimensions
(`gates/*` [T, H]) and `sample/text` do not fit a table and are left to NPZ. Numbers are written
as `repr` of the float64 (or int) value, so they parse back bit for bit; NaN is `nan`, inf `inf`.

NPZ holds `steps` (int64), every scalar series under its name aligned to `steps`, every array
series under its name ([probes, *shape]) with its probe steps under `<name>.steps`, and the run's
config as `config.json` (the JSON text as uint8 bytes). A scalar series missing on some steps
(e.g. `metric/*` after a non-finite loss) also gets `<name>.steps`. Nothing is an object array,
so `np.load(path, allow_pickle=False)` reads it all.
"""
from __future__ import annotations

import contextlib
import csv
import os
import zipfile
from typing import Callable, Iterator

import numpy as np

from gradscope.export import ExportError
from gradscope.export.atomic import atomic_output
from gradscope.series import SERIES, lookup
from gradscope.session import MissingEntryError, Run, Session, SessionError

StepRange = tuple[int | None, int | None]

DECLARED = list(SERIES)        # columns come in the registry's order, undeclared names last
MAX_CSV_COLUMNS = 100_000
_CHUNK = 2048   # rows formatted at a time, so a long run never holds its whole table as text


def parse_steps(text: str) -> StepRange:
    """"A:B" -> (A, B), the steps A <= step < B; either end may be empty ("100:", ":500", ":")."""
    usage = f"steps {text!r}: expected A:B, the steps from A up to but not including B " \
            "(e.g. 100:500, :500 or 100:)"
    parts = str(text).split(":")
    if len(parts) != 2:
        raise ValueError(usage)
    bounds: list[int | None] = []
    for part in parts:
        part = part.strip()
        if not part:
            bounds.append(None)
            continue
        try:
            value = int(part)
        except ValueError:
            raise ValueError(f"{usage}; {part!r} is not a whole number") from None
        if value < 0:
            raise ValueError(f"steps {text!r}: a step cannot be negative")
        bounds.append(value)
    start, stop = bounds
    if start is not None and stop is not None and start >= stop:
        raise ValueError(f"steps {text!r}: the range is empty (B is excluded, so A must be less than B)")
    return start, stop


def find_run(session: Session, run_id: int) -> Run:
    """The run `run_id` of `session`; ExportError naming the runs there are when it has none."""
    try:
        return session.run(run_id)
    except MissingEntryError as exc:
        raise ExportError(str(exc)) from None


def csv_columns(run: Run) -> list[str]:
    """The header row `write_csv` writes for `run`."""
    with _reading(run):
        return ["step"] + [column for _, columns in _csv_series(run) for column in columns]


def write_csv(run: Run, path: str | os.PathLike, steps: StepRange | None = None) -> int:
    """Write the recorded series of `run` (steps in [a, b)) to `path`; returns the data rows."""
    with _reading(run):
        run.check_size()
        selected = _selected_steps(run, steps)
        plan = _csv_series(run)
        header = ["step"] + [column for _, columns in plan for column in columns]
        if len(set(header)) != len(header):
            duplicated = sorted({column for column in header if header.count(column) > 1})
            raise ExportError(f"run {run.id}: series names collide as CSV columns: {', '.join(duplicated[:5])}")
        _check_padding(run, plan, selected)
        blocks = [_CsvBlock(run, name, selected) for name, _ in plan]
        with atomic_output(path, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(header)
            for start in range(0, len(selected), _CHUNK):
                stop = min(start + _CHUNK, len(selected))
                rows = [[str(step)] for step in selected[start:stop].tolist()]
                for block in blocks:
                    block.extend(rows, start, stop)
                writer.writerows(rows)
    return len(selected)


def write_npz(run: Run, path: str | os.PathLike, steps: StepRange | None = None) -> list[str]:
    """Write every recorded series of `run` (steps in [a, b)) to `path` as NPZ; returns its keys."""
    with _reading(run):
        run.check_size()
        selected = _selected_steps(run, steps)
        entries: dict[str, np.ndarray] = {}

        def put(key: str, value: np.ndarray) -> None:
            if key in entries:
                raise ExportError(f"run {run.id}: two series would both be stored as {key!r} in the NPZ")
            if "\\" in key or "\0" in key or any(part in ("", ".", "..") for part in key.split("/")):
                raise ExportError(f"run {run.id}: the series name {key!r} cannot be an NPZ key")
            entries[key] = value

        put("steps", selected)
        put("config.json", np.frombuffer(run.config.to_json().encode("utf-8"), dtype=np.uint8).copy())
        names = run.series_names()
        for name in _ordered(names, "scalar") + _ordered(names, "array"):
            series_steps, values = run.series_with_steps(name)
            keep = _in_range(series_steps, steps)
            series_steps, values = series_steps[keep], values[keep]
            put(name, values)
            if names[name][0] == "array" or not np.array_equal(series_steps, selected):
                put(f"{name}.steps", series_steps)
        with atomic_output(path, "wb") as handle:
            _write_npz(handle, entries)
    return list(entries)


# -- helpers ---------------------------------------------------------------------------------------

@contextlib.contextmanager
def _reading(run: Run) -> Iterator[None]:
    """A damaged session file surfaces as ExportError too, so callers need a single except."""
    try:
        yield
    except SessionError as exc:
        raise ExportError(str(exc)) from exc


def _rank(name: str) -> int:
    spec = lookup(name)
    return DECLARED.index(spec.pattern) if spec is not None else len(DECLARED)


def _ordered(names: dict[str, tuple[str, str, tuple[int, ...]]], kind: str) -> list[str]:
    """The series of one kind: in the order the registry declares them, then the rest by name."""
    chosen = [name for name, (series_kind, _, _) in names.items() if series_kind == kind]
    return sorted(chosen, key=lambda name: (_rank(name), name))


def _fits_a_table(name: str, shape: tuple[int, ...]) -> bool:
    """One number per step or a row of them: not an image ([T, H] gates) and not text."""
    spec = lookup(name)
    return len(shape) <= 1 and (spec is None or "character" not in spec.axes)


def _csv_series(run: Run) -> list[tuple[str, list[str]]]:
    """(series name, its CSV columns) for every series that fits a table, in column order.

    An array series' columns come from its declared shape, which is a claim: one with no row
    behind it gets none, and a table wider than `MAX_CSV_COLUMNS` is refused before anything
    is written (NPZ holds what a table cannot)."""
    names = run.series_names()
    plan = [(name, [name]) for name in _ordered(names, "scalar")]
    width = len(plan)
    for name in _ordered(names, "array"):
        shape = names[name][2]
        if not _fits_a_table(name, shape) or not len(run.series_steps(name)):
            continue
        width += shape[0] if shape else 1
        if width > MAX_CSV_COLUMNS:
            raise ExportError(f"run {run.id}: its series would make a table of more than {MAX_CSV_COLUMNS:,} "
                              "columns; export it as NPZ instead")
        plan.append((name, [name] if not shape else [f"{name}[{t}]" for t in range(shape[0])]))
    return plan


# a table pads a series without a row at some step with empty cells; honest files need a few
# times their values (arrays are probed every few steps), a crafted one could ask for a
# gigabyte of commas around one row
MAX_PADDING = 50
MIN_CELLS = 1_000_000


def _check_padding(run: Run, plan: list[tuple[str, list[str]]], selected: np.ndarray) -> None:
    """Refuse a table whose cells outnumber the values behind them by more than MAX_PADDING."""
    cells = len(selected) * (1 + sum(len(columns) for _, columns in plan))
    if cells <= MIN_CELLS:
        return
    values = len(selected) + sum(len(columns) * int(np.isin(run.series_steps(name), selected).sum())
                                 for name, columns in plan)
    if cells > MAX_PADDING * values:
        raise ExportError(f"run {run.id}: a table of its series would have {cells:,} cells for {values:,} "
                          "recorded values; export it as NPZ instead")


def _check_range(steps: StepRange | None) -> StepRange:
    if steps is None:
        return None, None
    try:
        start, stop = steps
    except (TypeError, ValueError):
        raise ExportError(f"steps {steps!r}: expected a pair (a, b), either of them None") from None
    for bound in (start, stop):
        if bound is not None and not isinstance(bound, (int, np.integer)):
            raise ExportError(f"steps {steps!r}: the bounds must be whole numbers or None")
    if start is not None and stop is not None and start >= stop:
        raise ExportError(f"steps [{start}, {stop}) is an empty range (the end is excluded)")
    return start, stop


def _in_range(values: np.ndarray, steps: StepRange | None) -> np.ndarray:
    start, stop = _check_range(steps)
    keep = np.ones(len(values), dtype=bool)
    if start is not None:
        keep &= values >= start
    if stop is not None:
        keep &= values < stop
    return keep


def _selected_steps(run: Run, steps: StepRange | None) -> np.ndarray:
    recorded = run.steps
    if len(recorded) == 0:
        raise ExportError(f"run {run.id} has no recorded steps")
    selected = recorded[_in_range(recorded, steps)]
    if len(selected) == 0:
        start, stop = _check_range(steps)
        wanted = f"[{'' if start is None else start}, {'' if stop is None else stop})"
        raise ExportError(f"run {run.id} has no recorded steps in {wanted}; "
                          f"it recorded steps {int(recorded[0])} to {int(recorded[-1])}")
    return selected


def _formatter(dtype: np.dtype) -> Callable[[object], str]:
    # tolist() gives Python floats holding the exact value (float32 included), whose repr
    # round-trips; bools are written as 1/0 like the `clipped` scalar
    if dtype.kind == "b":
        return lambda value: "1" if value else "0"
    return repr


class _CsvBlock:
    """The CSV cells of one series: which row holds which of its values, formatted by chunk."""

    def __init__(self, run: Run, name: str, selected: np.ndarray):
        series_steps, values = run.series_with_steps(name)
        on_rows = np.isin(series_steps, selected)   # values off the recorded steps have no row
        self.width = int(np.prod(values.shape[1:], dtype=np.int64))
        self.values = values[on_rows].reshape(int(on_rows.sum()), self.width)
        self.row_of = np.full(len(selected), -1, dtype=np.int64)
        self.row_of[np.searchsorted(selected, series_steps[on_rows])] = np.arange(len(self.values))
        self.format = _formatter(values.dtype)

    def extend(self, rows: list[list[str]], start: int, stop: int) -> None:
        where = self.row_of[start:stop]
        empty = [""] * self.width
        block = self.values[where[where >= 0]].tolist()
        taken = iter(block)
        fmt = self.format
        for row, index in zip(rows, where.tolist()):
            row.extend(empty if index < 0 else [fmt(value) for value in next(taken)])


def _write_npz(handle, entries: dict[str, np.ndarray]) -> None:
    """What np.savez_compressed writes, with two differences that matter to a session from a
    stranger: a series named like one of its keyword arguments ("file", "allow_pickle") cannot
    collide with them, and writing refuses object arrays outright."""
    with zipfile.ZipFile(handle, mode="w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
        for key, value in entries.items():
            with archive.open(key + ".npy", "w", force_zip64=True) as member:
                np.lib.format.write_array(member, np.asarray(value), allow_pickle=False)
