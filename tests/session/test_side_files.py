"""The files beside a session: a junk journal, a real one a crash left, a -wal from another
session or a damaged one, a WAL-flagged file without its log. Reading never creates a side
file and never applies what is not the file's own without saying so; writing refuses until
`gradscope recover` has dealt with it; recover keeps everything it sets aside."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import numpy as np
import pytest

from crashed import REPO, killed_recording
from gradscope.cli import main
from gradscope.config import RunConfig
from gradscope.records import StepRecord
from gradscope.session import SessionError, SessionWriter, add_bookmark, open_session
from gradscope.session.side_files import JOURNAL_MAGIC

pytestmark = pytest.mark.timeout(120)


def listing(folder: Path) -> list[str]:
    return sorted(os.listdir(folder))


def steps_of(path: Path) -> list[int]:
    with open_session(path) as session:
        return [int(step) for step in session.run(0).steps]


def finished(path: Path, steps: int = 12) -> Path:
    with SessionWriter(path) as writer:
        run = writer.start_run(RunConfig(hidden=4))
        for step in range(steps):
            writer.add_step(run, StepRecord(step, {"loss": 1.0 / (step + 1)}, {"hidden_grad_norm": np.ones(50)}))
    return path


@pytest.fixture(scope="module")
def crashed_pair(tmp_path_factory) -> tuple[Path, Path]:
    """Two recordings killed mid-run, each with its -wal and -shm left behind."""
    folder = tmp_path_factory.mktemp("crashed")
    first, second = folder / "first.gscope", folder / "second.gscope"
    killed_recording(first, 60)
    killed_recording(second, 200)
    return first, second


def copy_with(source: Path, folder: Path, name: str, suffixes=("-wal", "-shm")) -> Path:
    target = folder / name
    shutil.copyfile(source, target)
    for suffix in suffixes:
        if Path(f"{source}{suffix}").exists():
            shutil.copyfile(f"{source}{suffix}", f"{target}{suffix}")
    return target


def run_cli(capsys, *args) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


# -- a junk journal --------------------------------------------------------------------------

def test_a_junk_journal_is_ignored_with_a_warning_and_recover_sets_it_aside(tmp_path, capsys):
    path = finished(tmp_path / "lesson.gscope")
    junk = b"not a journal at all " * 40
    Path(f"{path}-journal").write_bytes(junk)
    before = listing(tmp_path)
    with open_session(path) as session:
        assert len(session.runs[0].steps) == 12
        assert len(session.notices) == 1 and "lesson.gscope-journal" in session.notices[0]
        assert "gradscope recover" in session.notices[0]
    assert listing(tmp_path) == before, "reading created or removed a side file"
    code, out, _ = run_cli(capsys, "info", str(path))
    assert code == 0 and "warning: lesson.gscope-journal beside it is not an SQLite journal" in out
    # a writer would let SQLite act on it: refused, with the way out
    with pytest.raises(SessionError, match="gradscope recover"):
        SessionWriter(path, append=True)
    with pytest.raises(SessionError, match="gradscope recover"):
        add_bookmark(path, run_id=0, step=3, note="here")
    assert listing(tmp_path) == before
    code, _, err = run_cli(capsys, "recover", str(path))
    assert code == 0 and "set aside lesson.gscope-journal" in err and "12 step(s)" in err
    assert Path(f"{path}-journal.set-aside").read_bytes() == junk, "what is set aside is kept whole"
    with open_session(path) as session:
        assert session.notices == () and len(session.runs[0].steps) == 12
    add_bookmark(path, run_id=0, step=3, note="here")


# -- a journal a crash left ---------------------------------------------------------------------

HALF_WRITTEN = textwrap.dedent("""
    import sqlite3, sys, time
    conn = sqlite3.connect(sys.argv[1], isolation_level=None)
    conn.execute("PRAGMA cache_size = 1")       # spill to the file: the journal is written first
    conn.execute("BEGIN")
    conn.execute("DELETE FROM step")
    conn.execute("DELETE FROM scalar_value")
    conn.execute("DELETE FROM array_value")
    print("half", flush=True)
    time.sleep(60)
