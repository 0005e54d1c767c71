"""Bookmarks and schema 2: version 1 files read as before, upgrade in place when written to,
newer files say what they need, hostile bookmark rows are refused, and the API round-trips.
Bookmarks added during a recording are tested in test_bookmarks_live.py."""
from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

import numpy as np
import pytest

from session_samples import make_record, write_sample
from gradscope.config import RunConfig
from gradscope.session import (APPLICATION_ID, SCHEMA_VERSION, Bookmark, MissingEntryError, SessionError,
                               SessionWriter, add_bookmark, edit_bookmark, format_info, open_session,
                               remove_bookmark, session_info)
from gradscope.session import schema

# Schema 1 exactly as gradscope 1 wrote it, copied here so that an edit of schema.DDL[1] fails.
V1_DDL = (
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID",
    "CREATE TABLE run (id INTEGER PRIMARY KEY, config TEXT NOT NULL, parent_run INTEGER, "
    "parent_step INTEGER, state TEXT NOT NULL, created REAL NOT NULL)",
    "CREATE TABLE series (id INTEGER PRIMARY KEY, run_id INTEGER NOT NULL, name TEXT NOT NULL, "
    "kind TEXT NOT NULL, dtype TEXT NOT NULL, shape TEXT NOT NULL, UNIQUE (run_id, name))",
    "CREATE TABLE step (run_id INTEGER NOT NULL, step INTEGER NOT NULL, "
    "wall_time REAL NOT NULL, PRIMARY KEY (run_id, step)) WITHOUT ROWID",
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
)
V1_CONFIG = RunConfig(arch="gru", hidden=4, seq_len=3)
V1_STEPS = 5


def hidden_at(step: int) -> np.ndarray:
    return np.array([step, step + 0.5, -step], dtype=np.float32)


def write_v1(path: Path) -> None:
    """A schema 1 file laid out by hand with SQL, as gradscope 1 recorded one run of 5 steps."""
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA page_size = 16384")
    db.execute("BEGIN")
    db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    db.execute("PRAGMA user_version = 1")
    for statement in V1_DDL:
        db.execute(statement)
    db.execute("INSERT INTO meta VALUES ('writer', 'gradscope 0.1.0')")
    db.execute("INSERT INTO run VALUES (0, ?, NULL, NULL, 'finished', 1700000000.0)", (V1_CONFIG.to_json(),))
    db.execute("INSERT INTO series VALUES (0, 0, 'loss', 'scalar', 'float64', '[]')")
    db.execute("INSERT INTO series VALUES (1, 0, 'hidden_grad_norm', 'array', 'float32', '[3]')")
    for step in range(V1_STEPS):
        db.execute("INSERT INTO step VALUES (0, ?, ?)", (step, 1700000000.0 + step))
        db.execute("INSERT INTO scalar_value VALUES (0, ?, ?)", (step, 1.0 / (step + 1)))
        db.execute("INSERT INTO array_value VALUES (1, ?, ?)", (step, hidden_at(step).astype("<f4").tobytes()))
    db.execute("INSERT INTO event VALUES (0, 0, 2, 'lr_changed', '{\"lr\": 0.5}', 1700000002.0)")
    db.execute("INSERT INTO checkpoint VALUES (0, 0)")
    db.execute("INSERT INTO tensor VALUES (0, 0, 'weight', 0, 'w', 'float32', '[2,2]', ?)",
               (np.eye(2, dtype="<f4").tobytes(),))
    db.execute("INSERT INTO tensor VALUES (1, 0, 'probe', 0, 'x', 'int64', '[2]', ?)",
               (np.array([7, 8], dtype="<i8").tobytes(),))
    db.execute("COMMIT")
    db.close()


