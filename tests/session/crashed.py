"""A recording killed with SIGKILL, for the crash and side-file tests: the child records
steps, committing every 20 ms, and prints how many are committed; the parent kills it."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

CHILD = textwrap.dedent("""
    import sys
    import numpy as np
    from gradscope.config import RunConfig
    from gradscope.records import Checkpoint, Event, StepRecord
    from gradscope.session import SessionWriter

    writer = SessionWriter(sys.argv[1], commit_interval=0.02)
    run_id = writer.start_run(RunConfig(hidden=8), {"x": np.arange(6, dtype=np.float32)})
    writer.add_checkpoint(run_id, Checkpoint(0, {"w": np.eye(3, dtype=np.float32)}))
    writer.add_event(run_id, Event(0, "run_started", {"seed": 7}))
    step = 0
    while True:
        base = np.arange(200, dtype=np.float32) * np.float32(step)
        writer.add_step(run_id, StepRecord(step, {"loss": 1.0 / (step + 1), "grad_norm": step * 0.25,
                                                  "bad": float("nan") if step % 2 else float("inf")},
                                           {"hidden_grad_norm": base, "gates/forget": base.reshape(10, 20)}))
        step += 1
        if not writer.has_uncommitted:
            print(step, flush=True)
""")


def killed_recording(path: Path, committed: int = 50) -> int:
    """Record into `path` until at least `committed` steps are committed, then SIGKILL the
    recorder; the number it last reported committed. The -wal and -shm stay behind."""
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(Path(path).resolve())], stdout=subprocess.PIPE,
                             text=True, env=env, cwd=REPO)
    last = 0
    try:
        deadline = time.monotonic() + 30
        while last < committed:
            line = child.stdout.readline()
            if not line:
                raise RuntimeError(f"the recording child died early (exit {child.poll()})")
            last = int(line)
            if time.monotonic() > deadline:
                raise RuntimeError("the recording child is too slow")
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
        child.stdout.close()
    return last
