"""Hostile files: every crafted, damaged or foreign file gives a SessionError or a valid session.

Never another exception type, never a hang, never code from the file.
"""
from __future__ import annotations

import os
import random
import shutil
import sqlite3
import sys
import time
from pathlib import Path
from typing import Callable

import pytest

from session_samples import write_sample
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "hostile"))
import hostile_files  # noqa: E402
from gradscope.session import (MissingEntryError, SessionError, add_bookmark, format_info, open_session,
                               session_info)

PER_FILE_SECONDS = 5.0


def read_everything(path: Path) -> None:
    """Open and touch every part of the session, as the GUI, the CLI and a notebook would."""
    with open_session(path, timeout=2.0) as session:
        for run in session.runs:
            _ = run.config, run.state, run.parent, run.events, run.probe_batch, run.bookmarks
            for name in run.series_names():
                run.series_with_steps(name)
                run.series_steps(name)
            for step in run.steps:
                run.record(step)
            checkpoints = run.checkpoint_steps()
            for step in checkpoints:
                run.checkpoint(step)
            if len(checkpoints):
                run.nearest_checkpoint(checkpoints[-1] + 1)
        format_info(session_info(session))


@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> bytes:
    path = tmp_path_factory.mktemp("pristine") / "sample.gscope"
    write_sample(path, steps=6, probe_every=2)
    add_bookmark(path, 0, 3, "the gradient vanishes here")
    read_everything(path)
    return path.read_bytes()


def crafted(pristine: bytes, tmp_path: Path, *statements: str) -> Path:
    path = tmp_path / "crafted.gscope"
    path.write_bytes(pristine)
    db = sqlite3.connect(path, isolation_level=None)
    for statement in statements:
        db.execute(statement)
    db.close()
    return path


def schema_sql(pristine: bytes, tmp_path: Path, table: str, edit: Callable[[str], str]) -> Path:
    """Rewrite a table's CREATE statement in sqlite_master, leaving its pages alone."""
    probe = crafted(pristine, tmp_path)
    db = sqlite3.connect(probe)
    sql = db.execute("SELECT sql FROM sqlite_master WHERE name = ?", (table,)).fetchone()[0]
    db.close()
    return crafted(pristine, tmp_path, "PRAGMA writable_schema = ON",
                   f"UPDATE sqlite_master SET sql = '{edit(sql)}' WHERE name = '{table}'")