def assert_v1_data(run) -> None:
    assert run.id == 0 and run.config == V1_CONFIG and run.state.value == "finished" and run.parent is None
    assert list(run.steps) == list(range(V1_STEPS))
    np.testing.assert_array_equal(run.series("loss"), 1.0 / (np.arange(V1_STEPS) + 1))
    np.testing.assert_array_equal(run.series("hidden_grad_norm"), np.stack([hidden_at(s) for s in range(V1_STEPS)]))
    assert run.record(3).arrays["hidden_grad_norm"].tolist() == hidden_at(3).tolist()
    # read as this version writes it: one kind for every setting change
    assert [(e.step, e.kind, dict(e.detail)) for e in run.events] == [(2, "settings_changed", {"lr": 0.5})]
    assert run.checkpoint(0).weights["w"].tolist() == np.eye(2).tolist()
    assert run.probe_batch["x"].tolist() == [7, 8]


def user_version(path: Path) -> int:
    db = sqlite3.connect(path)
    try:
        return db.execute("PRAGMA user_version").fetchone()[0]
    finally:
        db.close()


def one_line_naming(error: pytest.ExceptionInfo, path: Path) -> bool:
    return str(error.value).startswith(str(path)) and "\n" not in str(error.value)


@pytest.fixture
def v1(tmp_path) -> Path:
    path = tmp_path / "old.gscope"
    write_v1(path)
    return path


# -- versions ----------------------------------------------------------------------------------

def test_schema_1_is_frozen_and_schema_2_only_adds_the_bookmarks():
    assert SCHEMA_VERSION == 2 and schema.DDL[1] == V1_DDL
    assert schema.DDL[2][:len(V1_DDL)] == V1_DDL and schema.DDL[2][len(V1_DDL):] == schema.UPGRADES[1]


def test_a_version_1_file_reads_as_before_without_being_touched(v1):
    before = v1.read_bytes()
    with open_session(v1) as session:
        assert session.schema_version == 1 and session.meta["writer"] == "gradscope 0.1.0"
        run = session.run(0)
        assert_v1_data(run)
        assert run.bookmarks == []
        summary = session_info(session)
    assert summary["schema_version"] == 1 and summary["runs"][0]["bookmarks"] == []
    assert "bookmarks: 0" in format_info(summary)
    assert v1.read_bytes() == before and user_version(v1) == 1


def test_adding_a_bookmark_upgrades_a_version_1_file_in_place(v1):
    bookmark = add_bookmark(v1, 0, 3, "the gate closes")
    assert user_version(v1) == 2
    with open_session(v1) as session:
        assert session.schema_version == 2
        assert_v1_data(session.run(0))
        assert session.run(0).bookmarks == [bookmark]
    assert bookmark.run_id == 0 and bookmark.step == 3 and bookmark.note == "the gate closes"
    assert abs(bookmark.created - time.time()) < 60


def test_a_failed_upgrade_leaves_the_version_1_file_as_it_was(v1, monkeypatch):
    before = v1.read_bytes()
    monkeypatch.setitem(schema.UPGRADES, 1, (schema.UPGRADES[1][0], "CREATE INDEX broken ON nowhere (x)"))
    with pytest.raises(SessionError, match="cannot write"):
        add_bookmark(v1, 0, 3, "x")
    assert v1.read_bytes() == before
    with open_session(v1) as session:
        assert session.schema_version == 1
        assert_v1_data(session.run(0))


def test_appending_a_run_to_a_version_1_file_upgrades_it(v1):
    with SessionWriter(v1, append=True) as writer:
        run_id = writer.start_run(RunConfig(), {})
        for step in range(4):
            writer.add_step(run_id, make_record(step, probed=step == 2))
    with open_session(v1) as session:
        assert session.schema_version == 2 and [run.id for run in session.runs] == [0, 1]
        assert_v1_data(session.run(0))
        assert list(session.run(1).steps) == [0, 1, 2, 3]
    add_bookmark(v1, 1, 2, "new run")
    with open_session(v1) as session:
        assert [b.note for b in session.run(1).bookmarks] == ["new run"] and session.run(0).bookmarks == []


