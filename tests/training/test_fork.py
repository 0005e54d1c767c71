"""Fork from here: a new run from step S of a recorded run, exact up to S, in the same file."""
from __future__ import annotations

import json
import time

import numpy as np
import pytest

from gradscope.cli import main
from gradscope.config import ConfigError, RunConfig
from gradscope.records import StepRecord
from gradscope.session import SessionError, SessionWriter, open_session
from gradscope.training import Callback, SessionRecorder, Trainer
from gradscope.training.fork import plan_fork, start_fork
from trainer_log import Log, assert_same_records

RNN_SGD = dict(arch="rnn", optimizer="sgd", lr=0.1, probe_every=1)
LSTM_ADAM = dict(arch="lstm", optimizer="adam", lr=0.01, probe_every=3)


def config(**changes) -> RunConfig:
    settings = dict(task="adding", seq_len=8, hidden=6, batch=4, steps=13, checkpoint_every=5, device="cpu")
    settings.update(changes)
    return RunConfig(**settings)


class ChangeAt(Callback):
    """Changes settings right after the checkpoint of `step`: they land on the next step."""

    def __init__(self, step: int, lr: float | None = None, clip: tuple[str, float] | None = None):
        self.step, self.lr, self.clip = step, lr, clip

    def on_checkpoint(self, trainer, checkpoint):
        if checkpoint.step == self.step:
            if self.lr is not None:
                trainer.change_settings(lr=self.lr)
            if self.clip is not None:
                trainer.change_settings(clip_mode=self.clip[0], clip_threshold=self.clip[1])


def record_parent(path, run_config: RunConfig, *callbacks) -> None:
    with SessionWriter(path, append=path.exists()) as writer:
        with Trainer(run_config, [SessionRecorder(writer), *callbacks]) as trainer:
            trainer.run()


def record_fork(path, plan) -> Log:
    log = Log()
    with SessionWriter(path, append=True) as writer:
        with start_fork(plan, [SessionRecorder(writer, parent=plan.parent), log]) as trainer:
            trainer.run()
    return log


@pytest.mark.parametrize("settings, change", [(RNN_SGD, dict(lr=0.05)),
                                              (LSTM_ADAM, dict(lr=0.02, clip=("norm", 0.5)))],
                         ids=["rnn-sgd", "lstm-adam"])
def test_an_unchanged_fork_reproduces_its_parent_exactly_from_the_step_on(tmp_path, settings, change):
    path = tmp_path / "lesson.gscope"
    record_parent(path, config(**settings), ChangeAt(5, **change))   # a change at step 6, between 5 and 7
    with open_session(path) as session:
        assert {(e.step, e.kind) for e in session.runs[0].events} >= {(6, "settings_changed")}
    plan = plan_fork(path, 0, 7)
    assert plan.checkpoint.step == 5 and 6 in plan.replay and plan.changed == {}
    log = record_fork(path, plan)
    assert [r.step for r in log.records] == list(range(7, 13))
    assert not [e for e in log.events if e.kind == "settings_changed"]   # nothing changed at the fork
    with open_session(path) as session:
        parent, fork = session.runs
        assert fork.parent == (0, 7) and list(fork.steps) == list(range(7, 13))
        assert fork.checkpoint_steps()[0] == 7              # a fork can be forked again at once
        assert_same_records(parent, [fork.record(step) for step in fork.steps])
        probed = [step for step in fork.steps if fork.record(step).probed]
        assert probed == ([7, 8, 9, 10, 11, 12] if settings["probe_every"] == 1 else [9, 12])
        np.testing.assert_array_equal(fork.probe_batch["inputs"], parent.probe_batch["inputs"])


def test_a_fork_of_a_fork_reproduces_it_too(tmp_path):
    path = tmp_path / "lesson.gscope"
    record_parent(path, config(**RNN_SGD))
    record_fork(path, plan_fork(path, 0, 7, {"lr": 0.3}))
    record_fork(path, plan_fork(path, 1, 9))
    with open_session(path) as session:
        first, again = session.runs[1], session.runs[2]
        assert again.parent == (1, 9)
        assert_same_records(first, [again.record(step) for step in again.steps])


