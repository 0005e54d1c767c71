"""`gradscope export` and `gradscope open` on the command line: series straight from the file,
a picture drawn offscreen, and every bad input one line on stderr with exit status 2."""
from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from gradscope.bench.gui_records import write_session as synthetic_session
from gradscope.cli import main
from gradscope.commands.export import WINDOW_SIZE
from gradscope.session import open_session

STEPS = 50
REPO = Path(__file__).parents[2]


def write_session(path: Path, steps: int = STEPS, runs: int = 2) -> Path:
    """Synthetic records shaped like a small LSTM run (no training), each run from its own seed."""
    synthetic_session(path, steps, runs=runs, length=10, hidden=5, probe_every=5, threshold_change=True)
    return path


@pytest.fixture
def session_file(tmp_path) -> Path:
    return write_session(tmp_path / "lesson.gscope")


def run_cli(*args, capsys) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def read_csv(path: Path) -> dict[str, list[str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    header, body = rows[0], rows[1:]
    assert all(len(row) == len(header) for row in body)
    return {column: [row[i] for row in body] for i, column in enumerate(header)}


def one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got {len(lines)}:\n{err}"
    return lines[0]


# -- series, in-process ------------------------------------------------------------------------

def test_csv_of_the_last_run_holds_its_recorded_series(session_file, tmp_path, capsys):
    out = tmp_path / "run.csv"
    code, stdout, err = run_cli("export", session_file, "--format", "csv", "-o", out, capsys=capsys)
    assert code == 0, err
    assert stdout == "" and f"wrote {STEPS} rows of run 1" in err
    table = read_csv(out)
    with open_session(session_file) as session:
        run = session.runs[-1]
        assert [int(s) for s in table["step"]] == run.steps.tolist()
        for name in ("loss", "grad_norm"):
            steps, values = run.series_with_steps(name)
            assert np.array_equal(steps, run.steps)
            assert [float(v) for v in table[name]] == run.series(name).tolist()   # bit for bit
        probed = run.series_steps("hidden_grad_norm")
        column = table["hidden_grad_norm[3]"]
        assert [int(table["step"][i]) for i, v in enumerate(column) if v] == probed.tolist()
        assert [float(v) for v in column if v] == run.series("hidden_grad_norm")[:, 3].tolist()


def test_csv_of_a_chosen_run_and_step_range(session_file, tmp_path, capsys):
    out = tmp_path / "part"          # the suffix is added
    code, _, err = run_cli("export", session_file, "--format", "csv", "--run", "0", "--steps", "10:30",
                           "-o", out, capsys=capsys)
    assert code == 0, err
    table = read_csv(tmp_path / "part.csv")
    with open_session(session_file) as session:
        run = session.run(0)
        loss = run.series("loss")
        assert [int(s) for s in table["step"]] == list(range(10, 30))
        assert [float(v) for v in table["loss"]] == loss[10:30].tolist()
        assert loss.tolist() != session.run(1).series("loss").tolist()   # the runs differ: run 0 it is


def test_npz_holds_the_steps_and_series(session_file, tmp_path, capsys):
    out = tmp_path / "run.npz"
    code, _, err = run_cli("export", session_file, "--format", "npz", "--run", "1", "-o", out, capsys=capsys)
    assert code == 0, err
    assert "arrays of run 1" in one_line(err)
    with np.load(out, allow_pickle=False) as data, open_session(session_file) as session:
        run = session.run(1)
        assert np.array_equal(data["steps"], run.steps)
        assert np.array_equal(data["loss"], run.series("loss"))
        assert np.array_equal(data["hidden_grad_norm"], run.series("hidden_grad_norm"))
        assert np.array_equal(data["hidden_grad_norm.steps"], run.series_steps("hidden_grad_norm"))
        assert np.array_equal(data["gates/forget"], run.series("gates/forget"))


# -- bad inputs: one line, exit 2, no file ---------------------------------------------------------

@pytest.mark.parametrize("args, words", [
    (["--steps", "junk"], ["--steps", "junk"]),
    (["--steps", "30:10"], ["--steps", "empty"]),
    (["--steps", "1:2:3"], ["--steps"]),
    (["--run", "7"], ["run 7", "[0, 1]"]),
    (["--run", "seven"], ["--run"]),
    (["--panel", "nope"], ["--panel", "nope"]),
    (["--steps", "500:600"], ["no recorded steps"]),
], ids=["steps-junk", "steps-empty", "steps-three-parts", "run-missing", "run-not-a-number",
        "panel-unknown", "steps-out-of-the-run"])
def test_bad_export_options_are_one_line_and_exit_2(session_file, tmp_path, capsys, args, words):
    out = tmp_path / "out.csv"
    code, stdout, err = run_cli("export", session_file, "--format", "csv", *args, "-o", out, capsys=capsys)
    assert code == 2 and stdout == ""
    line = one_line(err)
    assert line.startswith("gradscope export"), line
    for word in words:
        assert word in line, (word, line)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lesson.gscope"]


@pytest.mark.parametrize("fmt", ["csv", "png"])
def test_a_missing_session_file_is_one_line_and_exit_2(tmp_path, capsys, fmt):
    missing = tmp_path / "nowhere.gscope"
    code, _, err = run_cli("export", missing, "--format", fmt, "-o", tmp_path / f"out.{fmt}", capsys=capsys)
    assert code == 2
    line = one_line(err)
    assert str(missing) in line and "no such session file" in line
    assert list(tmp_path.iterdir()) == []


def test_a_unknown_panel_for_a_picture_is_refused_before_drawing(session_file, tmp_path, capsys):
    code, _, err = run_cli("export", session_file, "--format", "png", "--panel", "nope", "-o", tmp_path / "p.png",
                           capsys=capsys)
    assert code == 2 and "--panel" in one_line(err) and not (tmp_path / "p.png").exists()


# -- a picture, in a subprocess, drawn offscreen -----------------------------------------------------

def gradscope(*args, timeout: float = 120) -> subprocess.CompletedProcess:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(REPO))
    env.pop("DISPLAY", None)
    env.pop("WAYLAND_DISPLAY", None)
    return subprocess.run([sys.executable, "-m", "gradscope", *map(str, args)], capture_output=True, text=True,
                          env=env, timeout=timeout, cwd=REPO)


def test_png_export_draws_the_window_offscreen(session_file, tmp_path):
    out = tmp_path / "window.png"
    done = gradscope("export", session_file, "--format", "png", "--run", "0", "--steps", ":30", "-o", out)
    assert done.returncode == 0, done.stderr
    assert f"wrote run 0 at step 29 to {out}" in done.stderr
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")   # the IHDR chunk
    assert (width, height) == WINDOW_SIZE
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lesson.gscope", "window.png"]


# -- gradscope open ----------------------------------------------------------------------------------

@pytest.fixture
def no_window(monkeypatch):
    """Fails the test if the window would be made."""
    import gradscope.ui.app

    opened = []
    monkeypatch.setattr(gradscope.ui.app, "run_gui", lambda *a, **k: opened.append((a, k)) or 0)
    return opened


@pytest.mark.parametrize("content, words", [
    (None, ["no such session file"]),
    (b"", ["is empty"]),
    (b"these are not the gradients you are looking for\n" * 40, ["not a gradscope session"]),
    (b"SQLite format 3\x00" + bytes(range(256)) * 20, ["not a gradscope session"]),
], ids=["missing", "empty", "text", "garbage-after-the-magic"])
def test_open_on_a_bad_file_is_one_line_exit_2_and_no_window(tmp_path, capsys, no_window, content, words):
    path = tmp_path / "bad.gscope"
    if content is not None:
        path.write_bytes(content)
    code, stdout, err = run_cli("open", path, capsys=capsys)
    assert code == 2 and stdout == ""
    line = one_line(err)
    assert line.startswith("gradscope open: ") and str(path) in line
    for word in words:
        assert word in line, (word, line)
    assert no_window == []


def test_open_on_a_good_file_does_make_the_window(session_file, capsys, no_window):
    assert run_cli("open", session_file, capsys=capsys)[0] == 0
    assert len(no_window) == 1 and no_window[0][1]["open_path"] == str(session_file)


def test_open_on_garbage_in_a_subprocess_exits_at_once(tmp_path):
    """No window, so no event loop: it returns on its own, long before the timeout."""
    path = tmp_path / "garbage.gscope"
    path.write_bytes(os.urandom(4096))
    done = gradscope("open", path, timeout=60)
    assert done.returncode == 2 and done.stdout == ""
    line = one_line(done.stderr)
    assert line.startswith("gradscope open: ") and str(path) in line