""")


def test_a_real_journal_from_a_crash_is_refused_and_recover_rolls_it_back(tmp_path, capsys):
    path = finished(tmp_path / "crashed.gscope", steps=400)
    child = subprocess.Popen([sys.executable, "-c", HALF_WRITTEN, str(path)], stdout=subprocess.PIPE, text=True,
                             cwd=REPO)
    try:
        assert child.stdout.readline().strip() == "half"
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
        child.stdout.close()
    journal = Path(f"{path}-journal")
    assert journal.read_bytes()[:8] == JOURNAL_MAGIC, "the kill should leave a hot journal"
    code, _, err = run_cli(capsys, "info", str(path))
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "a write that a crash left unfinished" in err and "gradscope recover" in err
    code, _, err = run_cli(capsys, "recover", str(path))
    assert code == 0, err
    assert "rolled back the unfinished write" in err
    assert steps_of(path) == list(range(400)), "the rollback gives the file back as it was before the write"
    assert not journal.exists()


# -- WAL mode without a log ------------------------------------------------------------------------

def test_a_wal_flagged_file_without_its_log_is_read_without_creating_side_files(tmp_path):
    path = finished(tmp_path / "flagged.gscope")
    data = bytearray(path.read_bytes())
    data[18] = data[19] = 2                    # what a copy taken while recording looks like
    path.write_bytes(bytes(data))
    before = listing(tmp_path)
    assert steps_of(path) == list(range(12))
    assert listing(tmp_path) == before == ["flagged.gscope"]


# -- a recording killed mid-run ----------------------------------------------------------------------

def private_copies() -> set[str]:
    return {name for name in os.listdir(tempfile.gettempdir()) if name.startswith("gradscope-read-")}


def test_a_crashed_recording_is_read_whole_without_new_side_files(crashed_pair, tmp_path):
    first, _ = crashed_pair
    (tmp_path / "a").mkdir()
    with_index = copy_with(first, tmp_path / "a", "with-index.gscope")
    before = listing(tmp_path / "a")
    steps = steps_of(with_index)
    assert len(steps) >= 60 and steps == list(range(len(steps)))
    assert listing(tmp_path / "a") == before
    # without its -shm (copied without it, or deleted): read through a private copy, removed after
    (tmp_path / "b").mkdir()
    bare = copy_with(first, tmp_path / "b", "bare.gscope", suffixes=("-wal",))
    copies = private_copies()
    with open_session(bare) as session:
        assert session.notices == ()
        assert [int(step) for step in session.run(0).steps] == steps
    assert listing(tmp_path / "b") == ["bare.gscope", "bare.gscope-wal"]
    assert private_copies() == copies


def test_a_wal_grown_sparse_past_its_frames_is_read_without_copying_the_holes(crashed_pair, tmp_path):
    """A -wal without its -shm is read through a private copy: only its good frames are copied,
    so one truncated up to 20 GB (sparse, nothing on disk) reads as fast as before."""
    first, _ = crashed_pair
    bare = copy_with(first, tmp_path, "bare.gscope", suffixes=("-wal",))
    steps = steps_of(copy_with(first, tmp_path, "plain.gscope"))
    os.truncate(f"{bare}-wal", 20 << 30)
    logs = lambda: set(Path(tempfile.gettempdir()).glob("gradscope-read-*/session.gscope-wal"))   # noqa: E731
    before = logs()
    with open_session(bare) as session:
        assert [int(step) for step in session.run(0).steps] == steps
        copied = logs() - before
        assert len(copied) == 1 and next(iter(copied)).stat().st_size < 64 << 20


# -- a -wal from another session -------------------------------------------------------------------

def test_a_wal_of_another_session_is_ignored_named_and_set_aside(crashed_pair, tmp_path, capsys):
    first, second = crashed_pair
    own = steps_of(copy_with(first, tmp_path, "own.gscope"))
    alone = tmp_path / "mixed.gscope"
    shutil.copyfile(first, alone)
    with open_session(alone) as session:          # the file alone, before its log: what is safe to show
        shown_alone = [len(run.steps) for run in session.runs]
    shutil.copyfile(f"{second}-wal", f"{alone}-wal")
    with open_session(alone) as session:
        assert [len(run.steps) for run in session.runs] == shown_alone
        assert any("belongs to another session" in notice for notice in session.notices)
    with pytest.raises(SessionError, match="gradscope recover"):
        SessionWriter(alone, append=True)
    code, _, err = run_cli(capsys, "recover", str(alone))
    assert code == 0 and "set aside mixed.gscope-wal (not this file's log)" in err, err
    assert Path(f"{alone}-wal.set-aside").read_bytes() == Path(f"{second}-wal").read_bytes()
    with open_session(alone) as session:
        assert session.notices == () and [len(run.steps) for run in session.runs] == shown_alone
    assert len(own) >= 60


# -- a damaged -wal --------------------------------------------------------------------------------

def test_a_damaged_wal_is_read_to_its_last_good_commit_and_says_so(crashed_pair, tmp_path, capsys):
    first, _ = crashed_pair
    whole = steps_of(copy_with(first, tmp_path, "whole.gscope"))
    damaged = copy_with(first, tmp_path, "damaged.gscope", suffixes=("-wal",))
    log = bytearray(Path(f"{damaged}-wal").read_bytes())
    size, frames = 16384 + 24, 0
    # the log's own frames carry its salts; past them lies the room a writer keeps allocated
    while 32 + (frames + 1) * size <= len(log) and log[32 + frames * size + 8:32 + frames * size + 16] == log[16:24]:
        frames += 1
    assert frames >= 3
    log[32 + (frames - 1) * (16384 + 24) + 24 + 100] ^= 0xFF      # the last frame's page
    Path(f"{damaged}-wal").write_bytes(bytes(log))
    with open_session(damaged) as session:
        kept = [int(step) for step in session.run(0).steps] if session.runs else []
        assert len(session.notices) == 1 and "damaged after its commit" in session.notices[0]
    assert kept == whole[:len(kept)] and len(kept) < len(whole)
    code, out, _ = run_cli(capsys, "info", str(damaged))
    assert code == 0 and "warning: damaged.gscope-wal beside it is damaged" in out
    code, _, err = run_cli(capsys, "recover", str(damaged))
    assert code == 0 and "kept a copy of the damaged damaged.gscope-wal" in err, err
    assert Path(f"{damaged}-wal.set-aside").read_bytes() == bytes(log)
    with open_session(damaged) as session:
        assert session.notices == ()
        assert ([int(step) for step in session.run(0).steps] if session.runs else []) == kept


def test_recover_refuses_a_file_that_is_being_recorded(tmp_path, capsys):
    path = tmp_path / "live.gscope"
    with SessionWriter(path) as writer:
        run = writer.start_run(RunConfig(hidden=4))
        writer.add_step(run, StepRecord(0, {"loss": 1.0}))
        writer.commit()
        code, _, err = run_cli(capsys, "recover", str(path))
        assert code == 2 and "is being written" in err, err
        writer.add_step(run, StepRecord(1, {"loss": 0.5}))
    assert steps_of(path) == [0, 1]
