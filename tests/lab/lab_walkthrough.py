"""A whole live run, a live comparison and a whole replay driven through the lab model alone,
as a notebook would; run as a script by test_lab_model.py, which checks that PySide6 was never
imported. Prints one JSON line of what it saw."""
from __future__ import annotations

import json
import sys

import numpy as np


def main(folder: str) -> None:
    from gradscope.config import RunConfig
    from gradscope.config.comparison import parse_compare
    from gradscope.lab import LabModel
    from gradscope.session import open_session

    seen = {}
    config = RunConfig(arch="lstm", task="adding", seq_len=10, hidden=6, batch=4, steps=60, probe_every=4,
                       checkpoint_every=20, clip_mode="norm", clip_threshold=0.5)
    lab = LabModel(folder, config)
    states = []
    lab.events.state_changed.connect(states.append)
    try:
        lab.toggle_run()
        assert lab.wait_until(lambda: lab.state == "finished", 120), lab.state
        live = lab.current
        seen["live_steps"] = live.steps_seen
        seen["live_loss"] = live.series("loss")[1].tolist()
        path = lab.session_path
        lab.compare(parse_compare(["rho=0.5,1.5"]))
        lab.set_setting("init", "orthogonal")
        lab.toggle_run()
        assert lab.wait_until(lambda: lab.state == "finished" and len(lab.slots) == 2, 120), lab.state
        seen["compared"] = [(slot.label, slot.history.steps_seen) for slot in lab.slots]
        seen["earlier"] = len(lab.earlier)
        lab.open_recording(path)
        seen["recorded_runs"] = [run.id for run in lab.recorded.session.runs]
        lab.show_runs([0])
        lab.seek(0)
        lab.run_to(59)                       # play the recording to its end, paused there
        lab.recorded.set_speed(16)
        assert lab.wait_until(lambda: lab.state == "replay" and lab.cursor == 59, 60), (lab.state, lab.cursor)
        replay = lab.current
        seen["replay_steps"] = replay.steps_seen
        seen["replay_loss"] = replay.series("loss")[1].tolist()
        lab.show_runs([1, 2])
        lab.seek(30)
        seen["aligned"] = [slot.history.last_step for slot in lab.slots]
        seen["stray_updates"] = lab.stray_updates
    finally:
        lab.close()
    with open_session(path) as session:
        seen["file_steps"] = [len(run.steps) for run in session.runs]
        seen["comparison"] = [next((dict(e.detail) for e in run.events if e.kind == "comparison"), None)
                              for run in session.runs]
    seen["states"] = states
    seen["qt"] = sorted(name for name in sys.modules if name.split(".")[0] in ("PySide6", "pyqtgraph", "shiboken6"))
    seen["same_loss"] = bool(np.array_equal(seen.pop("live_loss"), seen.pop("replay_loss")))
    print(json.dumps(seen))


if __name__ == "__main__":
    main(sys.argv[1])
