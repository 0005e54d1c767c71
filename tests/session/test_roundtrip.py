"""A session survives save and load exactly: values, dtypes, shapes, NaN and inf, events, weights."""
from __future__ import annotations

import json
import os
import sqlite3

import numpy as np
import pytest
import torch

from session_samples import PROBE_BATCH, make_checkpoint, make_record, write_sample
from gradscope.config import RunConfig
from gradscope.records import RunState, StepRecord
from gradscope.session import (APPLICATION_ID, SCHEMA_VERSION, MissingEntryError, SessionError,
                               SessionWriter, format_info, load_session, open_session, session_info)


def assert_same_array(got: np.ndarray, want: np.ndarray) -> None:
    assert got.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_array_equal(got, want)  # NaN == NaN here, inf compared exactly


def test_runs_configs_states_and_parents(sample):
    path, written = sample
    with open_session(path) as session:
        assert [run.id for run in session.runs] == [0, 1]
        assert [run.config for run in session.runs] == written["configs"]
        assert session.run(0).state is RunState.FINISHED
        assert session.run(1).state is RunState.DIVERGED
        assert session.run(0).parent is None and session.run(1).parent == (0, 5)
        assert session.schema_version == SCHEMA_VERSION == 2 and session.meta["writer"].startswith("gradscope ")


def test_every_series_round_trips_with_steps(sample):
    path, written = sample
    with open_session(path) as session:
        for run in session.runs:
            records = written["records"][run.id]
            assert_same_array(run.steps, np.array([r.step for r in records], dtype=np.int64))
            names = run.series_names()
            assert names["loss"] == ("scalar", "float64", ())
            assert names["conv/filters"] == ("array", "float32", (4, 2, 3, 3))
            assert names["count"] == ("array", "int64", ())
            for name, (kind, _, _) in names.items():
                holders = [r for r in records if name in (r.scalars if kind == "scalar" else r.arrays)]
                want = np.stack([np.asarray(r.scalars[name] if kind == "scalar" else r.arrays[name])
                                 for r in holders])
                assert_same_array(run.series(name), want)
                assert_same_array(run.series_steps(name), np.array([r.step for r in holders], dtype=np.int64))
            probed_steps, gates = run.series_with_steps("gates/forget")
            assert list(probed_steps) == [0, 3, 6, 9] and gates.shape == (4, 5, 8)
            assert np.isnan(run.series("loss")[2]) and np.isinf(run.series("grad_norm")[1])


def test_record_replays_exactly(sample):
    path, written = sample
    with open_session(path) as session:
        for original in written["records"][0]:
            replayed = session.run(0).record(original.step)
            assert isinstance(replayed, StepRecord)
            assert replayed.step == original.step and replayed.wall_time == original.wall_time
            assert replayed.scalars.keys() == original.scalars.keys()
            np.testing.assert_array_equal(list(replayed.scalars.values()), list(original.scalars.values()))
            assert replayed.arrays.keys() == original.arrays.keys()
            for name, array in original.arrays.items():
                assert_same_array(replayed.arrays[name], array)
                assert not replayed.arrays[name].flags.writeable
        with pytest.raises(MissingEntryError, match="no step 999"):
            session.run(0).record(999)


def test_events_probe_batch_and_checkpoints(sample):
    path, written = sample
    with open_session(path) as session:
        run = session.run(1)
        assert run.events == written["events"][1]
        assert run.probe_batch.keys() == PROBE_BATCH.keys()
        for name, array in PROBE_BATCH.items():
            assert_same_array(run.probe_batch[name], array)
        assert list(run.checkpoint_steps()) == [0, 5, 10]
        for original in written["checkpoints"][1]:
            loaded = run.checkpoint(original.step)
            for group in ("weights", "optimizer"):
                want, got = getattr(original, group), getattr(loaded, group)
                assert got.keys() == want.keys()
                for name in want:
                    assert_same_array(got[name], want[name])
        assert run.nearest_checkpoint(7).step == 5 and run.nearest_checkpoint(10).step == 10
        with pytest.raises(MissingEntryError, match="no checkpoint at step 7"):
            run.checkpoint(7)
        with pytest.raises(MissingEntryError, match="at or before step -1"):
            run.nearest_checkpoint(-1)


def test_checkpoint_loads_into_a_torch_module(sample):
    path, _ = sample
    module = torch.nn.Module()
    module.rnn = torch.nn.RNN(1, 8, batch_first=True)
    with open_session(path) as session:
        weights = session.run(0).checkpoint(5).weights
    module.load_state_dict({name: torch.from_numpy(array.copy()) for name, array in weights.items()})
    assert torch.equal(module.rnn.weight_hh_l0, torch.tensor(make_checkpoint(5).weights["rnn.weight_hh_l0"]))