def test_changed_settings_are_events_at_the_fork_step_and_take_effect_after_its_forward_pass(tmp_path):
    path = tmp_path / "lesson.gscope"
    record_parent(path, config(**RNN_SGD), ChangeAt(5, lr=0.05))
    plan = plan_fork(path, 0, 7, {"lr": 0.5, "clip_mode": "norm", "clip_threshold": 0.01}, steps=10)
    assert plan.changed == {"lr": 0.5, "clip_mode": "norm", "clip_threshold": 0.01}
    log = record_fork(path, plan)
    changes = [(e.step, dict(e.detail)) for e in log.events if e.kind == "settings_changed"]
    assert changes == [(7, {"lr": 0.5, "clip_mode": "norm", "clip_threshold": 0.01})]
    with open_session(path) as session:
        parent, fork = session.runs
        assert (fork.parent, list(fork.steps), fork.config.steps) == ((0, 7), [7, 8, 9], 10)
        assert (fork.config.lr, fork.config.clip_mode, fork.config.arch) == (0.5, "norm", "rnn")
        assert any(e.step == 7 and e.kind == "settings_changed" and e.detail["lr"] == 0.5 for e in fork.events)
        at_fork, before = fork.record(7).scalars, parent.record(7).scalars
        assert at_fork["loss"] == before["loss"] and at_fork["grad_norm"] == before["grad_norm"]
        assert at_fork["lr"] == 0.5 and at_fork["clipped"] == 1.0 and before["clipped"] == 0.0
        assert at_fork["grad_norm_clipped"] == pytest.approx(0.01, rel=1e-4)
        assert fork.record(8).scalars["loss"] != parent.record(8).scalars["loss"]


def test_a_fork_is_a_run_of_the_same_file_with_its_parent(tmp_path):
    path = tmp_path / "lesson.gscope"
    record_parent(path, config(**RNN_SGD, steps=8))
    record_parent(path, config(**RNN_SGD, steps=8, seed=3))
    with open_session(path) as session:
        plan = plan_fork(session.run(1), None, 5, {"lr": 0.2})     # from a Run as well as a path
    record_fork(path, plan)
    with open_session(path) as session:
        assert [(run.id, run.parent) for run in session.runs] == [(0, None), (1, None), (2, (1, 5))]
        assert session.runs[2].config.seed == 3 and session.runs[2].state.value == "finished"


def test_a_fork_that_cannot_be_made_says_why(tmp_path):
    path = tmp_path / "lesson.gscope"
    record_parent(path, config(**RNN_SGD, steps=8))
    cases = [((0, 8), {}, None, "step", "no recorded step 8"),
             ((4, 2), {}, None, "run", "no run 4"),
             ((0, 2), {"lr": -1.0}, None, "lr", "above 0"),
             ((0, 2), {"lr": "fast"}, None, "lr", "number"),
             ((0, 2), {"clip_threshold": float("nan")}, None, "clip_threshold", "finite"),
             ((0, 2), {"clip_mode": "sometimes"}, None, "clip_mode", "unknown value"),
             ((0, 2), {"hidden": 9}, None, "hidden", "only the live settings"),
             ((0, 5), {}, 5, "steps", "above 5")]
    for (run, step), changes, steps, option, words in cases:
        with pytest.raises(ConfigError, match=words) as caught:
            plan_fork(path, run, step, changes, steps)
        assert caught.value.option == option and "\n" not in str(caught.value)
    bare = tmp_path / "bare.gscope"            # steps recorded, no checkpoint at all
    with SessionWriter(bare) as writer:
        run = writer.start_run(config())
        for step in range(4):
            writer.add_step(run, StepRecord(step=step, scalars={"loss": 1.0}))
    with pytest.raises(ConfigError, match="no checkpoint at or before step 2"):
        plan_fork(bare, 0, 2)
    with pytest.raises(SessionError, match="no such session file"):
        plan_fork(tmp_path / "missing.gscope", 0, 2)


def test_a_fork_at_the_step_that_diverged_is_refused(tmp_path):
    path = tmp_path / "boom.gscope"
    record_parent(path, config(task="sine", seq_len=30, init="identity", rho=3.0, nonlinearity="relu",
                               optimizer="sgd", lr=5.0, steps=200, probe_every=50))
    with open_session(path) as session:
        diverged = next(e.step for e in session.runs[0].events if e.kind == "diverged")
    with pytest.raises(ConfigError, match=f"diverged at step {diverged}"):
        plan_fork(path, 0, diverged)


def test_the_training_process_forks_like_the_engine_and_records_into_the_parents_file(tmp_path):
    from gradscope.messages import Crashed, ForkRun, Records, Refused, RunEnded, RunFailed, RunStarted, UseSession
    from gradscope.training.process import TrainingProcess

    path = tmp_path / "lesson.gscope"
    record_parent(path, config(**RNN_SGD), ChangeAt(5, lr=0.05))
    plan = plan_fork(path, 0, 7, {"clip_mode": "value", "clip_threshold": 0.05})
    expected = Log()
    with start_fork(plan, [expected]) as trainer:
        trainer.run()
    process = TrainingProcess(tmp_path / "elsewhere.gscope")
    process.start()
    try:
        process.send(UseSession(str(path)))
        process.send(ForkRun(str(path), 0, 99))                   # refused: no such step
        process.send(ForkRun(str(path), 0, 7, {"clip_mode": "value", "clip_threshold": 0.05}))
        messages, deadline = [], time.monotonic() + 60
        while not any(isinstance(m, RunEnded) for m in messages) and time.monotonic() < deadline:
            message = process.receive(0.5)
            if message is not None:
                assert not isinstance(message, (RunFailed, Crashed)), message
                messages.append(message)
    finally:
        process.close(timeout=5)
    started = [m for m in messages if isinstance(m, RunStarted)]
    assert len(started) == 1 and started[0].parent == (0, 7) and started[0].run_id == 1
    assert any(isinstance(m, Refused) and "no recorded step 99" in m.message for m in messages)
    records = [r for m in messages if isinstance(m, Records) and m.run == started[0].run for r in m.records]
    assert [r.step for r in records] == [r.step for r in expected.records] == list(range(7, 13))
    for got, want in zip(records, expected.records):
        assert dict(got.scalars) == dict(want.scalars)
        for name, array in want.arrays.items():
            np.testing.assert_array_equal(got.arrays[name], array)
    assert not (tmp_path / "elsewhere.gscope").exists()
    with open_session(path) as session:
        assert [run.parent for run in session.runs] == [None, (0, 7)]
        assert list(session.runs[1].steps) == list(range(7, 13))


