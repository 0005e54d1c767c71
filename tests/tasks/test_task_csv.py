"""The CSV forecasting task: reading columns, normalising, windows."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from gradscope import tasks
from gradscope.config import RunConfig

VALUES = [float(v) for v in np.round(np.sin(np.arange(40) / 4) * 10 + 50, 4)]


def build(path, column=None, seq_len=8):
    return tasks.build(RunConfig(task="csv", csv=str(path), csv_column=column, seq_len=seq_len))


def write(tmp_path, text, name="data.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def series_of(task):
    return task.denormalise(task.values).double().numpy()


def test_header_and_default_last_numeric_column(tmp_path):
    lines = ["date,price,note"] + [f"2024-01-{i + 1:02d},{v},ok" for i, v in enumerate(VALUES)]
    task = build(write(tmp_path, "\n".join(lines)))
    np.testing.assert_allclose(series_of(task), VALUES, rtol=1e-6)
    assert "price" in task.column


def test_no_header(tmp_path):
    task = build(write(tmp_path, "\n".join(f"{i},{v}" for i, v in enumerate(VALUES))))
    np.testing.assert_allclose(series_of(task), VALUES, rtol=1e-6)
    assert task.column == "column 2"


def test_single_column_without_header(tmp_path):
    task = build(write(tmp_path, "\n".join(map(str, VALUES)) + "\n\n"))
    np.testing.assert_allclose(series_of(task), VALUES, rtol=1e-6)


def test_column_by_name_case_and_number(tmp_path):
    lines = ["a;B;c"] + [f"{v};{-v};{i}" for i, v in enumerate(VALUES)]
    path = write(tmp_path, "\n".join(lines))
    np.testing.assert_allclose(series_of(build(path, "a")), VALUES, rtol=1e-6)
    np.testing.assert_allclose(series_of(build(path, "b")), [-v for v in VALUES], rtol=1e-6)
    np.testing.assert_allclose(series_of(build(path, "1")), VALUES, rtol=1e-6)


def test_series_is_z_scored(tmp_path):
    task = build(write(tmp_path, "\n".join(map(str, VALUES))))
    assert float(task.values.mean()) == pytest.approx(0.0, abs=1e-5)
    assert float(task.values.std(unbiased=False)) == pytest.approx(1.0, abs=1e-5)
    assert task.mean == pytest.approx(np.mean(VALUES)) and task.std == pytest.approx(np.std(VALUES))


def test_windows_and_targets_come_from_the_series(tmp_path):
    task = build(write(tmp_path, "\n".join(map(str, VALUES))), seq_len=8)
    x, target = task.sample(20, torch.Generator().manual_seed(0))
    values = task.values
    for i in range(20):
        window = x[i, :, 0]
        starts = [s for s in range(len(values) - 8) if torch.equal(values[s:s + 8], window)]
        assert starts, "every window is a run of the series"
        assert target[i, 0] == values[starts[0] + 8]
        assert target[i, 1] == window[-1]
    metrics = task.metrics(x[:, -1, :], target)
    assert metrics["mse"] == pytest.approx(metrics["baseline_mse"])


def test_shortest_series_that_works(tmp_path):
    task = build(write(tmp_path, "\n".join(map(str, VALUES[:10]))), seq_len=8)
    x, target = task.sample(6, torch.Generator().manual_seed(0))
    assert x.shape == (6, 8, 1)