def test_a_file_from_a_newer_schema_says_which_it_needs(tmp_path):
    path = tmp_path / "future.gscope"
    write_sample(path, steps=3)
    db = sqlite3.connect(path)
    db.execute("PRAGMA user_version = 3")
    db.close()
    before = path.read_bytes()
    for attempt in (lambda: open_session(path), lambda: session_info(path),
                    lambda: add_bookmark(path, 0, 1, "x"), lambda: SessionWriter(path, append=True)):
        with pytest.raises(SessionError, match="needs gradscope schema 3 .*reads up to schema 2, "
                                               "so update gradscope") as caught:
            attempt()
        assert one_line_naming(caught, path)
    assert path.read_bytes() == before


# -- the bookmark API ----------------------------------------------------------------------------

def test_add_edit_and_remove_round_trip(sample):
    path, _ = sample
    late = add_bookmark(path, 0, 9, "late")
    early = add_bookmark(path, 0, np.int64(2), "early")  # a step straight from run.steps
    other = add_bookmark(path, 1, 5, "")
    assert (early.step, type(early.step)) == (2, int)
    edited = edit_bookmark(path, late.id, "later, edited")
    assert edited == Bookmark(late.id, 0, 9, "later, edited", late.created)
    with open_session(path) as session:
        assert session.run(0).bookmarks == [early, edited]   # ordered by step
        assert session.run(1).bookmarks == [other]
        summary = session_info(session)
    assert [b["note"] for b in summary["runs"][0]["bookmarks"]] == ["early", "later, edited"]
    assert json.loads(json.dumps(summary)) == summary
    assert f"step 9: later, edited  [#{late.id}]" in format_info(summary)
    assert remove_bookmark(path, early.id) == early
    with open_session(path) as session:
        assert session.run(0).bookmarks == [edited]
    with pytest.raises(MissingEntryError, match=f"has no bookmark {early.id}"):
        remove_bookmark(path, early.id)
    with pytest.raises(MissingEntryError, match="has no bookmark 999"):
        edit_bookmark(path, 999, "x")


def test_info_shows_notes_on_one_line_without_terminal_escapes(sample):
    path, _ = sample
    add_bookmark(path, 0, 1, "two\nlines \x1b[31mred")
    text = format_info(session_info(path))
    assert "step 1: two lines [31mred" in text and "\x1b" not in text


@pytest.mark.parametrize("args, error, message", [
    ((0, 3, "x" * (schema.MAX_NOTE_CHARS + 1)), ValueError, "at most 2000 characters, not 2001"),
    ((0, 3, b"bytes"), TypeError, "note must be text"),
    ((0, 3, "\ud800"), ValueError, "valid text"),
    ((0, 2.0, "x"), TypeError, "step must be an integer, not float"),
    ((0, True, "x"), TypeError, "step must be an integer, not bool"),
    ((0, 2**70, "x"), ValueError, "out of range"),
    (("0", 3, "x"), TypeError, "run_id must be an integer"),
    ((7, 3, "x"), MissingEntryError, "has no run 7"),
    ((0, 99, "x"), MissingEntryError, "run 0 has no recorded step 99"),
    ((0, -1, "x"), MissingEntryError, "run 0 has no recorded step -1"),
])
def test_bad_bookmarks_are_refused_and_leave_the_file_alone(v1, args, error, message):
    before = v1.read_bytes()
    with pytest.raises(error, match=message):
        add_bookmark(v1, *args)
    assert v1.read_bytes() == before and user_version(v1) == 1


def test_a_note_at_the_cap_fits(sample):
    path, _ = sample
    note = "é" * schema.MAX_NOTE_CHARS
    add_bookmark(path, 0, 0, note)
    assert open_session(path).run(0).bookmarks[0].note == note


