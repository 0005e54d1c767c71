"""Bookmarks added while a recording is still writing the file are kept, and the recording
goes on undisturbed: from another thread of this process and from another process."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import numpy as np
import pytest

from gradscope.config import RunConfig
from gradscope.records import Checkpoint, StepRecord
from gradscope.session import SessionError, SessionWriter, add_bookmark, open_session

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.timeout(60)
def test_bookmarks_added_while_this_process_records_are_kept(tmp_path):
    path = tmp_path / "live.gscope"
    writer = SessionWriter(path, commit_interval=3600)
    run_id = writer.start_run(RunConfig(), {})
    for step in range(5):
        writer.add_step(run_id, StepRecord(step, {"loss": float(step)}))
    writer.commit()
    first = add_bookmark(path, run_id, 2, "between commits")
    writer.add_step(run_id, StepRecord(5, {"loss": 5.0}))   # the writer holds the lock again
    with pytest.raises(SessionError, match="is busy.*0.2 s; try again") as caught:
        add_bookmark(path, run_id, 4, "gives up", timeout=0.2)
    assert str(caught.value).startswith(str(path)) and "\n" not in str(caught.value)
    # another thread (the GUI's) waits for the recorder's next commit instead
    added = []
    waiting = threading.Thread(target=lambda: added.append(add_bookmark(path, run_id, 5, "waited")))
    waiting.start()
    waiting.join(timeout=0.3)
    assert waiting.is_alive(), "the bookmark should wait for the recorder's commit"
    writer.commit()
    waiting.join(timeout=10)
    assert not waiting.is_alive() and added and added[0].step == 5
    for step in range(6, 10):
        writer.add_step(run_id, StepRecord(step, {"loss": float(step)}))
    writer.add_checkpoint(run_id, Checkpoint(9, {"w": np.ones(2, dtype=np.float32)}))
    writer.close()
    assert not Path(str(path) + "-wal").exists()
    with open_session(path) as session:
        run = session.run(run_id)
        assert list(run.steps) == list(range(10)) and list(run.series("loss")) == list(range(10))
        assert [(b.step, b.note) for b in run.bookmarks] == [(2, "between commits"), (5, "waited")]
        assert run.bookmarks[0] == first


RECORDER = textwrap.dedent("""
    import os, sys
    from gradscope.config import RunConfig
    from gradscope.records import StepRecord
    from gradscope.session import SessionWriter

    path, stop = sys.argv[1], sys.argv[2]
    writer = SessionWriter(path, commit_interval=0.01)
    run_id = writer.start_run(RunConfig(hidden=4), {})
    step = 0
    while not os.path.exists(stop):
        writer.add_step(run_id, StepRecord(step, {"loss": 1.0 / (step + 1)}))
        step += 1
        if not writer.has_uncommitted:
            print(step, flush=True)
    writer.close()
    print("closed", step, flush=True)
""")


@pytest.mark.timeout(60)
def test_bookmarks_added_while_another_process_records_are_kept(tmp_path):
    path, stop = tmp_path / "live.gscope", tmp_path / "stop"
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    child = subprocess.Popen([sys.executable, "-c", RECORDER, str(path), str(stop)],
                             stdout=subprocess.PIPE, text=True, env=env, cwd=REPO)
    added = []
    try:
        while len(added) < 20:
            line = child.stdout.readline()
            assert line, f"the recorder died (exit {child.poll()})"
            committed = int(line)
            added.append(add_bookmark(path, 0, committed - 1, f"at {committed - 1}"))
        stop.touch()
        last = child.stdout.read().split()
        assert child.wait(timeout=30) == 0
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        child.stdout.close()
    assert last[-2] == "closed"
    with open_session(path) as session:
        run = session.run(0)
        assert list(run.steps) == list(range(int(last[-1])))
        assert run.bookmarks == sorted(added, key=lambda b: (b.step, b.id))
        assert len({b.id for b in run.bookmarks}) == 20