def test_missing_entries_raise_session_errors(sample):
    path, _ = sample
    with open_session(path) as session:
        for call in (lambda: session.run(7), lambda: session.run(0).series("nope")):
            with pytest.raises(SessionError) as caught:
                call()
            assert isinstance(caught.value, LookupError) and str(path) in str(caught.value)
    with pytest.raises(SessionError, match="session is closed"):
        session.run(0).series("loss")


def test_clean_close_leaves_one_self_contained_file(sample):
    path, _ = sample
    assert sorted(os.listdir(path.parent)) == ["sample.gscope"]
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    assert db.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    db.close()


def test_load_session_alias_and_gradscope_entry_point(sample):
    import gradscope
    path, written = sample
    with load_session(path) as session:
        assert session.run(0).config == written["configs"][0]
    assert gradscope.load_session(path).run(1).config == written["configs"][1]


def test_append_adds_runs_and_keeps_old_ones(sample):
    path, _ = sample
    with SessionWriter(path, append=True) as writer:
        run_id = writer.start_run(RunConfig(task="sine"), {})
        writer.add_step(run_id, make_record(0, probed=True))
    with open_session(path) as session:
        assert [run.id for run in session.runs] == [0, 1, 2]
        assert session.run(2).config.task == "sine" and session.run(2).state is RunState.RUNNING
        assert len(session.run(0).steps) == 12


def test_refuses_to_overwrite_a_foreign_file_but_replaces_a_session(tmp_path):
    foreign = tmp_path / "notes.gscope"
    foreign.write_text("my lecture notes")
    for append in (False, True):
        with pytest.raises(SessionError, match="not a gradscope session; refusing"):
            SessionWriter(foreign, append=append)
    assert foreign.read_text() == "my lecture notes"
    path = tmp_path / "s.gscope"
    write_sample(path)
    with SessionWriter(path) as writer:
        writer.start_run(RunConfig(), {})
    with open_session(path) as session:
        assert len(session.runs) == 1 and len(session.run(0).steps) == 0


def test_writer_rejects_bad_input_without_leaving_half_a_step(tmp_path):
    path = tmp_path / "s.gscope"
    with SessionWriter(path) as writer:
        run_id = writer.start_run(RunConfig(), {})
        writer.add_step(run_id, StepRecord(0, {"loss": 1.0}, {"h": np.zeros(3, np.float32)}))
        with pytest.raises(ValueError, match="series 'h' of run 0 holds array float32\\[3\\]"):
            writer.add_step(run_id, StepRecord(1, {"loss": 2.0}, {"h": np.zeros(4, np.float32)}))
        with pytest.raises(ValueError, match="cannot be stored"):
            writer.add_step(run_id, StepRecord(1, {"loss": 2.0}, {"z": np.zeros(2, np.uint16)}))
        with pytest.raises(ValueError, match="already recorded"):
            writer.add_step(run_id, StepRecord(0, {"loss": 3.0}))
        with pytest.raises(ValueError, match="not started"):
            writer.add_step(5, StepRecord(2, {"loss": 3.0}))
        writer.add_step(run_id, StepRecord(1, {"loss": 2.0}, {"h": np.ones(3, np.float32)}))
    with open_session(path) as session:
        run = session.run(0)
        assert list(run.steps) == [0, 1] and list(run.series("loss")) == [1.0, 2.0]
        assert set(run.series_names()) == {"loss", "h"}


def test_strided_and_big_endian_arrays_are_stored_as_little_endian_values(tmp_path):
    path = tmp_path / "s.gscope"
    strided = np.arange(24, dtype=np.float64).reshape(4, 6)[:, ::2].T  # non-contiguous
    big = np.arange(5, dtype=">i4")
    with SessionWriter(path) as writer:
        run_id = writer.start_run(RunConfig(), {"big": big})
        writer.add_step(run_id, StepRecord(0, {}, {"strided": strided, "big": big}))
    with open_session(path) as session:
        assert_same_array(session.run(0).series("strided")[0], np.ascontiguousarray(strided))
        got = session.run(0).series("big")[0]
        assert got.dtype == np.dtype("int32") and list(got) == [0, 1, 2, 3, 4]
        assert session.run(0).probe_batch["big"].dtype.isnative