def run_cli(*args, capsys) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def test_the_fork_command_appends_the_fork_and_says_so_in_json(tmp_path, capsys):
    path = tmp_path / "lesson.gscope"
    assert run_cli("record", "--seq-len", "8", "--hidden", "6", "--batch", "4", "--steps", "12", "--optimizer", "sgd",
                   "--lr", "0.1", "--checkpoint-every", "5", "--probe-every", "2", "--device", "cpu", "-o", path,
                   capsys=capsys)[0] == 0
    code, out, err = run_cli("fork", path, "--run", "0", "--step", "7", "--lr", "0.2", "--clip-norm", "0.01",
                             "--steps", "10", "--json", capsys=capsys)
    assert code == 0, err
    summary = json.loads(out)
    assert summary["run"] == 1 and summary["parent"] == [0, 7] and summary["state"] == "finished"
    assert (summary["first_step"], summary["steps"], summary["clip_events"]) == (7, 10, 3)
    assert summary["changes"] == {"lr": 0.2, "clip_mode": "norm", "clip_threshold": 0.01}
    with open_session(path) as session:
        fork = session.runs[1]
        assert fork.parent == (0, 7) and list(fork.steps) == [7, 8, 9]
        assert fork.series("loss")[-1] == pytest.approx(summary["final_loss"])
    code, out, err = run_cli("fork", path, "--run", "1", "--step", "8", capsys=capsys)   # plain text on stderr
    assert code == 0 and out == "" and "forked run 1 at step 8 (no setting changed) as run 2" in err


@pytest.mark.parametrize("args, words", [
    (["--run", "0", "--step", "40"], "--step: run 0 has no recorded step 40"),
    (["--run", "3", "--step", "1"], "--run:"),
    (["--run", "0", "--step", "1", "--lr", "-1"], "--lr:"),
    (["--run", "0", "--step", "1", "--clip-norm", "0"], "--clip-norm:"),
    (["--run", "0", "--step", "3", "--steps", "2"], "--steps:"),
    (["--step", "1"], "--run"),
    (["--run", "0", "--step", "1", "--clip-norm", "1", "--no-clip"], "--no-clip goes with neither"),
])
def test_a_bad_fork_request_is_one_line_and_exit_2(tmp_path, capsys, args, words):
    path = tmp_path / "lesson.gscope"
    assert run_cli("record", "--seq-len", "8", "--hidden", "6", "--batch", "4", "--steps", "4", "--device", "cpu",
                   "-o", path, capsys=capsys)[0] == 0
    before = path.read_bytes()
    code, out, err = run_cli("fork", path, *args, capsys=capsys)
    assert code == 2 and out == "" and words in err and len(err.strip().splitlines()) == 1, err
    assert path.read_bytes() == before
    code, _, err = run_cli("fork", tmp_path / "nothing.gscope", "--run", "0", "--step", "1", capsys=capsys)
    assert code == 2 and "no such session file" in err


def test_a_fork_that_diverges_is_saved_and_exits_3(tmp_path, capsys):
    path = tmp_path / "lesson.gscope"
    assert run_cli("record", "--task", "sine", "--seq-len", "30", "--hidden", "6", "--batch", "4", "--init", "identity",
                   "--rho", "1", "--nonlinearity", "relu", "--optimizer", "sgd", "--lr", "0.001", "--steps", "5",
                   "--device", "cpu", "-o", path, capsys=capsys)[0] == 0
    code, out, err = run_cli("fork", path, "--run", "0", "--step", "2", "--lr", "10", "--steps", "200", "--json",
                             capsys=capsys)
    assert code == 3 and "diverged" in err
    summary = json.loads(out)
    assert summary["state"] == "diverged" and "step" in summary["divergence"]
    with open_session(path) as session:
        assert session.runs[1].state.value == "diverged" and session.runs[1].parent == (0, 2)
