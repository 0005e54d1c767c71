"""What the lab model does at the edges: a run_to for a step the run has begun is refused and
resumes nothing; a setting that one compared run could not take is refused; a replay's run_to
stops at the end without rewinding; a file whose arrays lie about their rank is refused before
anything is shown; Fork from a step the run did not record is refused and the replay stays."""
from __future__ import annotations

import sqlite3
import time

import pytest

from gradscope.bench.gui_records import write_session
from gradscope.config import RunConfig
from gradscope.config.comparison import parse_compare
from gradscope.lab import LabModel
from gradscope.session import SessionError

FAST = dict(arch="rnn", task="adding", seq_len=8, hidden=6, batch=4, steps=1_000_000, probe_every=3)


def test_a_run_to_a_step_the_run_has_begun_is_refused_and_resumes_nothing(tmp_path):
    lab = LabModel(tmp_path, RunConfig(**FAST))
    refused = []
    lab.events.refused.connect(refused.append)
    try:
        lab.reset()
        lab.run_to(20)
        assert lab.wait_until(lambda: lab.state == "paused" and lab.cursor == 20, 120)
        lab.run_to(20)                         # step 20 is done: the run is at step 21
        lab.run_to(15)
        assert lab.wait_until(lambda: len(refused) == 2, 30), refused
        time.sleep(0.5)
        lab.pump()
        assert lab.state == "paused" and lab.cursor == 20
        assert all("the run is at step 21" in text or "under way or done" in text for text in refused), refused
        lab.seek(20)                           # where it is: nothing to do, nothing refused
        time.sleep(0.3)
        lab.pump()
        assert lab.cursor == 20 and len(refused) == 2
    finally:
        lab.close()


def test_a_setting_one_compared_run_could_not_take_is_refused(tmp_path):
    lab = LabModel(tmp_path, RunConfig(**FAST), training=False)
    refused = []
    lab.events.refused.connect(refused.append)
    assert lab.compare(parse_compare(["arch=rnn,lstm"]))
    assert not lab.set_setting("nonlinearity", "relu")    # the LSTM has fixed nonlinearities
    assert lab.config.nonlinearity == "tanh" and "relu applies to rnn and jordan" in refused[-1]
    assert lab.set_setting("hidden", 7)


def test_a_replays_run_to_stops_at_the_end_and_does_not_rewind(tmp_path):
    path = tmp_path / "s.gscope"
    write_session(path, 50, length=6, hidden=4, probe_every=5)
    lab = LabModel(tmp_path / "sessions", training=False)
    lab.open_recording(path)
    lab.seek(40)
    lab.recorded.set_speed(16)
    lab.run_to(10_000)                          # past the end: to the end, and stop there
    assert lab.wait_until(lambda: lab.state == "replay" and lab.cursor == 49, 30)
    lab.run_to(10_000)                          # at the end already: nothing moves
    lab.pump()
    assert lab.cursor == 49 and lab.state == "replay"
    lab.close()


def test_a_file_whose_arrays_lie_about_their_rank_is_refused_before_anything_is_shown(tmp_path):
    path = tmp_path / "lie.gscope"
    write_session(path, 20, length=6, hidden=4, probe_every=5)
    db = sqlite3.connect(path)
    db.execute("UPDATE series SET shape = '[]' WHERE name = 'hidden_grad_norm'")
    db.execute("UPDATE array_value SET data = substr(data, 1, 8) WHERE series_id = "
               "(SELECT id FROM series WHERE name = 'hidden_grad_norm')")
    db.commit()
    db.close()
    lab = LabModel(tmp_path / "sessions", training=False)
    with pytest.raises(SessionError, match="series 'hidden_grad_norm' is array of shape \\[\\], but it is declared as timestep"):
        lab.open_recording(path)
    assert lab.kind == "live" and lab.slots == []


def test_fork_into_a_file_that_cannot_be_written_is_refused_before_the_replay_is_left(tmp_path, monkeypatch):
    from gradscope.session import SessionWriter
    from gradscope.training import SessionRecorder, Trainer

    path = tmp_path / "s.gscope"
    config = RunConfig(seq_len=6, hidden=4, batch=4, steps=12, checkpoint_every=5, device="cpu")
    with SessionWriter(path) as writer, Trainer(config, [SessionRecorder(writer)]) as trainer:
        trainer.run()
    # a read-only disk (this may run as root, for whom no permission bit says no)
    monkeypatch.setattr("gradscope.session.target.os.access", lambda *args, **kwargs: False)
    lab = LabModel(tmp_path / "sessions")
    refused = []
    lab.events.refused.connect(refused.append)
    try:
        lab.open_recording(path)
        lab.fork(0, 8)
        assert refused and "cannot fork" in refused[-1] and "cannot be written" in refused[-1], refused
        assert lab.kind == "recorded" and [slot.run_id for slot in lab.slots] == [0]
    finally:
        lab.close()


def test_fork_from_a_step_the_run_did_not_record_is_refused_and_the_replay_stays(tmp_path):
    path = tmp_path / "s.gscope"
    write_session(path, 30, runs=2, length=6, hidden=4, probe_every=5)
    db = sqlite3.connect(path)
    db.execute("DELETE FROM step WHERE run_id = 1 AND step < 20")    # run 1 recorded 20 to 29
    db.commit()
    db.close()
    lab = LabModel(tmp_path / "sessions")
    refused = []
    lab.events.refused.connect(refused.append)
    try:
        lab.open_recording(path)
        lab.show_runs([1, 0])
        lab.seek(10)
        lab.fork(1, lab.cursor)                 # run 1 begins at step 20
        assert "run 1 recorded no step at or before 10" in refused[-1]
        assert lab.kind == "recorded" and [slot.run_id for slot in lab.slots] == [1, 0]
    finally:
        lab.close()
