"""The SQLite layout of a `.gscope` session file, one DDL list per schema version.

Why this shape: a series is read far more often than it is written, so values are keyed by
(series_id, step) and one series of one run is a single range scan of a clustered primary key.
Scalars (every step) and arrays (probed steps only) live in separate tables so that scalar rows
stay tiny. Checkpoint weights and the probe batch are named tensors in their own table.

The reader compares `sqlite_master` with the schema built from this DDL, row for row, so any
edit here is a new schema version: add `DDL[n + 1]` and its `UPGRADES[n]`, bump SCHEMA_VERSION
and give the reader a loader for the new version. `DDL[n]` itself never changes: old files must
still match it.

Versions: 1 is the recording itself; 2 adds bookmarks (a step of a run with a note), which the
user adds to a file later, possibly while it is still being recorded.
"""
from __future__ import annotations

import functools
import sqlite3

# 'GSCP' as a big-endian int32: marks the file as ours in the SQLite header (offset 68).
APPLICATION_ID = 0x47534350
SCHEMA_VERSION = 2
SQLITE_MAGIC = b"SQLite format 3\x00"

# Roles of rows in the tensor table; the probe batch uses step 0.
ROLE_PROBE = "probe"
ROLE_WEIGHT = "weight"
ROLE_OPTIMIZER = "optimizer"
ROLES = (ROLE_PROBE, ROLE_WEIGHT, ROLE_OPTIMIZER)

KIND_SCALAR = "scalar"
KIND_ARRAY = "array"

DDL: dict[int, tuple[str, ...]] = {
    1: (
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID",
        "CREATE TABLE run (id INTEGER PRIMARY KEY, config TEXT NOT NULL, parent_run INTEGER, "
        "parent_step INTEGER, state TEXT NOT NULL, created REAL NOT NULL)",
        "CREATE TABLE series (id INTEGER PRIMARY KEY, run_id INTEGER NOT NULL, name TEXT NOT NULL, "
        "kind TEXT NOT NULL, dtype TEXT NOT NULL, shape TEXT NOT NULL, UNIQUE (run_id, name))",
        "CREATE TABLE step (run_id INTEGER NOT NULL, step INTEGER NOT NULL, "
        "wall_time REAL NOT NULL, PRIMARY KEY (run_id, step)) WITHOUT ROWID",
        # value NULL stands for NaN: SQLite turns a bound NaN into NULL.
        "CREATE TABLE scalar_value (series_id INTEGER NOT NULL, step INTEGER NOT NULL, "
        "value REAL, PRIMARY KEY (series_id, step)) WITHOUT ROWID",
        "CREATE TABLE array_value (series_id INTEGER NOT NULL, step INTEGER NOT NULL, "
        "data BLOB NOT NULL, PRIMARY KEY (series_id, step)) WITHOUT ROWID",
        "CREATE TABLE event (id INTEGER PRIMARY KEY, run_id INTEGER NOT NULL, step INTEGER NOT NULL, "
        "kind TEXT NOT NULL, detail TEXT NOT NULL, wall_time REAL NOT NULL)",
        "CREATE INDEX event_by_run ON event (run_id, step)",
        "CREATE TABLE checkpoint (run_id INTEGER NOT NULL, step INTEGER NOT NULL, "
        "PRIMARY KEY (run_id, step)) WITHOUT ROWID",
        "CREATE TABLE tensor (id INTEGER PRIMARY KEY, run_id INTEGER NOT NULL, role TEXT NOT NULL, "
        "step INTEGER NOT NULL, name TEXT NOT NULL, dtype TEXT NOT NULL, shape TEXT NOT NULL, "
        "data BLOB NOT NULL, UNIQUE (run_id, role, step, name))",
    ),
}
# Statements that take a file from version n to n + 1, in place; user_version is set apart.
UPGRADES: dict[int, tuple[str, ...]] = {
    1: (
        "CREATE TABLE bookmark (id INTEGER PRIMARY KEY, run_id INTEGER NOT NULL, "
        "step INTEGER NOT NULL, note TEXT NOT NULL, created REAL NOT NULL)",
        "CREATE INDEX bookmark_by_run ON bookmark (run_id, step)",
    ),
}
DDL[2] = DDL[1] + UPGRADES[1]

# Caps a hostile file cannot talk the reader past; all are far above anything gradscope writes.
MAX_ELEMENTS = 64 * 2**20          # per array
MAX_NDIM = 32
MAX_STEPS = 10_000_000             # rows of one series / steps of one run
MAX_EVENTS = 1_000_000
MAX_RUNS = 100_000
MAX_SERIES = 100_000               # per run
MAX_TENSORS = 100_000              # per checkpoint or probe batch
MAX_CONFIG_BYTES = 1_000_000
MAX_DETAIL_BYTES = 1_000_000
MAX_BOOKMARKS = 10_000             # per run
MAX_INDEX = 2**31 - 1              # steps and run ids: they go into Qt's 32-bit ints (spin boxes, signals)
MAX_NOTE_CHARS = 2000              # a bookmark's note
MAX_TEXT_BYTES = 4096              # names, kinds, dtypes, shapes
MAX_VALUE_BYTES = MAX_ELEMENTS * 8  # the longest blob sqlite may hand us


def is_index(value: object) -> bool:
    """A step or run id as the reader accepts it: an int in 0..MAX_INDEX."""
    return type(value) is int and 0 <= value <= MAX_INDEX


@functools.lru_cache(maxsize=None)
def expected_master(version: int) -> frozenset[tuple]:
    """The (type, name, tbl_name, sql) rows `sqlite_master` holds for a file of `version`."""
    db = sqlite3.connect(":memory:")
    try:
        for statement in DDL[version]:
            db.execute(statement)
        return frozenset(db.execute("SELECT type, name, tbl_name, sql FROM sqlite_master"))
    finally:
        db.close()


@functools.lru_cache(maxsize=None)
def readable_columns(version: int) -> frozenset[tuple[str, str]]:
    """(table, column) pairs the reader may touch; the authorizer denies every other read."""
    db = sqlite3.connect(":memory:")
    try:
        for statement in DDL[version]:
            db.execute(statement)
        tables = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        pairs = {(table, row[1]) for table in tables
                 for row in db.execute(f"PRAGMA table_info({table})")}
    finally:
        db.close()
    pairs |= {("sqlite_master", column) for column in ("type", "name", "tbl_name", "sql")}
    return frozenset(pairs)


def create(conn: sqlite3.Connection) -> None:
    """Lay out a fresh file at the current schema version (caller commits)."""
    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    for statement in DDL[SCHEMA_VERSION]:
        conn.execute(statement)
