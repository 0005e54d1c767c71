"""Forecast the next value of a univariate series from the user's CSV file.

The file is read with Python's csv module; the delimiter (, ; tab |) is sniffed. A header row
is recognised when its cell above a numeric column is not a number. --csv-column picks a column
by header name (or, without a header, by its 1-based number); by default the last numeric column
is used. Blank lines are skipped; an empty cell in the chosen column is an error rather than a
silent gap, since the windows assume evenly spaced samples.

The series is z-scored with its own mean and standard deviation: inputs of order 1 suit the
initial weights whatever the units, and MSEs become comparable between files (the constant
predictor 0 scores about 1). The statistics cover the whole series; there is no held-out part
they could leak into. `mean` and `std` are kept so that predictions can be turned back.
"""
from __future__ import annotations

import csv
import io
import math

import numpy as np
import torch

from gradscope.config import ConfigError
from gradscope.tasks.files import read_text_file
from gradscope.tasks.regression import ForecastTask

Row = tuple[int, list[str]]  # (line number in the file, cells)

# A series is read column-wise, every row padded to the widest: the cells it holds are what
# costs memory, not the file's bytes (a line of 100,000 commas is 100 KB and 100,000 cells a
# row). So the reader counts them as it goes and stops at these, whatever the file's size.
MAX_COLUMNS = 1_000
MAX_ROWS = 1_000_000
MAX_CELLS = 5_000_000


class CsvTask(ForecastTask):
    name = "csv"
    description = "forecast the next value of a series from a CSV file"

    def __init__(self, series: np.ndarray, seq_len: int, column: str = "values", source: str = "the series"):
        series = np.asarray(series, dtype=np.float64).reshape(-1)
        if len(series) < seq_len + 2:
            raise ConfigError("csv", f"{source} has only {len(series)} values in {column}; a sequence "
                                     f"length of {seq_len} needs at least {seq_len + 2}")
        mean, std = float(series.mean()), float(series.std())
        if not (math.isfinite(mean) and math.isfinite(std)):
            raise ConfigError("csv", f"the values in {column} of {source} are too large to normalise")
        if std == 0:
            raise ConfigError("csv", f"{column} of {source} is constant; there is nothing to forecast")
        self.source = source
        self.column = column
        self.mean = mean
        self.std = std
        self.values = torch.from_numpy((series - mean) / std).to(torch.float32)
        self.length = seq_len

    def sample(self, batch: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        T = self.length
        starts = torch.randint(0, len(self.values) - T, (batch, 1), generator=generator)
        windows = self.values[starts + torch.arange(T + 1)]
        x = windows[:, :T].unsqueeze(2).contiguous()
        return x, self.make_target(windows[:, T], windows[:, T - 1])

    def denormalise(self, values: torch.Tensor) -> torch.Tensor:
        return values * self.std + self.mean


def load_csv(path: str, seq_len: int, column: str | None = None) -> CsvTask:
    text = read_text_file(path, "csv")
    rows = _read_rows(text, path)
    series, label = _pick_series(rows, path, column)
    return CsvTask(series, seq_len, column=label, source=str(path))


def _read_rows(text: str, path: str) -> list[Row]:
    sample = text[:8192]
    if "\n" in sample:
        sample = sample[:sample.rindex("\n") + 1]  # a cut-off last line would skew the sniffing
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel  # one column, or nothing to sniff: commas it is
    reader = csv.reader(io.StringIO(text), dialect)
    rows: list[Row] = []
    widest = 0
    try:
        for cells in reader:
            if len(cells) > MAX_COLUMNS:
                raise ConfigError("csv", f"{path}: line {reader.line_num} has {len(cells)} columns; "
                                  f"a series file may have at most {MAX_COLUMNS}")
            cells = list(map(str.strip, cells))
            if any(cells):
                rows.append((reader.line_num, cells))
                widest = max(widest, len(cells))
                if len(rows) > MAX_ROWS or len(rows) * widest > MAX_CELLS:
                    raise ConfigError("csv", f"{path} holds more than {MAX_ROWS:,} rows or {MAX_CELLS:,} cells "
                                      f"(by line {reader.line_num}); use a smaller extract")
    except csv.Error as exc:
        raise ConfigError("csv", f"{path} is not a readable CSV file (line {reader.line_num}: {exc})") from None
    return rows


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _parse(cells: tuple[str, ...] | list[str]) -> np.ndarray | None:
    """The filled cells as numbers, or None if any is not a number (or none is filled)."""
    filled = [cell for cell in cells if cell]
    if not filled:
        return None
    try:
        # numpy calls float() on each string, so this accepts exactly what float() does
        return np.array(filled, dtype=np.float64)
    except ValueError:
        return None


def _pick_series(rows: list[Row], path: str, column: str | None) -> tuple[np.ndarray, str]:
    if not rows:
        raise ConfigError("csv", f"{path} is empty")
    width = max(len(cells) for _, cells in rows)
    # Column-wise from here on: a 50 MB file has millions of cells, and per-cell Python
    # calls would take minutes.
    columns = list(zip(*(cells + [""] * (width - len(cells)) for _, cells in rows)))
    below_first = [_parse(cells[1:]) for cells in columns]
    has_header = len(rows) > 1 and any(
        cells[0] and not _is_number(cells[0]) and parsed is not None
        for cells, parsed in zip(columns, below_first))
    lines = [line for line, _ in rows][1 if has_header else 0:]
    data = [cells[1:] if has_header else cells for cells in columns]
    parsed = below_first if has_header else [_parse(cells) for cells in columns]
    names = [cells[0] for cells in columns] if has_header else []

    if column is None:
        numeric = [j for j in range(width) if parsed[j] is not None]
        if not numeric:
            raise ConfigError("csv", f"{path} has no numeric column")
        index = numeric[-1]
    else:
        index = _find_column(column, names, width, path)
    label = f"column {names[index]!r}" if has_header and names[index] else f"column {index + 1}"
    cells = data[index]
    if parsed[index] is None:
        bad = next(((line, cell) for line, cell in zip(lines, cells) if cell and not _is_number(cell)), None)
        detail = f"line {bad[0]} holds {bad[1]!r}" if bad else "it has no values"
        raise ConfigError("csv_column", f"{label} of {path} is not numeric ({detail})")
    if "" in cells:
        line = lines[cells.index("")]
        raise ConfigError("csv", f"{path}: line {line} has no value in {label}; "
                                 "fill or remove the missing values")
    values = parsed[index]  # no empty cells, so these are all the values, in order
    finite = np.isfinite(values)
    if not finite.all():
        at = int(np.argmin(finite))
        raise ConfigError("csv", f"{path}: line {lines[at]} holds {cells[at]!r} in {label}, "
                                 "not a finite number")
    return values, label


def _find_column(column: str, names: list[str], width: int, path: str) -> int:
    wanted = column.strip()
    if wanted in names:
        return names.index(wanted)
    folded = [name.casefold() for name in names]
    if folded.count(wanted.casefold()) == 1:
        return folded.index(wanted.casefold())
    if wanted.isdigit() and 1 <= int(wanted) <= width:
        return int(wanted) - 1
    if names:
        available = ", ".join(repr(name) for name in names if name)
        raise ConfigError("csv_column", f"{path} has no column named {column!r}; available: {available}")
    raise ConfigError("csv_column", f"{path} has no header row, so there is no column named {column!r}; "
                                    f"give a column number from 1 to {width} instead")
