"""The command line: recording, info, clear one-line errors with exit status 2."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

import gradscope
from gradscope.cli import main
from gradscope.session import SessionError, open_session

FAST = ["--seq-len", "8", "--hidden", "6", "--batch", "4"]


def run_cli(*args: str, capsys) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def test_record_writes_a_session_and_a_json_summary(tmp_path, capsys):
    path = tmp_path / "run.gscope"
    code, out, _ = run_cli("record", "--arch", "gru", "--task", "recall", *FAST, "--steps", "12",
                           "--clip-norm", "0.01", "--probe-every", "4", "-o", path, "--json", capsys=capsys)
    assert code == 0
    summary = json.loads(out)
    assert summary["state"] == "finished" and summary["steps"] == 12
    assert summary["clip_events"] == 12          # a threshold of 0.01 clips every step
    assert summary["metric_name"] == "accuracy" and 0 <= summary["final_metric"] <= 1
    assert summary["wall_seconds"] > 0
    with open_session(path) as session:
        run = session.runs[0]
        assert run.config.arch == "gru" and run.config.clip_mode == "norm"
        assert list(run.steps) == list(range(12))
        assert list(run.series_steps("hidden_grad_norm")) == [0, 4, 8]
        assert run.series("hidden_grad_norm").shape == (3, 8)
        assert run.series("loss")[-1] == pytest.approx(summary["final_loss"])


def test_a_recorded_number_can_be_recomputed_from_the_file(tmp_path, capsys):
    """The notebook promise: checkpoint + probe batch + config reproduce what was recorded."""
    path = tmp_path / "run.gscope"
    assert run_cli("record", "--arch", "lstm", "--task", "sine", *FAST, "--steps", "5", "--probe-every", "5",
                   "--checkpoint-every", "5", "-o", path, capsys=capsys)[0] == 0
    run = gradscope.load_session(path).runs[0]
    model = gradscope.models.build(run.config)
    model.load_state_dict({k: torch.tensor(v) for k, v in run.checkpoint(0).weights.items()})
    inputs = torch.tensor(run.probe_batch["inputs"])
    targets = torch.tensor(run.probe_batch["targets"])
    task = gradscope.tasks.build(run.config)
    with torch.enable_grad():
        unrolled = model.unrolled(inputs)
        loss = task.loss(unrolled.output, targets) * inputs.shape[0]
        grads = torch.autograd.grad(loss, unrolled.traces[(0, 0)].states)
    recomputed = torch.stack([g.norm(dim=-1) for g in grads], 1).double().mean(0).numpy()
    np.testing.assert_allclose(run.series("hidden_grad_norm")[0], recomputed, rtol=1e-5)


def test_info_prints_runs_series_and_events(tmp_path, capsys):
    path = tmp_path / "run.gscope"
    run_cli("record", *FAST, "--steps", "3", "-o", path, capsys=capsys)
    code, out, _ = run_cli("info", path, capsys=capsys)
    assert code == 0 and "hidden_grad_norm" in out and "run 0" in out
    code, out, _ = run_cli("info", path, "--json", capsys=capsys)
    summary = json.loads(out)
    assert summary["runs"][0]["config"]["seq_len"] == 8


def test_info_lists_bookmarks_per_run(tmp_path, capsys):
    from gradscope.session import add_bookmark
    path = tmp_path / "run.gscope"
    run_cli("record", *FAST, "--steps", "3", "-o", path, capsys=capsys)
    bookmark = add_bookmark(path, 0, 1, "look here")
    code, out, _ = run_cli("info", path, capsys=capsys)
    assert code == 0 and "(schema 2," in out and "bookmarks: 1" in out
    assert f"step 1: look here  [#{bookmark.id}]" in out
    code, out, _ = run_cli("info", path, "--json", capsys=capsys)
    assert json.loads(out)["runs"][0]["bookmarks"] == [
        {"id": bookmark.id, "step": 1, "note": "look here", "created": bookmark.created}]


@pytest.mark.parametrize("args, option", [
    (["--arch", "transformer"], "--arch"),
    (["--seq-len", "0"], "--seq-len"),
    (["--lr", "-0.1"], "--lr"),
    (["--hidden", "1000000"], "--hidden"),
    (["--hidden", "many"], "--hidden"),
    (["--layers", "7"], "--layers"),
    (["--task", "charlm", "--text", "/no/such/file.txt"], "--text"),
    (["--task", "csv"], "--csv"),
    (["--clip-norm", "1", "--clip-value", "1"], "--clip-value"),
    (["--clip-norm", "-1"], "--clip-norm"),
    (["--clip-value", "0"], "--clip-value"),
    (["--task", "charlm", "--bidirectional"], "--bidirectional"),
    (["--optimizer", "lion"], "--optimizer"),
    (["--bidirectional", "--tbptt", "5"], "--tbptt"),
])
def test_invalid_options_give_one_line_naming_the_option_and_exit_2(tmp_path, capsys, args, option):
    code, out, err = run_cli("record", *args, "-o", tmp_path / "x.gscope", capsys=capsys)
    assert code == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1 and option in err, err
    assert not (tmp_path / "x.gscope").exists() or open_session(tmp_path / "x.gscope")


def test_binary_and_empty_data_files_are_refused_by_name(tmp_path, capsys):
    binary = tmp_path / "data.bin"
    binary.write_bytes(bytes(range(256)) * 10)
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    for args, option in ((["--task", "charlm", "--text", binary], "--text"),
                         (["--task", "charlm", "--text", empty], "--text"),
                         (["--task", "csv", "--csv", binary], "--csv"),
                         (["--task", "csv", "--csv", empty], "--csv")):
        code, _, err = run_cli("record", *args, "-o", tmp_path / "x.gscope", capsys=capsys)
        assert code == 2 and option in err and len(err.strip().splitlines()) == 1, err


def test_a_toml_config_is_read_and_the_command_line_overrides_it(tmp_path, capsys):
    config = tmp_path / "lesson.toml"
    config.write_text('arch = "lstm"\nseq-len = 7\nhidden = 5\nbatch = 3\nsteps = 2\n')
    path = tmp_path / "run.gscope"
    assert run_cli("record", "--config", config, "--hidden", "4", "-o", path, capsys=capsys)[0] == 0
    run = open_session(path).runs[0]
    assert (run.config.arch, run.config.seq_len, run.config.hidden) == ("lstm", 7, 4)
    config.write_text('arch = "lstm"\nwidth = 3\n')
    code, _, err = run_cli("record", "--config", config, "-o", path, capsys=capsys)
    assert code == 2 and "--width: unknown setting" in err


def test_info_on_a_broken_file_is_one_clear_line(tmp_path, capsys):
    broken = tmp_path / "broken.gscope"
    broken.write_bytes(b"SQLite format 3\x00" + os.urandom(3000))
    code, _, err = run_cli("info", broken, capsys=capsys)
    assert code == 2 and "broken.gscope" in err and len(err.strip().splitlines()) == 1


def test_record_killed_mid_run_leaves_a_readable_file(tmp_path):
    path = tmp_path / "killed.gscope"
    child = subprocess.Popen([sys.executable, "-m", "gradscope", "record", *FAST, "--steps", "1000000",
                              "-o", str(path)], stderr=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        steps = 0
        while time.monotonic() < deadline and steps < 50:
            time.sleep(0.2)
            try:
                with open_session(path) as session:
                    steps = len(session.runs[0].steps) if session.runs else 0
            except SessionError:
                pass
        assert steps >= 50, "the recording never committed 50 steps"
        child.send_signal(signal.SIGKILL)
        child.wait(10)
    finally:
        if child.poll() is None:
            child.kill()
    with open_session(path) as session:
        run = session.runs[0]
        recorded = run.steps
        assert len(recorded) >= steps
        assert list(recorded) == list(range(len(recorded)))
        assert np.all(np.isfinite(run.series("loss")))


def test_ctrl_c_stops_between_steps_and_saves_everything(tmp_path):
    path = tmp_path / "stopped.gscope"
    child = subprocess.Popen([sys.executable, "-m", "gradscope", "record", *FAST, "--steps", "1000000",
                              "-o", str(path), "--json"], stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        time.sleep(0.3)
        try:
            with open_session(path) as session:
                if session.runs and len(session.runs[0].steps) > 20:
                    break
        except SessionError:
            pass
    child.send_signal(signal.SIGINT)
    out, _ = child.communicate(timeout=30)
    assert child.returncode == 0
    summary = json.loads(out)
    assert summary["state"] == "stopped"
    with open_session(path) as session:
        assert session.runs[0].state.value == "stopped"
        assert len(session.runs[0].steps) == summary["steps"]


def test_an_existing_session_is_kept_unless_asked(tmp_path, capsys):
    path = tmp_path / "run.gscope"
    assert run_cli("record", *FAST, "--steps", "2", "-o", path, capsys=capsys)[0] == 0
    code, _, err = run_cli("record", *FAST, "--steps", "2", "-o", path, capsys=capsys)
    assert code == 2 and "--output" in err and "--append" in err
    assert run_cli("record", *FAST, "--steps", "2", "--arch", "gru", "-o", path, "--append", capsys=capsys)[0] == 0
    assert [run.config.arch for run in open_session(path).runs] == ["rnn", "gru"]
    assert run_cli("record", *FAST, "--steps", "2", "--arch", "lstm", "-o", path, "--force", capsys=capsys)[0] == 0
    assert [run.config.arch for run in open_session(path).runs] == ["lstm"]


def test_a_diverged_recording_is_saved_and_exits_3(tmp_path, capsys):
    path = tmp_path / "boom.gscope"
    code, out, err = run_cli("record", "--task", "sine", "--seq-len", "30", "--hidden", "6", "--batch", "4",
                             "--init", "identity", "--rho", "3", "--nonlinearity", "relu", "--optimizer", "sgd",
                             "--lr", "5", "--steps", "200", "-o", path, "--json", capsys=capsys)
    assert code == 3
    summary = json.loads(out)
    assert summary["state"] == "diverged" and "step" in summary["divergence"]
    assert "clipping" in err
    with open_session(path) as session:
        assert session.runs[0].state.value == "diverged"
        assert any(e.kind == "diverged" for e in session.runs[0].events)


def test_toml_takes_the_clip_options_and_relative_paths_become_absolute(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "tiny.txt").write_text("to be or not to be, that is the question\n" * 20)
    (tmp_path / "lesson.toml").write_text('task = "charlm"\ntext = "tiny.txt"\nclip-norm = 0.5\n'
                                          'seq-len = 6\nhidden = 4\nbatch = 2\nsteps = 2\n')
    assert run_cli("record", "--config", "lesson.toml", "-o", "run.gscope", capsys=capsys)[0] == 0
    config = open_session(tmp_path / "run.gscope").runs[0].config
    assert (config.clip_mode, config.clip_threshold) == ("norm", 0.5)
    assert Path(config.text).is_absolute() and Path(config.text).exists()


def test_the_readme_python_example_runs(tmp_path, capsys):
    path = tmp_path / "vanishing.gscope"
    assert run_cli("record", *FAST, "--steps", "2", "-o", path, capsys=capsys)[0] == 0
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    example = readme.split("```python")[1].split("```")[0].replace("sessions/vanishing.gscope", str(path))
    exec(compile(example, "README.md", "exec"), {})


def test_record_compare_trains_the_runs_in_lockstep_into_one_session(tmp_path, capsys):
    path = tmp_path / "compared.gscope"
    code, out, err = run_cli("record", "--compare", "arch=rnn,lstm,gru", *FAST, "--steps", "9", "--probe-every", "3",
                             "-o", path, "--json", capsys=capsys)
    assert code == 0, err
    summaries = [json.loads(line) for line in out.strip().splitlines()]
    assert [(s["run"], s["compared"], s["steps"], s["state"]) for s in summaries] == [
        (0, "rnn", 9, "finished"), (1, "lstm", 9, "finished"), (2, "gru", 9, "finished")]
    with open_session(path) as session:
        runs = session.runs
        assert [run.config.arch for run in runs] == ["rnn", "lstm", "gru"]
        assert all(list(run.steps) == list(range(9)) for run in runs)
        batches = [run.probe_batch["inputs"] for run in runs]     # the same seed: the same probe batch
        assert all(np.array_equal(batch, batches[0]) for batch in batches)
        marks = [next(dict(e.detail) for e in run.events if e.kind == "comparison") for run in runs]
        assert marks == [{"runs": [0, 1, 2], "varies": ["arch"]}] * 3
    code, out, _ = run_cli("info", path, capsys=capsys)
    assert "compared in lockstep with runs 1, 2 (varying arch)" in out
    code, out, _ = run_cli("info", path, "--json", capsys=capsys)
    assert json.loads(out)["runs"][1]["comparison"] == {"runs": [0, 1, 2], "varies": ["arch"]}


def test_record_compare_of_a_number_and_of_the_clipping(tmp_path, capsys):
    path = tmp_path / "rho.gscope"
    code, out, err = run_cli("record", "--compare", "rho=0.5,1.5", "--compare", "clip-norm=1,100", "--init",
                             "orthogonal", *FAST, "--steps", "4", "-o", path, "--json", capsys=capsys)
    assert code == 0, err
    assert [json.loads(line)["compared"] for line in out.strip().splitlines()] == [
        "ρ = 0.5, clip threshold = 1", "ρ = 1.5, clip threshold = 100"]
    with open_session(path) as session:
        assert [(run.config.rho, run.config.clip_mode, run.config.clip_threshold) for run in session.runs] == [
            (0.5, "norm", 1.0), (1.5, "norm", 100.0)]


@pytest.mark.parametrize("compare, words", [
    (["width=2,3"], "unknown setting 'width'"),
    (["depth=2,3"], "rnn does not read it"),
    (["rho=0.5"], "two or three values"),
    (["rho=0.5,1,1.5,2"], "at most 3 runs"),
    (["hidden=8,100000"], "hidden"),
    (["arch=rnn,transformer"], "unknown value 'transformer'"),
    (["rho=0.5,1.5", "arch=rnn,lstm,gru"], "as many values"),
    (["rho"], "expected KEY=V1,V2"),
    (["hidden=8,many"], "not a whole number"),
    (["arch=rnn,rnn"], "two runs would be the same"),
    (["rho=0.5,0.50"], "two runs would be the same"),
])
def test_a_bad_comparison_is_one_line_and_exit_2(tmp_path, capsys, compare, words):
    args = [item for text in compare for item in ("--compare", text)]
    code, out, err = run_cli("record", *args, *FAST, "--steps", "2", "-o", tmp_path / "x.gscope", capsys=capsys)
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1 and "--compare" in err, err
    assert words in err, err
    assert not (tmp_path / "x.gscope").exists()
