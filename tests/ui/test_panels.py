"""What the panels draw agrees with a computation of its own from the records: the gradient
norms in decades on the log axis, a clip marker at every clipped step, the rolling clip rate
as a brute-force moving mean; and the envelope a long series is drawn from keeps every spike.
Also: the window spreads its panels over frames yet brings every one up to date."""
from __future__ import annotations

import numpy as np
import pytest

from envelopes import assert_drawn_from
from gradscope.config import RunConfig
from gradscope.records import StepRecord
from types import SimpleNamespace

from gradscope.lab.envelope import Series
from gradscope.lab.history import CLIP_RATE_WINDOW, RunHistory
from gradscope.lab.slots import RunSlot
from gradscope.ui.panels.timesteps import decay_line


def on_show(*configs: RunConfig):
    """What a panel draws from: the lab model's slots (here one per config) and earlier runs."""
    from gradscope.config.comparison import difference_labels

    labels = difference_labels(list(configs))
    slots = [RunSlot(index, config, RunHistory(config), label=label)
             for index, (config, label) in enumerate(zip(configs, labels))]
    return SimpleNamespace(slots=slots, earlier=[]), [slot.history for slot in slots]


def test_the_envelope_keeps_every_spike_and_leaves_gaps_for_non_finite_values():
    series = Series(capacity=16)
    values = np.ones(1000)
    values[437] = 1e6                     # one exploding step among a thousand
    values[600:610] = np.nan              # and a stretch that diverged
    values[800] = np.inf
    for step, value in enumerate(values):
        series.append(step, value)
    assert series.size <= 16 and series.stride == 64
    assert np.nanmax(series.hi) == 1e6 and np.nanmin(series.lo) == 1.0
    bucket = int(np.searchsorted(series.steps, 437, side="right")) - 1
    assert series.hi[bucket] == 1e6       # in the bucket holding step 437
    assert np.all(np.isfinite(series.hi))  # NaN and inf never enter the envelope
    assert series.values[0] == 1.0 and series.last == 1.0
    series.append(1000, np.inf)
    assert np.isinf(series.last) and np.all(np.isfinite(series.hi))  # the newest value, as it was
    x, y = series.line()
    assert x.size == y.size == 2 * series.size
    assert np.array_equal(x[0::2], series.steps) and np.array_equal(y[1::2], series.hi)
    few = Series(capacity=16)
    for step in range(5):
        few.append(step, step * 3.0)
    assert np.array_equal(few.line()[1], [0.0, 3.0, 6.0, 9.0, 12.0])  # one step a bucket: the records


def _records(steps: int, seed: int = 0) -> list[StepRecord]:
    rng = np.random.default_rng(seed)
    norms = 10.0 ** rng.uniform(-2, 3, steps)
    norms[7] = 0.0                        # a zero norm cannot sit on a log axis: a gap
    threshold = 5.0
    return [StepRecord(step, {"loss": 1.0 / (step + 1), "grad_norm": norms[step],
                              "grad_norm_clipped": min(norms[step], threshold),
                              "clipped": float(norms[step] > threshold)}, {}, wall_time=float(step))
            for step in range(steps)]


def test_the_gradient_norm_panel_draws_the_records(qtbot):
    from gradscope.ui.panels.training import GradNormPanel

    lab, (run,) = on_show(RunConfig())
    records = _records(300)
    run.add_records(records)
    panel = GradNormPanel()
    qtbot.addWidget(panel)
    panel.resize(1600, 700)          # a plot 2 px a step wide draws every step as it is
    panel.show()
    qtbot.waitExposed(panel)
    assert panel.plot.vb.width() >= 2 * 300
    panel.refresh(lab)

    norms = np.array([r.scalars["grad_norm"] for r in records])
    drawn = panel.pre_curve.yData                                  # decades: the axis is log
    assert np.allclose(10.0 ** drawn[norms > 0], norms[norms > 0]) and np.isnan(drawn[7])
    clipped_steps = np.flatnonzero(norms > 5.0)
    assert np.array_equal(panel.clip_markers.xData[0::2], clipped_steps)   # one tick per clipped step
    assert np.all(panel.clip_markers.yData[0::2] > np.log10(norms[clipped_steps]))  # above the curve
    flags = (norms > 5.0).astype(float)
    rolling = [flags[max(0, k - CLIP_RATE_WINDOW + 1):k + 1].mean() for k in range(flags.size)]
    assert np.allclose(panel.rate_curve.yData, rolling)
    assert run.clip_rate == pytest.approx(rolling[-1])

    panel.plot.setLogMode(x=False, y=False)                       # the plot's menu: linear axis
    assert np.allclose(panel.pre_curve.yData, norms)


