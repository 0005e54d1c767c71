"""The contract every task keeps: determinism, shapes, and loss = mean of per-sequence losses."""
from __future__ import annotations

import math

import pytest
import torch

from gradscope import tasks
from gradscope.config import RunConfig

TASK_NAMES = ["adding", "copy", "recall", "sine", "charlm", "csv"]


@pytest.fixture(scope="module")
def series_csv(tmp_path_factory):
    path = tmp_path_factory.mktemp("csv") / "series.csv"
    rows = ["time,value"] + [f"{i},{math.sin(i / 3) + 0.01 * i}" for i in range(200)]
    path.write_text("\n".join(rows) + "\n")
    return path


@pytest.fixture(params=TASK_NAMES)
def task(request, series_csv):
    config = RunConfig(task=request.param, seq_len=12, copy_symbols=3, csv=str(series_csv))
    return tasks.build(config)


def batch(task, n=5, seed=7):
    return task.sample(n, torch.Generator().manual_seed(seed))


def test_same_seed_gives_identical_batches(task):
    x1, y1 = batch(task)
    x2, y2 = batch(task)
    assert torch.equal(x1, x2) and torch.equal(y1, y2)
    x3, _ = batch(task, seed=8)
    assert not torch.equal(x1, x3)


def test_sampling_uses_only_the_given_generator(task):
    torch.manual_seed(123)
    before = torch.get_rng_state()
    x1, y1 = batch(task)
    assert torch.equal(torch.get_rng_state(), before), "sample touched the global RNG"
    torch.manual_seed(999)
    x2, y2 = batch(task)
    assert torch.equal(x1, x2) and torch.equal(y1, y2)


def test_consecutive_batches_differ(task):
    generator = torch.Generator().manual_seed(0)
    x1, _ = task.sample(4, generator)
    x2, _ = task.sample(4, generator)
    assert not torch.equal(x1, x2)


def test_probe_batch_is_fixed(task):
    x1, y1 = task.probe_batch(4, seed=3)
    x2, y2 = task.probe_batch(4, seed=3)
    assert torch.equal(x1, x2) and torch.equal(y1, y2)
    assert x1.shape[0] == 4


def test_shapes_and_dtypes(task):
    x, target = batch(task, n=5)
    assert x.dtype == torch.float32 and x.device.type == "cpu"
    assert x.shape == (5, task.length, task.input_size)
    assert torch.isfinite(x).all()
    assert target.shape[0] == 5
    assert target.dtype in (torch.float32, torch.int64)
    assert task.output_shape(5) == ((5, task.length, task.output_size) if task.many_to_many
                                    else (5, task.output_size))
    assert isinstance(task.name, str) and task.name in TASK_NAMES
    assert task.metric_name


def test_loss_is_mean_of_single_sequence_losses(task):
    x, target = batch(task, n=6)
    output = torch.randn(task.output_shape(6), generator=torch.Generator().manual_seed(1))
    loss = task.loss(output, target)
    assert loss.ndim == 0
    singles = torch.stack([task.loss(output[i:i + 1], target[i:i + 1]) for i in range(6)])
    assert torch.allclose(6 * loss, singles.sum(), rtol=1e-5, atol=1e-6)
    assert torch.allclose(task.per_sequence_loss(output, target), singles, rtol=1e-5, atol=1e-6)


def test_loss_backpropagates(task):
    x, target = batch(task, n=3)
    output = torch.zeros(task.output_shape(3), requires_grad=True)
    task.loss(output, target).backward()
    assert output.grad is not None and torch.isfinite(output.grad).all()


def test_metrics_hold_the_primary_metric_as_floats(task):
    x, target = batch(task, n=4)
    output = torch.randn(task.output_shape(4), generator=torch.Generator().manual_seed(2))
    metrics = task.metrics(output, target)
    assert task.metric_name in metrics
    assert all(isinstance(value, float) for value in metrics.values())


def test_a_wrongly_shaped_output_is_refused(task):
    x, target = batch(task, n=4)
    wrong = torch.zeros(4, task.length + 1, task.output_size + 1)
    with pytest.raises(ValueError, match="shape"):
        task.loss(wrong, target)


def test_build_returns_a_task_per_name(series_csv):
    for name in TASK_NAMES:
        task = tasks.build(RunConfig(task=name, seq_len=10, csv=str(series_csv)))
        assert isinstance(task, tasks.Task)
        assert task.name == name
