"""The lab model without Qt: a whole live run, a live comparison and a whole replay driven
through its commands (in a process of their own, so that nothing else imports PySide6 first),
and what the window's views rely on: one path for live and recorded runs, runs not on show
never reaching the slots."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from gradscope.config import RunConfig
from gradscope.lab import LabModel


def test_a_live_run_a_comparison_and_a_replay_through_the_model_with_no_qt(tmp_path):
    script = Path(__file__).with_name("lab_walkthrough.py")
    result = subprocess.run([sys.executable, str(script), str(tmp_path)], capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["qt"] == []                                   # PySide6 was never imported
    assert seen["live_steps"] == 60 and seen["replay_steps"] == 60 and seen["same_loss"]
    assert seen["compared"] == [["ρ = 0.5", 60], ["ρ = 1.5", 60]] and seen["earlier"] == 1
    assert seen["recorded_runs"] == [0, 1, 2] and seen["file_steps"] == [60, 60, 60]
    assert seen["comparison"][0] is None
    assert seen["comparison"][1] == seen["comparison"][2] == {"runs": [1, 2], "varies": ["rho"]}
    assert seen["aligned"] == [30, 30] and seen["stray_updates"] == 0
    assert seen["states"][:2] == ["starting", "running"] and "finished" in seen["states"]
    assert seen["states"][-1] == "replay"


def test_opening_a_recording_stops_the_live_run_and_drops_what_it_still_sends(tmp_path):
    from gradscope.bench.gui_records import write_session

    recording = tmp_path / "r.gscope"
    write_session(recording, 40, length=8, hidden=4, probe_every=5)
    lab = LabModel(tmp_path / "sessions", RunConfig(arch="rnn", task="adding", seq_len=8, hidden=6, batch=4,
                                                     steps=1_000_000, probe_every=3))
    try:
        lab.toggle_run()
        assert lab.wait_until(lambda: lab.cursor > 20, 120)
        live = lab.current
        lab.open_recording(recording)
        assert lab.kind == "recorded" and lab.current is not live and lab.cursor == 39
        for _ in range(30):                   # the stopped run's last reports arrive: none is shown
            lab.pump()
        assert lab.current.last_step == 39 and lab.stray_updates == 0 and lab.state == "replay"
        lab.new_live_session()
        assert lab.kind == "live" and lab.slots == [] and lab.state == "idle" and lab.cursor == -1
        session = lab.session_path
        assert not session.exists()           # nothing trained in it yet: no file
        lab.step()
        assert lab.wait_until(lambda: lab.cursor == 0 and lab.state == "paused", 60)
    finally:
        lab.close()
    from gradscope.session import open_session

    with open_session(session) as opened:
        assert [len(run.steps) for run in opened.runs] == [1]


def test_a_run_that_never_trained_leaves_nothing_in_the_file(tmp_path):
    lab = LabModel(tmp_path, RunConfig(arch="rnn", task="adding", seq_len=8, hidden=6, batch=4, steps=100))
    try:
        for _ in range(3):                    # Reset, Reset, Reset: three runs that never took a step
            lab.reset()
            assert lab.wait_until(lambda: lab.state == "paused", 120)
        lab.set_setting("hidden", 7)          # a new run again, paused
        lab.toggle_run()
        assert lab.wait_until(lambda: lab.state == "finished", 120)
        path = lab.session_path
    finally:
        lab.close()
    from gradscope.session import open_session

    with open_session(path) as session:
        assert [(run.config.hidden, len(run.steps)) for run in session.runs] == [(7, 100)]
