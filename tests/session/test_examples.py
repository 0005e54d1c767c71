"""The example sessions shipped in sessions/ show what the README says they show.

Each claim is checked on the shipped file, as a property that survives re-recording on another
machine (`bash sessions/record-examples.sh`): floating-point differs between CPUs and torch
builds, and an exploding run amplifies the difference, so an exact step or count is checked
only against the README's own figure for the shipped file, never as a constant here."""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from gradscope.session import open_session

ROOT = Path(__file__).parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
EXAMPLES = ("vanishing-rnn", "exploding-rnn", "exploding-rnn-clipped", "lstm")


@pytest.fixture(scope="module")
def runs():
    sessions = {name: open_session(ROOT / "sessions" / f"{name}.gscope") for name in EXAMPLES}
    yield {name: session.runs[0] for name, session in sessions.items()}
    for session in sessions.values():
        session.close()


def _mean_over(run, name: str, last: int) -> float:
    return float(np.nanmean(run.series(name)[-last:]))


def _example_row(name: str) -> str:
    """The README's table row for one example file."""
    row = re.search(rf"^\| `{re.escape(name)}.gscope` \|(.*)\|$", README, re.MULTILINE)
    assert row, f"the README's table of examples has no row for {name}.gscope"
    return row.group(1)


def test_the_vanishing_rnn_loses_its_error_signal_within_a_few_timesteps(runs):
    run = runs["vanishing-rnn"]
    hidden = run.series("hidden_grad_norm")               # probes x T
    assert len(hidden) >= 50
    # at every probe: about a thousandfold within ten timesteps, more than fifteen decades by t = 0
    assert np.all(hidden[:, -1] / hidden[:, -11] >= 500)
    assert np.all(hidden[:, 0] / hidden[:, -1] < 1e-15)
    step_norms = run.series("step_jacobian_norm")[:, 1:]
    assert np.all(np.exp(np.log(step_norms).mean(axis=1)) < 0.9)   # every step contracts, on average
    assert float(np.max(run.series("activation_saturation"))) == 0.0  # W_hh's doing, not saturation
    # and so it never learns the task: its error stays at the constant predictor's
    assert _mean_over(run, "metric/mse", 100) > 0.9 * _mean_over(run, "metric/baseline_mse", 100)
    row = _example_row("vanishing-rnn")
    assert "about a thousandfold within ten timesteps" in row and "more than fifteen decades" in row


def test_the_exploding_rnn_diverges_early_as_its_gradient_norm_explodes(runs):
    run = runs["exploding-rnn"]
    assert run.config.clip_mode == "none" and run.state.value == "diverged"
    diverged = [event for event in run.events if event.kind == "diverged"]
    assert len(diverged) == 1
    step = diverged[0].step
    assert 40 <= step <= 150                  # 78 on the machine that recorded it, 67 on another
    assert step == int(run.steps[-1])         # recorded up to the divergence, nothing after
    norms = run.series("grad_norm")
    assert norms[0] < 100 and norms[-1] > 1e15
    saturation = run.series("activation_saturation").mean(axis=1)
    saturation_steps = run.series_steps("activation_saturation")
    assert saturation[0] < 0.2 and saturation[saturation_steps == 20][0] > 0.9   # the tanh units saturate
    # the README states the shipped file's step, and says it depends on the machine
    row = _example_row("exploding-rnn")
    assert f"diverges at step {step}" in row and "depends on the machine" in row
    assert f"from {norms[0]:.0f} to {norms[-1]:.0e}".replace("e+", "·10^") in row


def test_clipping_carries_the_same_rnn_through_all_its_steps(runs):
    run, unclipped = runs["exploding-rnn-clipped"], runs["exploding-rnn"]
    assert run.config.replace(clip_mode="none") == unclipped.config      # the same run, clipped at 1
    assert run.config.clip_mode == "norm" and run.config.clip_threshold == 1.0
    assert run.state.value == "finished" and len(run.steps) == run.config.steps == 600
    clipped = run.series("clipped") > 0.5
    count = int(clipped.sum())
    assert 150 <= count <= 350
    norms, after = run.series("grad_norm"), run.series("grad_norm_clipped")
    assert norms.max() > 10 and np.all(after[clipped] <= 1.0 + 1e-6) and np.all(norms[clipped] > 1.0)
    # early on the long-range Jacobian grows going back in time: the explosion through time
    jacobian, probed = run.series("jacobian_norm"), run.series_steps("jacobian_norm")
    assert jacobian[probed == 10][0][0] > 10
    assert f"clipping on {count} of 600 steps" in _example_row("exploding-rnn-clipped")


def test_the_lstm_learns_the_task_when_its_cell_path_opens(runs):
    run, rnn = runs["lstm"], runs["vanishing-rnn"]
    assert run.config.arch == "lstm" and run.state.value == "finished"
    mse, baseline = _mean_over(run, "metric/mse", 100), _mean_over(run, "metric/baseline_mse", 100)
    assert mse < baseline / 50 and _mean_over(run, "metric/accuracy", 100) > 0.8
    cell, probed = run.series("cell_jacobian_norm"), run.series_steps("cell_jacobian_norm")
    assert cell[0, 0] < 1e-9 and cell[-1, 0] > 0.5       # the cell path alone, all the way from t = 0
    # it opens when the task is learned: the probes before the error falls below half the
    # baseline (over 50 steps) have a closed cell path, those from 100 steps after an open one
    running = np.convolve(run.series("metric/mse"), np.ones(50) / 50, mode="valid")
    learned = int(np.flatnonzero(running < baseline / 2)[0])
    assert 300 <= learned <= 1600
    assert np.all(cell[probed < learned - 50, 0] < 1e-3) and np.all(cell[probed > learned + 100, 0] > 0.5)
    # one cell holds its value: its forget gate stays open at every timestep
    forget = run.series("gates/forget")[-1]                           # T x H, the last probe
    assert np.any(forget.min(axis=0) > 0.95)
    # the error signal reaches t = 0 a million times stronger than the vanishing RNN's
    hidden, rnn_hidden = run.series("hidden_grad_norm")[-1], rnn.series("hidden_grad_norm")[-1]
    assert hidden[0] / hidden[-1] > 1e6 * rnn_hidden[0] / rnn_hidden[-1]
    row = _example_row("lstm")
    assert "cell path carries the gradient back" in row
    assert f"{cell[probed == 960][0, 0]:.2f} at step 960" in row and f"{cell[-1, 0]:.2f} by the end" in row
    assert f"to {mse:.4f}" in row


def test_the_files_stay_small():
    sizes = {name: (ROOT / "sessions" / f"{name}.gscope").stat().st_size for name in EXAMPLES}
    assert all(size < 5_000_000 for size in sizes.values()), sizes