SQL_CASES = {
    "trigger calling a function": (["CREATE TRIGGER evil AFTER INSERT ON run BEGIN "
                                    "SELECT load_extension('/tmp/evil.so'); END"], "unexpected trigger 'evil'"),
    "extra view": (["CREATE VIEW peek AS SELECT * FROM run"], "unexpected view 'peek'"),
    "extra table": (["CREATE TABLE extra (x)"], "unexpected table 'extra'"),
    "extra index": (["CREATE INDEX by_state ON run (state)"], "unexpected index 'by_state'"),
    "planner statistics": (["ANALYZE"], "unexpected table 'sqlite_stat1'"),
    "added column": (["ALTER TABLE run ADD COLUMN note TEXT"], "changed definition of table 'run'"),
    "table replaced by a view": (["DROP TABLE meta", "CREATE VIEW meta AS SELECT 'writer' AS key, "
                                  "hex(randomblob(9)) AS value"], "changed definition of view 'meta'"),
    "dropped index": (["DROP INDEX event_by_run"], "lacks the index 'event_by_run'"),
    "newer schema": (["PRAGMA user_version = 99"],
                     "needs gradscope schema 99 .*newer gradscope.* reads up to schema 2, so update gradscope"),
    "no schema version": (["PRAGMA user_version = 0"], "no valid gradscope schema version"),
    "other application": (["PRAGMA application_id = 42"], "not a gradscope session \\(application_id 42\\)"),
    "shape of wrong size": (["UPDATE series SET shape = '[6]' WHERE name = 'hidden_grad_norm'"],
                            "payload is 20 bytes, shape \\[6\\] of float32 needs 24"),
    "shape not JSON": (["UPDATE series SET shape = '[5' WHERE name = 'hidden_grad_norm'"], "bad shape"),
    "negative shape": (["UPDATE series SET shape = '[-5]' WHERE kind = 'array'"], "bad shape"),
    "fractional shape": (["UPDATE series SET shape = '[2.5]' WHERE kind = 'array'"], "bad shape"),
    "boolean shape": (["UPDATE tensor SET shape = '[true]'"], "bad shape"),
    "deeply nested shape": ([f"UPDATE series SET shape = '{'[' * 2000}{']' * 2000}' WHERE kind = 'array'"],
                            "bad shape"),
    "gigantic shape": (["UPDATE series SET shape = '[100000,100000,100000]' WHERE kind = 'array'"],
                       "exceeds the cap"),
    "gigantic tensor": (["UPDATE tensor SET shape = '[4294967296,4294967296]'"], "exceeds the cap"),
    "short blob": (["UPDATE array_value SET data = substr(data, 1, 3) WHERE length(data) > 3"], "payload is 3 bytes"),
    "text instead of blob": (["UPDATE array_value SET data = 'abc'"], "payload is str, not bytes"),
    "short tensor": (["UPDATE tensor SET data = zeroblob(7)"], "payload is 7 bytes"),
    "unknown dtype": (["UPDATE series SET dtype = 'object' WHERE kind = 'array'"], "unknown dtype 'object'"),
    "half-precision tensor": (["UPDATE tensor SET dtype = 'float16'"], "unknown dtype 'float16'"),
    "odd series kind": (["UPDATE series SET kind = 'pickle'"], "invalid kind 'pickle'"),
    "config not JSON": (["UPDATE run SET config = '{not json'"], "run 0: bad configuration"),
    "config out of range": (["UPDATE run SET config = '{\"hidden\": -5}'"], "run 0: bad configuration.*--hidden"),
    "config infinite int": (["UPDATE run SET config = '{\"hidden\": Infinity}'"], "run 0: bad configuration"),
    "config deeply nested": ([f"UPDATE run SET config = '{'[' * 100000}'"], "run 0: bad configuration"),
    "config too large": (["UPDATE run SET config = '\"' || hex(zeroblob(600000)) || '\"'"],
                         "run 0: the configuration is missing or too large"),
    "config blob": (["UPDATE run SET config = x'00ff'"], "run 0: the configuration is missing"),
    "unknown state": (["UPDATE run SET state = 'exploded'"], "run 0: unknown state 'exploded'"),
    "malformed parent": (["UPDATE run SET parent_run = 'x'"], "malformed parent"),
    "text step": (["UPDATE step SET step = 'abc' WHERE step = 3"], "step index is not an integer"),
    # steps and run ids go into Qt's 32-bit ints (the timeline's spin box, signals): beyond them, refused
    "step beyond 32 bits": ([f"UPDATE step SET step = {2**31} WHERE step = 3"], "not an integer in 0..2147483647"),
    "negative step": (["UPDATE scalar_value SET step = -7 WHERE step = 3"], "not an integer in 0..2147483647"),
    "event step beyond 32 bits": ([f"UPDATE event SET step = {2**40}"], "malformed event"),
    "run id beyond 32 bits": ([f"UPDATE run SET id = {2**33} WHERE id = (SELECT max(id) FROM run)"], "malformed run id"),
    "parent beyond 32 bits": ([f"UPDATE run SET parent_run = 0, parent_step = {2**31}"], "malformed parent"),
    "text scalar": (["UPDATE scalar_value SET value = 'x'"], "value is not a number"),
    "event detail not JSON": (["UPDATE event SET detail = '{'"], "unreadable detail"),
    "event detail a list": (["UPDATE event SET detail = '[1, 2]'"], "detail is not a table"),
    # the hostile-input suite's shape lies: a rank that is not the declaration's, a
    # zero-element shape whose other dimensions are huge, an axis longer than any run has
    "per-timestep array declared []": (["UPDATE series SET shape = '[]' WHERE name = 'hidden_grad_norm'"],
                                       "'hidden_grad_norm' is array of shape \\[\\], but it is declared as timestep"),
    "gate array declared flat": (["UPDATE series SET shape = '[40]' WHERE name = 'gates/forget'"],
                                 "declared as timestep x unit"),
    "zero-element shape of 31 dimensions": ([f"UPDATE series SET shape = '[0{', 2147483648' * 30}]' "
                                             "WHERE name = 'empty'"], "exceeds the cap"),
    "an axis longer than any run's": (["UPDATE series SET dtype = 'bool', shape = '[2000000]' "
                                       "WHERE name = 'hidden_grad_norm'"], "declares 2,000,000 along its timestep axis"),
}


