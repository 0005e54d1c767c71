"""The files of the hostile-input suite: a small real recording, and the crafts made from it.

Each craft edits a copy of one recorded session with plain sqlite3 or with bytes, as a
hostile or broken file would; `overflow_loop` builds the hardest one by hand: a blob whose
overflow chain is one page pointing at itself, claiming 128 MB from a sparse file that holds
48 KB (https://www.sqlite.org/fileformat2.html, "Cell Payload Overflow Pages")."""
from __future__ import annotations

import functools
import os
import sqlite3
import struct
from pathlib import Path

from gradscope.config import RunConfig
from gradscope.session import SessionWriter
from gradscope.training import SessionRecorder, Trainer

CONFIG = RunConfig(arch="lstm", task="adding", seq_len=8, hidden=6, batch=4, steps=12, checkpoint_every=5,
                   probe_every=2, device="cpu")


@functools.lru_cache(maxsize=1)
def recording() -> bytes:
    """One LSTM run of 12 steps, checkpoints at 0, 5 and 10 (trained once per process)."""
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "pristine.gscope"
        with SessionWriter(path) as writer, Trainer(CONFIG, [SessionRecorder(writer)]) as trainer:
            trainer.run()
        return path.read_bytes()


def session(path: Path, *statements: str, params: tuple = ()) -> Path:
    """The recording at `path`, edited by `statements` (run in one connection, log folded in)."""
    path.write_bytes(recording())
    db = sqlite3.connect(path, isolation_level=None)
    try:
        for statement in statements:
            db.execute(statement, params if "?" in statement else ())
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        db.close()
    return path


def series_without_rows(path: Path, count: int, shape: list[int]) -> Path:
    """`count` series of one run declared [shape] float32, none with a row behind it."""
    rows = ", ".join(f"(0, 'custom/empty{i}', 'array', 'float32', '{shape}')" for i in range(count))
    return session(path, f"INSERT INTO series (run_id, name, kind, dtype, shape) VALUES {rows}")


def one_row(path: Path, name: str, dtype: str, shape: list[int], data: bytes) -> Path:
    """A series `name` of one row, `data` at the run's first probed step."""
    session(path, "INSERT INTO series (run_id, name, kind, dtype, shape) VALUES "
                  f"(0, '{name}', 'array', '{dtype}', '{shape}')")
    db = sqlite3.connect(path, isolation_level=None)
    try:
        db.execute("INSERT INTO array_value (series_id, step, data) VALUES "
                   "((SELECT id FROM series WHERE name = ?), 0, ?)", (name, data))
    finally:
        db.close()
    return path


def wide_row_in_a_long_run(path: Path) -> Path:
    """One real row of 99,000 floats in a run stretched to 20,000 steps: as a table, a
    gigabyte of empty cells around 400 KB of values."""
    one_row(path, "custom/wide", "float32", [99_000], b"\0" * (4 * 99_000))
    db = sqlite3.connect(path, isolation_level=None)
    try:
        db.execute("WITH RECURSIVE n(x) AS (SELECT 12 UNION ALL SELECT x + 1 FROM n WHERE x < 20000) "
                   "INSERT INTO step (run_id, step, wall_time) SELECT 0, x, 0 FROM n")
    finally:
        db.close()
    return path


def overflow_loop(path: Path) -> Path:
    """A float32 series 'custom/loop' of one row whose blob says 128 MB: its overflow chain is
    one page pointing to itself, the header's page count is raised to cover the chain and the
    file is sparse-truncated to that size (128 MB apparent, some 50 KB on disk)."""
    real = 2_500_000                                  # bytes: a 4-byte varint, like the claim
    one_row(path, "custom/loop", "float32", [real // 4], b"\xab" * real)
    data = bytearray(path.read_bytes())
    page = int.from_bytes(data[16:18], "big")
    usable = page - data[20]
    cell, payload = _cell_holding(data, page, real)
    end_of_size = cell + 4
    assert _varint(data, cell) == (payload, end_of_size)
    header_size, at = _varint(data, end_of_size)
    types = []
    while at < end_of_size + header_size:
        serial, after = _varint(data, at)
        types.append((at, after, serial))
        at = after
    blob_at, blob_end, serial = types[-1]
    assert (serial - 12) // 2 == real and blob_end - blob_at == 4
    local = _local_size(payload, usable)
    # the claim keeps the local part's size (the same remainder modulo a page's payload) and
    # a whole number of float32s
    step = usable - 4
    extra = (2**27 - payload) // step
    while (payload + extra * step - (payload - real)) % 4:
        extra -= 1
    claimed = payload + extra * step
    assert _local_size(claimed, usable) == local
    blob = claimed - (payload - real)
    data[cell:cell + 4] = _varint4(claimed)
    data[blob_at:blob_end] = _varint4(blob * 2 + 12)
    first = struct.unpack(">I", data[end_of_size + local:end_of_size + local + 4])[0]
    data[(first - 1) * page:(first - 1) * page + 4] = struct.pack(">I", first)    # the loop
    pages = first + (claimed - local + step - 1) // step + 8
    data[28:32] = struct.pack(">I", pages)
    path.write_bytes(bytes(data[:first * page]))
    os.truncate(path, pages * page)
    db = sqlite3.connect(path, isolation_level=None)
    try:
        db.execute("UPDATE series SET shape = ? WHERE name = 'custom/loop'", (f"[{blob // 4}]",))
    finally:
        db.close()
    os.truncate(path, pages * page)
    return path


def _cell_holding(data: bytearray, page: int, size: int) -> tuple[int, int]:
    """Where the leaf cell whose payload holds a blob of `size` bytes begins, and its payload size."""
    for number in range(1, len(data) // page):
        start = number * page
        if data[start] not in (0x0A, 0x0D):              # index or table leaf
            continue
        cells = struct.unpack(">H", data[start + 3:start + 5])[0]
        for k in range(cells):
            cell = start + struct.unpack(">H", data[start + 8 + 2 * k:start + 10 + 2 * k])[0]
            payload, _ = _varint(data, cell)
            if size < payload < size + 64:
                assert data[start] == 0x0A, "array_value is a WITHOUT ROWID table: an index leaf"
                return cell, payload
    raise AssertionError("no cell holds the blob")


def _local_size(payload: int, usable: int) -> int:
    """How much of an index leaf cell's payload stays on its page."""
    most = (usable - 12) * 64 // 255 - 23
    least = (usable - 12) * 32 // 255 - 23
    if payload <= most:
        return payload
    kept = least + (payload - least) % (usable - 4)
    return kept if kept <= most else least


def _varint(data: bytearray, at: int) -> tuple[int, int]:
    value = 0
    for k in range(9):
        byte = data[at + k]
        if k == 8:
            return (value << 8) | byte, at + 9
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            return value, at + k + 1
    raise AssertionError("unreachable")


def _varint4(value: int) -> bytes:
    assert value < 2**28
    return bytes([0x80 | (value >> 21) & 0x7F, 0x80 | (value >> 14) & 0x7F, 0x80 | (value >> 7) & 0x7F,
                  value & 0x7F])
