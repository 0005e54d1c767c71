"""What the panels draw of a run, its history (Qt-free): decimated for drawing within a fixed
budget, never losing the newest value, and the log-space heatmap equal to log10 of the records."""
from __future__ import annotations

import numpy as np

from gradscope.config import RunConfig
from gradscope.records import Event, StepRecord
from gradscope.lab.envelope import HEATMAP_ROWS, Heatmap, Series, log10_finite
from gradscope.lab.history import RunHistory


def test_a_series_halves_when_full_and_keeps_its_steps_in_order():
    series = Series(capacity=8)
    for step in range(100):
        series.append(step, step * 2.0)
    assert series.size <= 8 and series.stride == 16
    assert np.all(np.diff(series.steps) > 0)
    assert series.steps[0] == 0 and np.array_equal(series.values, series.steps * 2.0)


def test_the_heatmap_holds_log10_of_each_probe_and_halves_its_rows():
    heatmap = Heatmap(rows=4)
    rows = [np.array([10.0 ** -k, 1.0, 0.0, np.inf]) for k in range(6)]
    for step, row in enumerate(rows):
        heatmap.append(step * 10, row)
    assert heatmap.size <= 4
    for step, stored in zip(heatmap.steps, heatmap.filled):
        expected = rows[int(step) // 10]
        assert np.allclose(stored[:2], np.log10(expected[:2]))
        assert np.isnan(stored[2]) and np.isnan(stored[3])       # zero and inf draw as gaps
    assert np.array_equal(log10_finite(np.array([100.0, -1.0])), np.array([2.0, np.nan], dtype=np.float32),
                          equal_nan=True)


def test_a_run_history_collects_scalars_probes_clips_and_markers():
    run = RunHistory(RunConfig(arch="lstm", hidden=4, seq_len=3))
    records = []
    for step in range(10):
        arrays = {}
        if step % 3 == 0:
            arrays = {"hidden_grad_norm": np.full(3, step + 1.0), "gate_saturation/forget": np.array([0.0, 0.5, 1.0])}
        records.append(StepRecord(step, {"loss": 1.0 / (step + 1), "grad_norm": 2.0 + step, "clipped": step % 2,
                                         "param_grad_norm/w": 1.0}, arrays, wall_time=100.0 + step * 0.1))
    run.add_records(records)
    run.add_events([Event(4, "settings_changed", {"clip_threshold": 0.5}), Event(5, "state_changed", {})])
    steps, loss = run.series("loss")
    assert np.array_equal(steps, np.arange(10)) and np.allclose(loss, 1.0 / (np.arange(10) + 1))
    assert "param_grad_norm/w" not in run.scalars        # in the session file, not drawn
    assert np.array_equal(run.clip_steps.steps, [1, 3, 5, 7, 9])
    assert np.array_equal(run.clip_steps.values, [3.0, 5.0, 7.0, 9.0, 11.0])
    assert run.clip_rate == 0.5
    assert np.array_equal(run.heatmap.steps, [0, 3, 6, 9]) and run.latest_step == 9
    assert np.allclose(run.series("gate_saturation/forget")[1], 0.5)
    assert [event.kind for event in run.markers] == ["settings_changed"]
    assert run.markers[0].label == "clip threshold 0.5"
    assert abs(run.steps_per_second - 10.0) < 1e-6
    assert run.gates == ("input", "forget", "candidate", "output")
    run.forget_series()                     # an earlier run, drawn faded: its newest probe only
    assert not run.scalars and run.latest_step == 9 and "hidden_grad_norm" in run.latest


def _series_state(series: Series) -> tuple:
    return (series.size, series.stride, series.count, series.last, series.steps.tolist(), series.values.tolist(),
            series.lo.tolist(), series.hi.tolist())


def test_extending_a_series_in_chunks_equals_appending_one_value_at_a_time():
    rng = np.random.default_rng(4)
    for trial in range(60):
        capacity = int(rng.choice([2, 4, 8, 16]))
        n = int(rng.integers(1, 400))
        values = rng.lognormal(size=n)
        values[rng.random(n) < 0.05] = np.nan
        values[rng.random(n) < 0.03] = np.inf
        steps = np.cumsum(rng.integers(1, 4, size=n)).astype(float)
        one, chunked = Series(capacity), Series(capacity)
        for step, value in zip(steps, values):
            one.append(step, value)
        start = 0
        while start < n:
            stop = start + int(rng.integers(1, 60))
            chunked.extend(steps[start:stop], values[start:stop])
            start = stop
        a, b = _series_state(one), _series_state(chunked)
        assert a[:3] == b[:3], (trial, a[:3], b[:3])
        for left, right in zip(a[3:], b[3:]):
            assert np.array_equal(np.asarray(left, float), np.asarray(right, float), equal_nan=True), trial


def _history_state(run) -> dict:
    state = {name: _series_state(series) for name, series in {**run.scalars, **run.probed}.items()}
    state["clip_steps"] = _series_state(run.clip_steps)
    state["clip_rates"] = _series_state(run.clip_rates)
    state["heatmap"] = (run.heatmap.steps.tolist(), None if run.heatmap.filled is None else run.heatmap.filled.tolist())
    state["latest"] = (run.latest_step, {name: value.tolist() for name, value in run.latest.items()})
    state["counts"] = (run.last_step, run.steps_seen, run.probes_seen, run.clip_rate)
    return state


def test_a_history_fed_one_block_equals_one_fed_record_batches():
    """A replay's seek hands the history everything up to a step as one block; live training
    hands it small batches. Both must give the panels the same arrays."""
    from gradscope.records import StepBlock

    rng = np.random.default_rng(7)
    records = []
    for step in range(3000):
        arrays = {}
        scalars = {"loss": float(rng.lognormal()), "grad_norm": float(rng.lognormal(1.0)),
                   "clipped": float(rng.random() < 0.3)}
        if step % 7 == 0:
            arrays = {"hidden_grad_norm": rng.lognormal(size=5), "gate_saturation/forget": rng.random(5),
                      "gates/forget": rng.random((5, 3))}
            scalars["spectral_radius/W_hh"] = float(rng.random())
        if step == 1500:
            scalars["loss"] = float("nan")
        records.append(StepRecord(step, scalars, arrays, wall_time=step * 0.01))
    live, replay = RunHistory(RunConfig(arch="lstm")), RunHistory(RunConfig(arch="lstm"))
    start = 0
    while start < len(records):
        stop = start + int(rng.integers(1, 40))
        live.add_records(records[start:stop])
        start = stop
    replay.add_block(StepBlock.from_records(records))
    a, b = _history_state(live), _history_state(replay)
    assert a.keys() == b.keys() and "spectral_radius/W_hh" in a
    for key in a:
        assert repr(a[key]) == repr(b[key]), key
    assert live.scalars["loss"].stride > 1 and live.heatmap.stride > 1 or HEATMAP_ROWS > 3000 // 7


def test_what_if_clipping_picks_the_steps_above_the_threshold_with_torchs_scale():
    from gradscope.session.player import WhatIf

    norms = np.array([0.5, 2.0, np.nan, 4.0, 1.0, np.inf])
    what = WhatIf(np.arange(6), norms, 1.0)
    assert what.steps.tolist() == [1, 3] and what.total == 4 and what.fraction == 0.5
    assert np.allclose(what.scales, [1.0 / (2.0 + 1e-6), 1.0 / (4.0 + 1e-6)], rtol=0, atol=1e-15)
    assert "2 of 4" in what.describe() and "50%" in what.describe()
    assert WhatIf(np.arange(3), np.array([0.1, 0.2, 0.3]), 5.0).count == 0
    import torch

    for norm, scale in zip(what.norms, what.scales):    # what torch's clipping really does
        weight = torch.nn.Parameter(torch.zeros(3, dtype=torch.float64))
        weight.grad = torch.tensor([norm, 0.0, 0.0], dtype=torch.float64)
        torch.nn.utils.clip_grads_with_norm_([weight], 1.0, torch.tensor(norm, dtype=torch.float64))
        assert float(weight.grad.norm()) / norm == scale
