"""A recording killed with SIGKILL keeps every step it reported as committed, exactly."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from gradscope.session import SessionWriter, open_session
from crashed import CHILD

REPO = Path(__file__).resolve().parents[2]



@pytest.mark.timeout(30)
def test_sigkill_mid_recording_keeps_every_committed_step(tmp_path):
    path = tmp_path / "killed.gscope"
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(path)], stdout=subprocess.PIPE,
                             text=True, env=env, cwd=REPO)
    reports = []
    try:
        deadline = time.monotonic() + 20
        while len(reports) < 5 or reports[-1] < 300:
            line = child.stdout.readline()
            assert line, f"the recording child died early (exit {child.poll()})"
            reports.append(int(line))
            assert time.monotonic() < deadline
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
        child.stdout.close()
    assert child.returncode == -signal.SIGKILL
    assert Path(str(path) + "-wal").exists(), "the kill should leave the WAL behind"
    committed = reports[-1]

    with open_session(path) as session:
        run = session.run(0)
        steps = run.steps
        assert len(steps) >= committed and list(steps[:committed]) == list(range(committed))
        # every step on file is complete and exact, including the ones past the last report
        expected = np.arange(200, dtype=np.float32)[None, :] * steps.astype(np.float32)[:, None]
        np.testing.assert_array_equal(run.series("hidden_grad_norm"), expected)
        np.testing.assert_array_equal(run.series("gates/forget"), expected.reshape(-1, 10, 20))
        np.testing.assert_array_equal(run.series("loss"), 1.0 / (steps + 1))
        np.testing.assert_array_equal(run.series("grad_norm"), steps * 0.25)
        bad = run.series("bad")
        assert np.isnan(bad[1::2]).all() and np.isposinf(bad[0::2]).all()
        assert run.checkpoint(0).weights["w"].tolist() == np.eye(3).tolist()
        assert run.events[0].detail == {"seed": 7}
        assert run.probe_batch["x"].tolist() == list(range(6))

    # the crashed file can be reopened for appending, and closing it makes it self-contained
    with SessionWriter(path, append=True) as writer:
        writer.start_run(run.config, {})
    assert not Path(str(path) + "-wal").exists()
    with open_session(path) as session:
        assert len(session.runs) == 2 and len(session.run(0).steps) == len(steps)
