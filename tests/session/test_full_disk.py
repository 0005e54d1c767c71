"""A full disk mid-run: the file keeps every committed step, with no hole, and an event says
where each run stops; a full disk before anything is committed leaves no file at all.

A child process records under a file size limit (RLIMIT_FSIZE, with SIGXFSZ ignored, so a
write past it fails with EFBIG as a full disk fails with ENOSPC): the same failed writes, on
any machine, without mounting a small disk."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from gradscope.records import EventKind
from gradscope.session import open_session

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LIMITED = textwrap.dedent("""
    import resource, signal, sys
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (int(sys.argv[1]), int(sys.argv[1])))
    sys.argv = sys.argv[:1] + sys.argv[2:]
""")
WRITER = LIMITED + textwrap.dedent("""
    import json
    import numpy as np
    from gradscope.config import RunConfig
    from gradscope.records import Checkpoint, StepRecord
    from gradscope.session import SessionError, SessionWriter

    writer = SessionWriter(sys.argv[1], commit_interval=float(sys.argv[2]))
    runs = [writer.start_run(RunConfig(hidden=8)), writer.start_run(RunConfig(hidden=8))]
    added = {run: -1 for run in runs}
    try:
        for step in range(100000):
            for run in runs:
                arrays = {"hidden_grad_norm": np.full(3000, float(step), dtype=np.float32)}
                writer.add_step(run, StepRecord(step, {"loss": 1.0 / (step + 1)}, arrays))
                added[run] = step
                if step % 25 == 0:
                    writer.add_checkpoint(run, Checkpoint(step, {"w": np.full((40, 40), step, np.float32)}))
    except SessionError as error:
        print(json.dumps({"error": str(error), "added": added}))
    writer.close()
""")


def limited(script: str, limit: int, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": REPO + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return subprocess.run([sys.executable, "-c", script, str(limit), *map(str, args)], capture_output=True,
                          text=True, env=env, cwd=REPO, timeout=300)


def assert_stops_cleanly(path, run) -> int:
    """The run's steps run from 0 without a hole; the last event says where it stops. Its last step."""
    steps = [int(step) for step in run.steps]
    assert steps == list(range(len(steps))), "a hole in the steps"
    last = run.events[-1]
    assert last.kind == EventKind.WRITE_FAILED.value and last.step == len(steps)
    assert last.detail["last_saved_step"] == (len(steps) - 1 if steps else None)
    assert run.state.value == "failed"
    # every saved step is whole
    if not steps:
        return -1
    values = run.series("hidden_grad_norm")
    assert values.shape == (len(steps), 3000) and (values[:, 0] == run.series_steps("hidden_grad_norm")).all()
    return len(steps) - 1


@pytest.mark.parametrize("interval,limit", [(0.0, 4 << 20), (0.05, 64 << 20)],
                         ids=["commit-every-step", "commit-every-50ms"])
def test_a_full_disk_mid_run_keeps_every_committed_step_and_says_where_it_stops(tmp_path, interval, limit):
    path = tmp_path / "full.gscope"
    child = limited(WRITER, limit, path, interval)
    assert child.returncode == 0, child.stderr
    report = json.loads(child.stdout)
    assert "the file keeps every step committed before" in report["error"]
    with open_session(path) as session:
        assert session.notices == (), "a rolled-back transaction's frames are not damage"
        for run in session.runs:
            last = assert_stops_cleanly(path, run)
            # the call that failed may have committed its step before the room ran out
            assert last <= report["added"][str(run.id)] + 1
            assert last > 10, "the limit leaves room for some steps"


RECORD = LIMITED + textwrap.dedent("""
    from gradscope.cli import main
    sys.exit(main(sys.argv[1:]))
""")
# The recorder commits once a second: on a fast machine its first second filled the 2 MB limit
# before its first commit, which is the other test's case (no file left). Committing every step
# makes the full disk come mid-run on any machine.
RECORD_COMMITTING_EVERY_STEP = LIMITED + textwrap.dedent("""
    from gradscope.session.writer import SessionWriter
    SessionWriter.__init__.__kwdefaults__["commit_interval"] = 0.0
    from gradscope.cli import main
    sys.exit(main(sys.argv[1:]))
""")


def test_record_on_a_full_disk_is_one_line_exit_2_and_a_file_without_a_hole(tmp_path):
    path = tmp_path / "lstm.gscope"
    child = limited(RECORD_COMMITTING_EVERY_STEP, 2 << 20, "record", "--arch", "lstm", "--task", "adding",
                    "--steps", "2000", "--checkpoint-every", "20", "-o", path)
    assert child.returncode == 2, child.stderr
    lines = [line for line in child.stderr.splitlines() if "step/s" not in line and line.strip()]
    assert len(lines) == 1 and "Traceback" not in child.stderr, child.stderr
    assert "cannot write" in lines[0] and str(path) in lines[0]
    with open_session(path) as session:
        run = session.runs[0]
        steps = [int(step) for step in run.steps]
        assert steps == list(range(len(steps))) and len(steps) > 0
        assert run.events[-1].kind == EventKind.WRITE_FAILED.value and run.events[-1].step == len(steps)
        assert run.state.value == "failed"


def test_record_on_a_disk_full_before_any_commit_leaves_no_file(tmp_path):
    path = tmp_path / "none.gscope"
    child = limited(RECORD, 300 << 10, "record", "--steps", "50", "-o", path)
    assert child.returncode == 2, child.stderr
    lines = [line for line in child.stderr.splitlines() if "step/s" not in line and line.strip()]
    assert len(lines) == 1 and "Traceback" not in child.stderr, child.stderr
    assert "no file is left behind" in lines[0] or "cannot create" in lines[0], lines[0]
    assert os.listdir(tmp_path) == []
