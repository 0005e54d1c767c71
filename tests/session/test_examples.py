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


def _at(run, name: str, step: int) -> np.ndarray:
    values, steps = run.series(name), run.series_steps(name)
    return values[int(np.flatnonzero(steps == step)[0])]


def _mean_step_norm(run, step: int) -> float:
    """The m of the dashed line, as the window takes it: the geometric mean of the positive
    step Jacobian norms at every timestep."""
    norms = _at(run, "step_jacobian_norm", step)
    norms = norms[np.isfinite(norms) & (norms > 0)]
    return float(np.exp(np.log(norms).mean()))


def _sci(value: float) -> str:
    """A number as the README writes it, to two figures: 4.3·10^-16."""
    mantissa, exponent = f"{value:.1e}".split("e")
    return f"{mantissa}·10^{int(exponent)}"


def test_the_first_five_minutes_state_the_shipped_files_figures(runs):
    tour = README.split("## The first five minutes")[1].split("\n## ")[0]
    vanishing, exploding, clipped = runs["vanishing-rnn"], runs["exploding-rnn"], runs["exploding-rnn-clipped"]
    hidden, jacobian = _at(vanishing, "hidden_grad_norm", 0), _at(vanishing, "jacobian_norm", 0)
    m0, m100 = _mean_step_norm(vanishing, 0), _mean_step_norm(vanishing, 100)
    m_exploding = _mean_step_norm(exploding, 0)
    figures = [
        f"from {hidden[-1]:.2f} at t = 49 to {_sci(hidden[0])} at t = 0",
        f"At step 0, m = {m0:.1f}", f"0.5^49 = {_sci(0.5 ** 49)}", f"near the orange's {_sci(jacobian[0])}",
        f"by step 100 m is {m100:.3f}", f"has risen to {_sci(m100 ** 49)}",
        f"orange stays at {_sci(_at(vanishing, 'jacobian_norm', 100)[0])}",
        f"diverged at step {int(exploding.steps[-1])}",
        f"rises to {_sci(m_exploding ** 49)}",
        f"is {_at(exploding, 'jacobian_norm', 0)[0]:.2f}: every step",
        f"at step 20 their mean m is {_mean_step_norm(exploding, 20):.3f}",
        f"‖dL/dh_0‖ is {_sci(_at(exploding, 'hidden_grad_norm', 10)[0])}",
        "grows from {:.2f} to {:.1f} and {:.0f}".format(*(_at(exploding, "hidden_grad_norm", s)[-1] for s in (0, 10, 20))),
        f"on {int(np.sum(clipped.series('clipped') > 0.5))} of its 600 steps",
        f"reaches {clipped.series('grad_norm').max():.0f}",
        f"‖dh_T/dh_0‖ = {_at(clipped, 'jacobian_norm', 10)[0]:.0f}",
    ]
    missing = [figure for figure in figures if figure not in tour]
    assert not missing, missing
    saturation = [round(100 * float(_at(exploding, "activation_saturation", s).mean())) for s in (0, 10, 20)]
    assert "{}% of the units at step 0, {}% at\n  step 10 and {}% at step 20".format(*saturation) in tour
