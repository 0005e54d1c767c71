"""Adding, copy, recall and sine: targets and baselines recomputed from the inputs."""
from __future__ import annotations

import math

import pytest
import torch

from gradscope import tasks
from gradscope.config import ConfigError, RunConfig
from gradscope.tasks.adding import AddingTask
from gradscope.tasks.copy_task import CopyTask
from gradscope.tasks.recall import RecallTask
from gradscope.tasks.sine import NOISE_STD, SineTask


def generator(seed=0):
    return torch.Generator().manual_seed(seed)


# -- adding -------------------------------------------------------------------------------------

@pytest.mark.parametrize("T", [2, 3, 10, 51])
def test_adding_target_is_the_sum_of_the_marked_values(T):
    task = AddingTask(T)
    x, target = task.sample(64, generator())
    values, markers = x[..., 0], x[..., 1]
    assert ((values >= 0) & (values < 1)).all()
    assert set(markers.unique().tolist()) <= {0.0, 1.0}
    assert (markers.sum(dim=1) == 2).all()
    half = T // 2
    assert (markers[:, :half].sum(dim=1) == 1).all(), "one marker in the first half"
    assert (markers[:, half:].sum(dim=1) == 1).all(), "one marker in the second half"
    assert torch.allclose(target[:, 0], (values * markers).sum(dim=1), rtol=1e-5, atol=1e-6)


def test_adding_metrics():
    task = AddingTask(20)
    x, target = task.sample(200, generator())
    perfect = task.metrics(target.clone(), target)
    assert perfect["mse"] == 0.0 and perfect["accuracy"] == 1.0
    constant = torch.ones_like(target)
    metrics = task.metrics(constant, target)
    assert metrics["baseline_mse"] == pytest.approx(float(((target - 1) ** 2).mean()))
    assert metrics["mse"] == pytest.approx(metrics["baseline_mse"])
    assert 0.1 < metrics["baseline_mse"] < 0.25  # the variance of a sum of two U(0,1) is 1/6
    off = target + torch.tensor([[0.03]] * 100 + [[0.05]] * 100)
    assert task.metrics(off, target)["accuracy"] == pytest.approx(0.5)


def test_adding_needs_two_steps():
    with pytest.raises(ConfigError, match="--seq-len"):
        tasks.build(RunConfig(task="adding", seq_len=1))


# -- copy ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("T,k", [(1, 1), (5, 3), (20, 8)])
def test_copy_layout_and_target(T, k):
    task = CopyTask(T, k)
    assert task.length == T + 2 * k and task.input_size == task.output_size == 10
    x, target = task.sample(16, generator())
    assert (x.sum(dim=2) == 1).all(), "inputs are one-hot"
    ids = x.argmax(dim=2)
    assert ((ids[:, :k] >= 1) & (ids[:, :k] <= 8)).all()
    assert (ids[:, k:k + T - 1] == 0).all(), "T-1 blanks"
    assert (ids[:, k + T - 1] == 9).all(), "then the delimiter"
    assert (ids[:, k + T:] == 0).all(), "then k blanks"
    assert torch.equal(target, ids[:, :k])
    assert target.dtype == torch.int64


def test_copy_scores_only_the_last_k_positions():
    task = CopyTask(6, 4)
    x, target = task.sample(8, generator())
    logits = torch.zeros(8, task.length, 10)
    logits[:, -4:] = 10 * torch.nn.functional.one_hot(target, 10).float()
    scored = task.loss(logits, target)
    logits[:, :-4] = torch.randn(8, task.length - 4, 10, generator=generator(1))  # unscored positions may say anything
    assert task.loss(logits, target) == scored
    metrics = task.metrics(logits, target)
    assert metrics["accuracy"] == 1.0 and metrics["sequence_accuracy"] == 1.0
    assert metrics["baseline_loss"] == pytest.approx(math.log(8))


def test_copy_baseline_is_the_loss_of_uniform_guessing_among_symbols():
    task = CopyTask(5, 3)
    x, target = task.sample(8, generator())
    logits = torch.full((8, task.length, 10), -1e9)
    logits[:, :, 1:9] = 0.0  # uniform over the 8 symbols, nothing on blank or delimiter
    assert float(task.loss(logits, target)) == pytest.approx(task.metrics(logits, target)["baseline_loss"])


# -- recall -------------------------------------------------------------------------------------

def test_recall_target_is_the_first_token():
    task = RecallTask(15)
    x, target = task.sample(64, generator())
    assert (x.sum(dim=2) == 1).all()
    assert torch.equal(target, x[:, 0].argmax(dim=1))
    assert target.dtype == torch.int64 and target.shape == (64,)
    assert len(x[:, 1:].argmax(dim=2).unique()) == 8, "distractors use the same 8 classes"
    logits = 5 * torch.nn.functional.one_hot(target, 8).float()
    assert task.metrics(logits, target)["accuracy"] == 1.0
    assert task.metrics(logits, target)["chance_accuracy"] == pytest.approx(1 / 8)


# -- sine ---------------------------------------------------------------------------------------

def test_sine_baseline_is_the_last_value_predictor():
    task = SineTask(50)
    x, target = task.sample(32, generator())
    assert x.shape == (32, 50, 1) and target.shape == (32, 2)
    assert torch.allclose(target[:, 1], x[:, -1, 0], rtol=1e-5, atol=1e-6)
    last = x[:, -1, :]
    metrics = task.metrics(last, target)
    expected = float(((x[:, -1, 0] - target[:, 0]) ** 2).mean())
    assert metrics["baseline_mse"] == pytest.approx(expected)
    assert metrics["mse"] == pytest.approx(expected)
    assert task.metrics(target[:, :1].clone(), target)["mse"] == 0.0


def test_sine_series_is_smooth_and_bounded():
    task = SineTask(100)
    x, target = task.sample(64, generator(3))
    assert x.abs().max() < 2 + 6 * NOISE_STD
    # each step moves by at most 2*pi*f*a per component plus noise: far less than the range
    steps = (x[:, 1:, 0] - x[:, :-1, 0]).abs()
    assert steps.max() < 2 * 2 * math.pi * 0.2 * 1.0 + 8 * NOISE_STD
    assert x.std() > 0.3
