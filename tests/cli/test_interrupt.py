"""Ctrl-C in the middle of a long step ends `record` at once, and the file says where it stops.

A step of a big LSTM can run a minute inside torch's C++ code, where no Python signal handler
runs. Here a step sleeps instead (time.sleep, like a torch op, holds no interpreter lock and
does not return to Python): the child's Trainer sleeps in step 5 for ten minutes, after it
has left a marker beside the file, and the test presses Ctrl-C once or twice."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from gradscope.records import EventKind
from gradscope.session import open_session

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HEAVY_STEP = textwrap.dedent("""
    import pathlib, sys, time
    from gradscope.training import trainer

    marker = pathlib.Path(sys.argv[1])
    sys.argv = ["gradscope"] + sys.argv[2:]
    plain_step = trainer.Trainer._step

    def step(self, due):
        if self.step_index == 5:
            marker.write_text("in step 5")
            time.sleep(600)
        plain_step(self, due)

    trainer.Trainer._step = step
    from gradscope.cli import main
    sys.exit(main())
""")
FAST = ["--task", "adding", "--seq-len", "8", "--hidden", "6", "--batch", "4", "--probe-every", "1"]


@pytest.mark.parametrize("presses", [1, 2])
def test_ctrl_c_in_a_long_step_ends_the_run_at_once_and_marks_where_it_stops(tmp_path, presses):
    path, marker = tmp_path / "heavy.gscope", tmp_path / "marker"
    env = {**os.environ, "PYTHONPATH": REPO + os.pathsep + os.environ.get("PYTHONPATH", "")}
    child = subprocess.Popen([sys.executable, "-c", HEAVY_STEP, str(marker), "record", *FAST, "--steps", "50",
                              "-o", str(path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        deadline = time.monotonic() + 120
        while not marker.exists() and child.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert marker.exists(), child.communicate(timeout=5)
        for _ in range(presses):
            child.send_signal(signal.SIGINT)
            time.sleep(0.1)
        # the step sleeps ten minutes: an answer within one means the step was not waited for
        _, err = child.communicate(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == 130
    assert "Traceback" not in err
    last = err.strip().splitlines()[-1]
    assert last.startswith("gradscope: interrupted in the middle of a step; ")
    with open_session(path) as session:
        run = session.runs[0]
        # step 4 may still have been waiting for its probe (measured while step 5 trains):
        # it is saved all the same, without that probe's results
        saved = len(run.steps) - 1
        assert saved == 4 and list(run.steps) == list(range(saved + 1))
        assert f"{path} keeps run 0: steps up to {saved}, marked interrupted" in last
        assert run.state.value == "stopped"
        stop = run.events[-1]
        assert stop.kind == EventKind.INTERRUPTED.value and stop.step == saved + 1
        assert stop.detail["last_saved_step"] == saved
    assert sorted(os.listdir(tmp_path)) == ["heavy.gscope", "marker"]    # the log folded in