@pytest.mark.timeout(60)
@pytest.mark.parametrize("case", sorted(SQL_CASES))
def test_crafted_file_is_refused_with_a_clear_message(case, pristine, tmp_path):
    statements, message = SQL_CASES[case]
    path = crafted(pristine, tmp_path, *statements)
    with pytest.raises(SessionError, match=message) as caught:
        read_everything(path)
    text = str(caught.value)
    assert text.startswith(str(path)) and "\n" not in text


def test_a_blob_whose_overflow_chain_loops_in_a_sparse_file_is_refused_before_it_is_read(tmp_path):
    """128 MB claimed by a blob whose overflow chain is one page pointing at itself, in a file
    whose header and sparse tail back the claim (50 KB on disk): the byte budget counts the
    disk's blocks, so the series is refused before SQLite is asked for it."""
    path = hostile_files.overflow_loop(tmp_path / "loop.gscope")
    assert os.stat(path).st_size > 100 << 20 and os.stat(path).st_blocks * 512 < 1 << 20
    with pytest.raises(SessionError, match="series 'custom/loop' claims more data than the file holds"):
        read_everything(path)


@pytest.mark.parametrize("table, edit, message", [
    ("series", lambda sql: sql.replace("shape TEXT NOT NULL", "shape TEXT NOT NULL, "
                                       "evil GENERATED ALWAYS AS (abs(-1))"), "changed definition of table 'series'"),
    ("run", lambda sql: sql.replace("NOT NULL", ""), "changed definition of table 'run'"),
    ("step", lambda sql: sql + ";", "changed definition of table 'step'"),
])
def test_schema_text_edits_are_refused(table, edit, message, pristine, tmp_path):
    with pytest.raises(SessionError, match=message):
        read_everything(schema_sql(pristine, tmp_path, table, edit))


def test_appending_to_a_crafted_file_is_refused_before_anything_runs(pristine, tmp_path):
    from gradscope.session import SessionWriter
    path = crafted(pristine, tmp_path, "CREATE TABLE log (x)",
                   "CREATE TRIGGER evil AFTER INSERT ON run BEGIN INSERT INTO log VALUES (1); END")
    with pytest.raises(SessionError, match="unexpected"):
        SessionWriter(path, append=True)
    db = sqlite3.connect(path)
    assert db.execute("SELECT count(*) FROM log").fetchone()[0] == 0
    db.close()


def test_a_session_without_runs_opens_and_says_so(pristine, tmp_path):
    path = crafted(pristine, tmp_path, "DELETE FROM run")
    with open_session(path) as session:
        assert session.runs == []
        with pytest.raises(MissingEntryError, match="has no run 0 \\(runs: \\[\\]\\)"):
            session.run(0)


def _foreign_sqlite(path: Path) -> None:
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE contacts (name TEXT, phone TEXT)")
    db.commit()
    db.close()