def test_editing_or_removing_in_a_version_1_file_finds_nothing_and_does_not_upgrade(v1):
    for attempt in (lambda: edit_bookmark(v1, 1, "x"), lambda: remove_bookmark(v1, 1)):
        with pytest.raises(MissingEntryError, match="has no bookmark 1"):
            attempt()
    assert user_version(v1) == 1


def test_the_number_of_bookmarks_per_run_is_capped(sample, monkeypatch):
    path, _ = sample
    monkeypatch.setattr(schema, "MAX_BOOKMARKS", 3)
    for step in range(3):
        add_bookmark(path, 0, step, f"{step}")
    with pytest.raises(SessionError, match="already has 3 bookmarks, the most .* is 3") as caught:
        add_bookmark(path, 0, 4, "one too many")
    assert one_line_naming(caught, path)
    add_bookmark(path, 1, 4, "another run has room")


# -- hostile bookmark rows -----------------------------------------------------------------------

@pytest.fixture
def bookmarked(sample) -> Path:
    path, _ = sample
    add_bookmark(path, 0, 3, "pristine")
    return path


def craft(path: Path, *statements: str) -> None:
    db = sqlite3.connect(path, isolation_level=None)
    for statement in statements:
        db.execute(statement)
    db.close()


@pytest.mark.parametrize("statements, message", [
    (["UPDATE bookmark SET note = hex(zeroblob(1001))"], "bookmark 1: the note is longer than 2000 characters"),
    (["UPDATE bookmark SET note = x'00ff'"], "bookmark 1: the note is not text"),
    (["UPDATE bookmark SET step = 'abc'"], "bookmark 1: the step is not an integer in 0..2147483647 \\('abc'\\)"),
    (["UPDATE bookmark SET step = 2.5"], "bookmark 1: the step is not an integer"),
    (["UPDATE bookmark SET created = 'yesterday'"], "bookmark 1: malformed creation time"),
    (["UPDATE bookmark SET created = 1e999"], "bookmark 1: malformed creation time"),
    (["INSERT INTO bookmark (run_id, step, note, created) SELECT 0, 1, '', 0 FROM "
      "(WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10000) SELECT i FROM n)"],
     "run 0: has more than 10000 bookmarks"),
    (["DROP INDEX bookmark_by_run"], "lacks the index 'bookmark_by_run'"),
    (["DROP TABLE bookmark"], "lacks the (index|table) 'bookmark"),
    (["PRAGMA user_version = 1"], "unexpected (index|table) 'bookmark"),
    (["ALTER TABLE bookmark ADD COLUMN colour TEXT"], "changed definition of table 'bookmark'"),
])
def test_hostile_bookmark_rows_are_refused_with_a_clear_message(bookmarked, statements, message):
    craft(bookmarked, *statements)
    with pytest.raises(SessionError, match=message) as caught:
        with open_session(bookmarked) as session:
            for run in session.runs:
                _ = run.bookmarks
            format_info(session_info(session))
    assert one_line_naming(caught, bookmarked)


def test_a_trigger_in_a_strangers_file_never_fires_on_a_bookmark(bookmarked):
    craft(bookmarked, "CREATE TABLE log (x)",
          "CREATE TRIGGER evil AFTER INSERT ON bookmark BEGIN INSERT INTO log VALUES (1); END")
    for attempt in (lambda: add_bookmark(bookmarked, 0, 1, "x"), lambda: edit_bookmark(bookmarked, 1, "y"),
                    lambda: remove_bookmark(bookmarked, 1)):
        with pytest.raises(SessionError, match="unexpected"):
            attempt()
    db = sqlite3.connect(bookmarked)
    assert db.execute("SELECT count(*) FROM log").fetchone()[0] == 0
    assert db.execute("SELECT note FROM bookmark").fetchall() == [("pristine",)]
    db.close()


def test_editing_a_hostile_row_is_refused(bookmarked):
    craft(bookmarked, "UPDATE bookmark SET step = 'abc'")
    with pytest.raises(SessionError, match="step is not an integer"):
        edit_bookmark(bookmarked, 1, "x")