def test_a_narrow_plot_draws_a_bucket_per_two_pixels_and_loses_no_spike(qtbot):
    """Narrower than 2 px a step, the norms are drawn as a min/max envelope of one bucket per
    2 px of the view box: the highest and lowest norm of every stretch of steps are there."""
    from gradscope.ui.panels.training import GradNormPanel

    lab, (run,) = on_show(RunConfig())
    records = _records(3000, seed=4)
    run.add_records(records)
    panel = GradNormPanel()
    qtbot.addWidget(panel)
    panel.resize(700, 500)
    panel.show()
    qtbot.waitExposed(panel)
    panel.refresh(lab)

    norms = np.array([r.scalars["grad_norm"] for r in records])
    x = panel.pre_curve.x_values
    buckets = x.size // 2
    assert panel.plot.vb.width() / 4 <= buckets <= panel.plot.vb.width() / 2
    assert np.nanmax(panel.pre_curve.y_values) == pytest.approx(norms.max())
    assert_drawn_from(panel.pre_curve, np.arange(norms.size), norms)


def test_the_gates_panel_colours_each_unit_and_timestep_by_its_gate_value(qtbot):
    """Each pixel of a gate's image is the heat map's colour of that unit at that timestep
    (pyqtgraph's own colormap.map as the reference); the candidate spans [-1, 1]."""
    import pyqtgraph as pg

    from gradscope.ui import theme
    from gradscope.ui.panels.gates import GatesPanel

    rng = np.random.default_rng(3)
    gates = {"input": rng.uniform(0, 1, (12, 5)), "forget": rng.uniform(0, 1, (12, 5)),
             "candidate": rng.uniform(-1, 1, (12, 5)), "output": rng.uniform(0, 1, (12, 5))}
    gates["forget"][3, 2] = np.nan                                    # a diverged value
    lab, (run,) = on_show(RunConfig(arch="lstm", hidden=5, seq_len=12))
    run.add_records([StepRecord(0, {"loss": 1.0}, {f"gates/{k}": v.astype(np.float32) for k, v in gates.items()},
                                wall_time=0.0)])
    panel = GatesPanel()
    qtbot.addWidget(panel)
    panel.refresh(lab)
    colormap = pg.colormap.get(theme.HEATMAP)
    for gate, values in gates.items():
        lo, hi = (-1.0, 1.0) if gate == "candidate" else (0.0, 1.0)
        shown = panel.gate_images[gate].image                        # [unit, timestep, rgb]
        assert shown.shape == (5, 12, 3)
        expected = colormap.map(np.nan_to_num((values.T - lo) / (hi - lo), nan=0.0), mode="byte")[..., :3]
        assert np.abs(shown.astype(int) - expected.astype(int)).max() <= 3, gate   # a 256-colour table
    assert tuple(panel.gate_images["forget"].image[2, 3]) == tuple(colormap.map(0.0, mode="byte")[:3])


def test_the_window_spreads_panels_over_frames_and_brings_all_up_to_date(qtbot, make_window, monkeypatch):
    from gradscope.bench.gui_records import SyntheticRun
    from gradscope.ui import frames

    window = make_window(RunConfig(arch="lstm", hidden=8, seq_len=10, steps=50))
    synthetic = SyntheticRun(length=20, hidden=8)
    slot = synthetic.slot()
    window.lab.show_slots([slot], live=False)
    run = slot.history
    synthetic.feed(run, 0, 40)
    monkeypatch.setattr(frames, "FRAME_BUDGET_MS", 0.0)       # one panel a frame
    window.redraw()
    visible = [panel for panel in window.panels.values() if panel.isVisible()]
    assert sum(not panel.stale(window.lab) for panel in visible) == 1
    # nothing new arrives, yet the catch-up frames draw the rest, oldest first
    qtbot.waitUntil(lambda: not any(panel.stale(window.lab) for panel in visible), timeout=5000)
    assert len({panel.drawn_at for panel in visible}) == len(visible)
    synthetic.feed(run, 40, 45)
    window.redraw(everything=True)
    assert not any(panel.stale(window.lab) for panel in visible)