def test_commit_interval_and_close_is_idempotent(tmp_path):
    writer = SessionWriter(tmp_path / "a.gscope", commit_interval=3600)
    run_id = writer.start_run(RunConfig(), {})
    assert not writer.has_uncommitted  # start_run commits
    writer.add_step(run_id, make_record(0, probed=False))
    assert writer.has_uncommitted
    writer.set_state(run_id, "paused")
    assert not writer.has_uncommitted
    writer.close()
    writer.close()
    with pytest.raises(SessionError, match="writer is closed"):
        writer.add_step(run_id, make_record(1, probed=False))
    eager = SessionWriter(tmp_path / "b.gscope", commit_interval=0)
    run_id = eager.start_run(RunConfig(), {})
    eager.add_step(run_id, make_record(0, probed=False))
    assert not eager.has_uncommitted
    eager.close()


def test_a_reader_sees_committed_steps_while_recording(tmp_path):
    path = tmp_path / "live.gscope"
    with SessionWriter(path, commit_interval=3600) as writer:
        run_id = writer.start_run(RunConfig(), {})
        for step in range(5):
            writer.add_step(run_id, make_record(step, probed=True))
        writer.commit()
        writer.add_step(run_id, make_record(5, probed=True))  # not committed yet
        with open_session(path) as session:
            assert list(session.run(0).steps) == [0, 1, 2, 3, 4]
            assert session.run(0).series("hidden_grad_norm").shape == (5, 5)


def test_info_is_json_and_readable(sample):
    path, _ = sample
    summary = session_info(path)
    assert json.loads(json.dumps(summary)) == summary
    run = summary["runs"][1]
    assert run["parent"] == {"run": 0, "step": 5} and run["state"] == "diverged"
    assert run["steps"] == {"count": 12, "first": 0, "last": 11}
    assert run["series"]["gates/forget"] == {"kind": "array", "dtype": "float32", "shape": [5, 8], "rows": 4}
    assert run["checkpoints"] == [0, 5, 10] and run["events"][1]["detail"] == {"lr": 0.01}
    text = format_info(summary)
    assert "run 1: lstm H=8 on adding T=5, diverged" in text
    assert "forked from run 0 at step 5" in text and "gates/forget" in text and "float32[5, 8]" in text


def test_opening_is_lazy_and_bounded_by_the_deadline(tmp_path):
    path = tmp_path / "big.gscope"
    with SessionWriter(path) as writer:
        run_id = writer.start_run(RunConfig(), {})
        for step in range(3000):
            writer.add_step(run_id, StepRecord(step, {"loss": float(step)}))
    # a zero deadline still opens (a handful of VM steps), then aborts the first long scan
    with open_session(path, timeout=0.0) as session:
        with pytest.raises(SessionError, match="took longer than 0 s"):
            session.run(0).series("loss")


def test_a_version_2_file_of_before_reads_its_setting_changes_as_one_kind(tmp_path):
    """Files written before settings changes were one event kind hold lr_changed and
    clip_threshold_changed ({old, new}), and checkpoints with three settings arrays (the shipped
    examples do): they read as settings_changed {name: new} and as the live settings they were,
    and a fork replays them."""
    import shutil
    import sqlite3
    from pathlib import Path

    from gradscope.training import checkpoints
    from gradscope.training.fork import plan_fork

    path = tmp_path / "clipped.gscope"
    shutil.copy(Path(__file__).parents[2] / "sessions" / "exploding-rnn-clipped.gscope", path)
    db = sqlite3.connect(path)
    db.execute("INSERT INTO event (run_id, step, kind, detail, wall_time) VALUES "
               "(0, 120, 'lr_changed', '{\"old\": 0.01, \"new\": 0.02}', 0), "
               "(0, 130, 'clip_threshold_changed', '{\"old\": 1.0, \"new\": 2.0}', 0)")
    db.commit()
    db.close()
    with open_session(path) as session:
        run = session.runs[0]
        changes = [(e.step, e.kind, dict(e.detail)) for e in run.events if e.kind.endswith("changed")
                   and e.kind != "state_changed"]
        assert changes == [(120, "settings_changed", {"lr": 0.02}), (130, "settings_changed", {"clip_threshold": 2.0})]
        live = checkpoints.live_settings(run.checkpoint(0), run.config)
        assert (live["lr"], live["clip_mode"], live["clip_threshold"]) == (run.config.lr, "norm", 1.0)
        plan = plan_fork(run, None, 140)
        assert plan.settings_at_step["lr"] == 0.02 and plan.settings_at_step["clip_threshold"] == 2.0
        assert {step: dict(change) for step, change in plan.replay.items()} == {120: {"lr": 0.02},
                                                                                 130: {"clip_threshold": 2.0}}
