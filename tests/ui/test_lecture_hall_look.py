"""The window as the back row sees it, measured in the scene (`look_probe.py`, in a process of
its own on an offscreen screen of each size): at 1280x720 and 1920x1080, at the desk and in
presentation mode, with one run and with three overlaid, every layout and every tab keep each
plot at least 140 px high, no two tick labels overlap, and every legend and plot stays inside
its panel; in presentation mode no tick label is under 16 px and no data line under 3 px."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent
SESSIONS = HERE.parents[1] / "sessions"


@pytest.fixture(scope="module")
def three_runs(tmp_path_factory) -> Path:
    """Three RNNs compared side by side (rho 0.5, 1.0, 1.5), recorded headless."""
    path = tmp_path_factory.mktemp("compared") / "rho.gscope"
    done = subprocess.run([sys.executable, "-m", "gradscope", "record", "--arch", "rnn", "--task", "adding",
                           "--hidden", "16", "--seq-len", "30", "--steps", "60", "--probe-every", "10",
                           "--init", "orthogonal", "--compare", "rho=0.5,1.0,1.5", "-o", str(path)],
                          capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr
    return path


@pytest.fixture(scope="module")
def plain_and_residual(tmp_path_factory) -> Path:
    """A small plain CNN against its residual twin on digits, recorded headless."""
    path = tmp_path_factory.mktemp("cnn") / "plain-residual.gscope"
    done = subprocess.run([sys.executable, "-m", "gradscope", "record", "--arch", "cnn", "--task", "digits",
                           "--depth", "6", "--compare", "residual=false,true", "--steps", "20", "--probe-every", "10",
                           "-o", str(path)], capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr
    return path


def measured(size: str, mode: str, path: Path, runs: tuple = ()) -> dict:
    done = subprocess.run([sys.executable, str(HERE / "look_probe.py"), size, mode, str(path), *map(str, runs)],
                          capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("example", ["exploding-rnn-clipped", "lstm"])     # an RNN's panels, an LSTM's gates
@pytest.mark.parametrize("mode", ["desk", "presentation"])
@pytest.mark.parametrize("size", ["1280x720", "1920x1080"])
def test_one_run_reads_from_the_back_row(size, mode, example):
    found = measured(size, mode, SESSIONS / f"{example}.gscope")
    assert found["panels_measured"] >= 10            # every layout's stage and every tab was looked at
    assert found["problems"] == []
    width, height = (int(part) for part in size.split("x"))
    assert found["window"][0] <= width and found["window"][1] <= height


@pytest.mark.parametrize("mode", ["desk", "presentation"])
@pytest.mark.parametrize("size", ["1280x720", "1920x1080"])
def test_three_runs_overlaid_read_from_the_back_row(three_runs, size, mode):
    """The comparison's legends ("run 0: RNN H=32 T=50 (earlier)") once pushed the error-signal
    plot past its panel, cutting its axis and colour bar off; with three runs' keys every plot
    still keeps its height."""
    found = measured(size, mode, three_runs, runs=(0, 1, 2))
    assert found["panels_measured"] >= 10
    assert found["problems"] == []


@pytest.mark.parametrize("mode", ["desk", "presentation"])
def test_a_cnn_comparison_reads_at_1280x720(plain_and_residual, mode):
    """The image layouts (depth, filters, images, accuracy, layers) and their tabs, plain and
    residual overlaid."""
    found = measured("1280x720", mode, plain_and_residual, runs=(0, 1))
    assert found["panels_measured"] >= 10
    assert found["problems"] == []


def test_the_stage_titles_are_whole_beside_their_readouts_in_presentation_at_1280x720():
    """The vanishing example at its last step, as the back row sees it: "Gradient through time"
    stands whole beside "step 590 · m = 0.769" (a readout that kept more room than a digit's
    elided it). At the desk the settings take a third of the width, and a title may be shortened
    there, its whole text in its tooltip."""
    found = measured("1280x720", "presentation", SESSIONS / "vanishing-rnn.gscope")
    assert found["problems"] == []
    assert not {"Gradient through time", "Gradient norm", f"Clip rate, last {100} steps"} & set(found["elided_titles"]), \
        found["elided_titles"]