def test_the_decay_line_is_the_geometric_mean_of_the_step_norms_raised_to_the_distance():
    step_norms = np.array([0.5, 2.0, 0.25, 1.0])
    line, mean = decay_line(step_norms)
    expected_mean = (0.5 * 2.0 * 0.25 * 1.0) ** 0.25
    assert np.isclose(mean, expected_mean)
    assert np.allclose(line, [expected_mean ** 3, expected_mean ** 2, expected_mean, 1.0])
    line, mean = decay_line(np.array([0.9] * 300))
    assert np.isclose(line[0], 0.9 ** 299, rtol=1e-9)          # 1e-14: no underflow to 0


def test_every_panel_draws_each_compared_run_in_its_own_style_with_items_made_once(qtbot):
    """Three runs side by side: each panel's curves for slot k hold run k's data, in slot k's
    colour and line style; the legend names only what differs; refreshing again (the next
    frame) reuses the same items."""
    from gradscope.ui.panels import PANEL_CLASSES

    configs = [RunConfig(arch=arch, hidden=5, seq_len=12) for arch in ("rnn", "lstm", "gru")]
    lab, histories = on_show(*configs)
    rng = np.random.default_rng(0)
    for index, history in enumerate(histories):
        records = []
        for step in range(40):
            arrays = {}
            if step % 4 == 0:
                arrays = {"hidden_grad_norm": rng.lognormal(size=12) * (index + 1),
                          "jacobian_norm": rng.lognormal(size=12), "step_jacobian_norm": rng.lognormal(size=12)}
            records.append(StepRecord(step, {"loss": 1.0 / (step + 1 + index), "grad_norm": 1.0 + index + step,
                                             "clipped": 0.0, "metric/accuracy": 0.1 * index}, arrays, float(step)))
        history.add_records(records)
    panels = {cls.name: cls() for cls in PANEL_CLASSES}
    for panel in panels.values():
        qtbot.addWidget(panel)
        panel.refresh(lab)
    timesteps, grad_norm, loss = panels["timesteps"], panels["grad_norm"], panels["loss"]
    for k, history in enumerate(histories):
        assert np.allclose(timesteps.hidden.curves[k].y_values, history.latest["hidden_grad_norm"])
        assert np.array_equal(grad_norm.pre.curves[k].y_values, history.series("grad_norm")[1])
        assert np.array_equal(loss.loss.curves[k].y_values, history.series("loss")[1])
    pens = [curve.opts["pen"] for curve in timesteps.hidden.curves]      # per timestep: line styles
    assert len({pen.color().name() for pen in pens}) == 3 and len({pen.style() for pen in pens}) == 3
    for curves in (grad_norm.pre, loss.loss):        # over training steps: solid, each with its markers
        pens = [curve.opts["pen"] for curve in curves.curves]
        assert len({pen.color().name() for pen in pens}) == 3
        assert {curve.gradscope_symbol for curve in curves.curves} == {"o", "t", "s"}
        assert all(len(curve.marks.points) > 0 for curve in curves.curves)
    labels = [item[1].text for item in timesteps.legend.items]
    assert {"rnn", "lstm", "gru"} <= set(labels)
    assert not any("H=5" in label for label in labels)          # only the difference is named
    made = {name: [id(curve) for curve in getattr(panel, attr).curves]
            for name, panel, attr in (("timesteps", timesteps, "hidden"), ("grad_norm", grad_norm, "pre"),
                                      ("loss", loss, "loss"))}
    for history in histories:
        history.add_records([StepRecord(40, {"loss": 0.01, "grad_norm": 2.0, "clipped": 0.0}, {}, 40.0)])
    for panel in panels.values():
        panel.refresh(lab)
    assert made == {name: [id(curve) for curve in getattr(panel, attr).curves]
                    for name, panel, attr in (("timesteps", timesteps, "hidden"), ("grad_norm", grad_norm, "pre"),
                                              ("loss", loss, "loss"))}
    assert [len(curve.x_values) for curve in loss.loss.curves] == [41, 41, 41]
    lone, (history,) = on_show(configs[0])
    history.add_records([StepRecord(0, {"loss": 1.0, "grad_norm": 1.0, "clipped": 0.0}, {}, 0.0)])
    loss.refresh(lone)                                          # back to one run: the others are cleared
    assert [len(curve.x_values) for curve in loss.loss.curves] == [1, 0, 0]