@pytest.mark.parametrize("make, message", [
    (lambda p: p.write_bytes(b""), "is empty"),
    (lambda p: p.write_text("just some lecture notes\n" * 20), "not an SQLite database"),
    (lambda p: p.write_bytes(random.Random(1).randbytes(5000)), "not an SQLite database"),
    (lambda p: p.write_bytes(b"SQLite format 3\x00" + bytes(30)), "truncated"),
    (_foreign_sqlite, "not a gradscope session \\(application_id 0\\)"),
    (lambda p: p.mkdir(), "is a directory"),
    (lambda p: os.mkfifo(p), "is not a regular file"),
    (lambda p: None, "no such session file"),
])
def test_foreign_and_broken_files(make, message, tmp_path):
    path = tmp_path / "odd.gscope"
    make(path)
    with pytest.raises(SessionError, match=message):
        read_everything(path)


def _mutations(pristine: bytes, count: int, seed: int, page: int = 0) -> list[tuple[str, bytes]]:
    """Seeded truncations and byte flips, aimed at the header, page headers and page 1."""
    rng = random.Random(seed)
    size, page = len(pristine), page or int.from_bytes(pristine[16:18], "big") or 65536
    out = [(f"truncate {n}", pristine[:n]) for n in sorted(
        {0, 1, 99, 100, 101, page - 1, page, page + 1, size - 1, *rng.sample(range(size), 40)})]
    while len(out) < count:
        data = bytearray(pristine)
        where = rng.choice(["header", "page header", "page 1", "anywhere"])
        flips = rng.choice([1, 1, 2, 8])
        for _ in range(flips):
            if where == "header":
                at = rng.randrange(100)
            elif where == "page header":
                at = rng.randrange(size // page) * page + rng.randrange(12) + (100 if rng.random() < .2 else 0)
            elif where == "page 1":
                at = rng.randrange(page)
            else:
                at = rng.randrange(size)
            if rng.random() < 0.5:
                data[at] ^= 1 << rng.randrange(8)
            else:
                data[at] = rng.randrange(256)
        out.append((f"{flips} byte(s) in {where}", bytes(data)))
    return out


@pytest.mark.timeout(120)
def test_fuzzed_files_give_session_errors_or_valid_sessions(pristine, tmp_path):
    outcomes = {"ok": 0, "refused": 0}
    mutations = _mutations(pristine, count=600, seed=20240611)
    for index, (label, data) in enumerate(mutations):
        folder = tmp_path / str(index)
        folder.mkdir()
        path = folder / "fuzzed.gscope"
        path.write_bytes(data)
        started = time.monotonic()
        try:
            read_everything(path)
            outcomes["ok"] += 1
        except SessionError as exc:
            assert str(exc).startswith(str(path)) and "\n" not in str(exc)
            outcomes["refused"] += 1
        except Exception as exc:  # the failure this test exists to catch
            pytest.fail(f"mutation {index} ({label}) raised {type(exc).__name__}: {exc}")
        elapsed = time.monotonic() - started
        assert elapsed < PER_FILE_SECONDS, f"mutation {index} ({label}) took {elapsed:.1f} s"
        shutil.rmtree(folder)
    # both outcomes must occur, or the mutations are not exercising the reader
    assert outcomes["ok"] >= 20 and outcomes["refused"] >= 50, outcomes


@pytest.fixture(scope="module")
def crashed(tmp_path_factory) -> tuple[bytes, bytes]:
    """The main file and WAL of a recording caught mid-run, as a kill leaves them."""
    from session_samples import make_record
    from gradscope.config import RunConfig
    from gradscope.session import SessionWriter
    path = tmp_path_factory.mktemp("crashed") / "live.gscope"
    writer = SessionWriter(path, commit_interval=3600)
    run_id = writer.start_run(RunConfig(), {"x": make_record(0, probed=True).arrays["gates/forget"]})
    for step in range(8):
        writer.add_step(run_id, make_record(step, probed=step % 2 == 0))
    writer.commit()
    main, wal = path.read_bytes(), Path(str(path) + "-wal").read_bytes()
    writer.close()
    assert len(wal) > 0
    return main, wal


@pytest.mark.timeout(60)
def test_fuzzed_write_ahead_logs_give_session_errors_or_valid_sessions(crashed, tmp_path):
    main, wal = crashed
    outcomes = {"ok": 0, "refused": 0}
    for index, (label, data) in enumerate(_mutations(wal, count=120, seed=7, page=24 + 16384)):
        folder = tmp_path / str(index)
        folder.mkdir()
        path = folder / "live.gscope"
        path.write_bytes(main)
        Path(str(path) + "-wal").write_bytes(data)
        try:
            read_everything(path)
            outcomes["ok"] += 1
        except SessionError:
            outcomes["refused"] += 1
        except Exception as exc:
            pytest.fail(f"WAL mutation {index} ({label}) raised {type(exc).__name__}: {exc}")
        shutil.rmtree(folder)
    assert outcomes["ok"] >= 20, outcomes  # a torn WAL tail must still leave the committed part readable


def test_a_run_whose_arrays_together_claim_more_than_the_file_holds_is_refused_whole(pristine, tmp_path):
    """Rows of a crafted file can share overflow pages: each series fits the byte budget alone
    while the run's arrays together do not. An export or a replay, which reads them all, is
    refused before any is read; a single series still loads."""
    path = crafted(pristine, tmp_path)
    with open_session(path) as session:
        run = session.runs[0]
        sizes = {name: run.series(name).nbytes for name, (kind, _, _) in run.series_names().items()
                 if kind == "array"}
        session.runs[0]._db.byte_budget = max(sizes.values()) + 64      # as if the disk held no more
        run.series(max(sizes, key=sizes.get))
        with pytest.raises(SessionError, match="run 0: its arrays claim more data than the file holds"):
            run.check_size()


def test_the_deadline_bounds_sqlite_work_not_the_time_a_caller_takes_between_batches(pristine, tmp_path):
    """A long but honest file read by slow code is not taken for one crafted to hang."""
    from gradscope.session.hardened import HardenedConnection

    path = crafted(pristine, tmp_path)
    db = HardenedConnection(path, timeout=0.5)
    try:
        rows = 0
        for _ in db.iterate("SELECT a.step + b.step + c.step FROM scalar_value a, scalar_value b, scalar_value c "
                            "LIMIT 10000"):
            if rows % 4096 == 0:
                time.sleep(0.3)       # once a batch: 0.9 s in all, past the 0.5 s deadline
            rows += 1
        assert rows == 10000
        with pytest.raises(SessionError, match="reading took longer than 0.5 s"):
            db.query(LONG_QUERY)
    finally:
        db.close()


# seconds of SQLite's own work on any small session: a five-fold product of its scalar rows
LONG_QUERY = ("SELECT count(a.step + b.step + c.step + d.step + e.step) FROM scalar_value a, scalar_value b, "
              "scalar_value c, scalar_value d, "
              "scalar_value e")
CTRL_C_IN_A_QUERY = """
import os, signal, sys, threading
from gradscope.session.hardened import HardenedConnection
db = HardenedConnection(sys.argv[1], timeout=30)
threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGINT)).start()
try:
    db.query("%s")
except KeyboardInterrupt:
    print("KeyboardInterrupt")
except Exception as error:
    print(type(error).__name__, error)
""" % LONG_QUERY


def test_ctrl_c_while_sqlite_works_is_the_users_interrupt_not_a_hostile_file(pristine, tmp_path):
    import subprocess
    import sys

    path = crafted(pristine, tmp_path)
    repo = Path(__file__).resolve().parents[2]
    child = subprocess.run([sys.executable, "-c", CTRL_C_IN_A_QUERY, str(path)], capture_output=True, text=True,
                           timeout=60, env={**os.environ, "PYTHONPATH": str(repo)})
    assert child.stdout.strip() == "KeyboardInterrupt", child.stdout + child.stderr
