"""The live lab's window, driven as a user would (pytest-qt, offscreen, the real training
process), through its actions: records arrive and are recorded, the dragged threshold reaches
the trainer and the session, an architecture change starts a new run with an overlay, pause /
step / resume, refused settings, divergence, a failing run, closing mid-run. No sleeps:
waitUntil."""
from __future__ import annotations

import re

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt

from gradscope import load_session
from live_runs import START, WAIT, small, state, steps_seen


def test_a_run_draws_its_records_and_records_them_to_the_session(qtbot, make_window):
    window = make_window(small())
    window.run_action.trigger()
    qtbot.waitUntil(lambda: steps_seen(window) >= 30 and bool(window.lab.current.latest), timeout=START)
    assert state(window) == "running" and window.run_action.text() == "Pause"
    window.redraw(everything=True)
    run = window.lab.current
    steps, loss = run.series("loss")
    assert np.array_equal(steps, np.arange(steps.size))            # every step, in order
    panel = window.panels["timesteps"]
    drawn = panel.hidden_curve.yData                               # what is painted: decades on a log axis
    assert np.allclose(10.0 ** drawn, run.latest["hidden_grad_norm"])
    window.close()
    stored = load_session(window.lab.session_path).runs[0]
    assert stored.steps[: steps.size].tolist() == steps.astype(int).tolist()
    assert np.allclose(stored.series("loss")[: steps.size], loss)  # live and file agree
    probed = stored.series_steps("hidden_grad_norm")
    row = run.heatmap.steps.size - 1
    index = probed.tolist().index(int(run.heatmap.steps[row]))
    assert np.allclose(run.heatmap.filled[row], np.log10(stored.series("hidden_grad_norm")[index]), atol=1e-5)


def test_dragging_the_threshold_changes_the_live_threshold_and_marks_every_time_axis(qtbot, make_window):
    window = make_window(small(clip_mode="norm", clip_threshold=5.0))
    window.run_action.trigger()
    qtbot.waitUntil(lambda: steps_seen(window) >= 10, timeout=START)
    line = window.panels["grad_norm"].threshold
    assert line.isVisible() and math.isclose(10 ** line.value(), 5.0)
    line.setPos(math.log10(0.25))
    line.sigPositionChangeFinished.emit(line)                      # what the end of a mouse drag emits
    assert window.config.clip_threshold == 0.25
    assert window.controls.parameter("clip_threshold").value() == 0.25
    qtbot.waitUntil(lambda: bool(window.lab.current.markers), timeout=WAIT)
    change = window.lab.current.markers[0]
    assert change.kind == "settings_changed" and change.detail["clip_threshold"] == 0.25
    qtbot.waitUntil(lambda: steps_seen(window) > change.step + 5, timeout=WAIT)
    window.redraw(everything=True)
    steps, thresholds = window.lab.current.series("clip_threshold")
    assert np.all(thresholds[steps >= change.step] == 0.25) and np.all(thresholds[steps < change.step] == 5.0)
    for panel in window.panels.values():
        for index, plot in enumerate(panel.step_plots):
            lines = panel._markers[id(plot)]
            assert [marker.value() for marker in lines] == [change.step], panel.name
            # named on a panel's first plot, over no fill that would hide the data under it
            label = getattr(lines[0], "label", None)
            if index == 0:
                assert "clip threshold 0.25" in label.toPlainText() and label.fill.style() == Qt.BrushStyle.NoBrush
            else:
                assert label is None, panel.name
    window.close()
    events = load_session(window.lab.session_path).runs[0].events
    assert any(e.kind == "settings_changed" and e.step == change.step for e in events)


def test_switching_the_architecture_starts_a_new_run_and_keeps_the_old_one_as_an_overlay(qtbot, make_window):
    window = make_window(small())
    window.run_action.trigger()
    qtbot.waitUntil(lambda: steps_seen(window) >= 5 and bool(window.lab.current.latest), timeout=START)
    first = window.lab.current
    assert window.controls.set_value("arch", "lstm")
    qtbot.waitUntil(lambda: len(window.lab.earlier) == 1 and bool(window.lab.current.latest), timeout=WAIT)
    assert window.lab.current.arch == "lstm" and state(window) == "running"
    window.redraw(everything=True)
    overlay = window.panels["timesteps"].overlays[0]
    assert np.allclose(10.0 ** overlay.yData, first.latest["hidden_grad_norm"])
    assert window.panels["gates"].gate_images["forget"].image is not None
    window.close()
    runs = load_session(window.lab.session_path).runs
    assert [run.config.arch for run in runs] == ["rnn", "lstm"]


def test_pause_step_and_resume(qtbot, make_window):
    window = make_window(small())
    window.run_action.trigger()
    qtbot.waitUntil(lambda: steps_seen(window) >= 5, timeout=START)
    window.run_action.trigger()
    qtbot.waitUntil(lambda: state(window) == "paused", timeout=WAIT)
    assert window.run_action.text() == "Run"
    paused_at = steps_seen(window)
    window.step_action.trigger()
    qtbot.waitUntil(lambda: steps_seen(window) == paused_at + 1, timeout=WAIT)
    window.step_action.trigger()
    qtbot.waitUntil(lambda: steps_seen(window) == paused_at + 2, timeout=WAIT)
    assert state(window) == "paused"
    window.run_action.trigger()
    qtbot.waitUntil(lambda: steps_seen(window) > paused_at + 10 and state(window) == "running", timeout=WAIT)


def test_step_from_idle_starts_a_paused_run_at_its_first_step(qtbot, make_window):
    window = make_window(small())
    window.step_action.trigger()
    qtbot.waitUntil(lambda: steps_seen(window) == 1 and state(window) == "paused", timeout=START)
    window.reset_action.trigger()
    qtbot.waitUntil(lambda: len(window.lab.earlier) == 1 and state(window) == "paused", timeout=WAIT)
    assert steps_seen(window) == 0


def test_settings_that_make_no_sense_are_refused_at_the_control(qtbot, make_window):
    window = make_window(small())
    before = window.config
    assert not window.controls.set_value("hidden", 100_000)
    assert window.config == before and window.controls.parameter("hidden").value() == before.hidden
    assert "hidden size" in window.controls.message.text() and window.controls.message.isVisible()
    window.controls.set_value("arch", "lstm")
    assert not window.controls.set_value("nonlinearity", "relu")   # a gated cell has no relu
    assert window.config.nonlinearity == "tanh" and window.lab.slots == []
    assert not window.controls.set_value("lr", -1.0)
    assert window.controls.set_value("lr", 0.01) and not window.controls.message.isVisible()


def test_divergence_shows_a_banner_and_a_new_run_can_start(qtbot, make_window):
    window = make_window(small(lr=5.0, optimizer="sgd", init="identity", rho=3.0, seq_len=30, task="sine",
                               nonlinearity="relu", probe_every=1))
    window.run_action.trigger()
    qtbot.waitUntil(lambda: state(window) == "diverged", timeout=START)
    qtbot.waitUntil(lambda: window.banner_bar.isVisible(), timeout=WAIT)
    text = window.banner_bar.text()
    diverged_at = window.lab.current.diverged.step
    assert f"Diverged at step {diverged_at}" in text and "clipping" in text and "press Run" in text
    assert not re.search(r"\d\.\d{5,}", text)             # numbers as a reader takes them in, not 8.12155000722392e+20
    window.redraw(everything=True)
    assert window.status_labels["step"].text() == f"step {diverged_at}"     # the banner's step is the status bar's
    qtbot.mouseClick(window.banner_bar.dismiss, Qt.MouseButton.LeftButton)   # it can be dismissed
    assert not window.banner_bar.isVisible()
    window.redraw(everything=True)                                                 # non-finite values draw as gaps
    window.controls.set_value("clip_mode", "norm")
    window.controls.set_value("lr", 0.001)
    window.run_action.trigger()
    qtbot.waitUntil(lambda: len(window.lab.earlier) == 1 and steps_seen(window) > 5, timeout=WAIT)
    assert not window.banner_bar.isVisible() and state(window) == "running"


def test_an_exception_in_the_training_reaches_the_window_and_the_app_goes_on(qtbot, make_window, tmp_path):
    window = make_window(small(task="csv", csv=str(tmp_path / "no-such-series.csv")))
    window.run_action.trigger()
    qtbot.waitUntil(lambda: window.error_dialog is not None, timeout=START)
    assert "no-such-series.csv" in window.error_dialog.detailedText()
    assert "Traceback" in window.error_dialog.detailedText()
    window.error_dialog.close()
    window.controls.set_value("task", "adding")
    window.run_action.trigger()
    qtbot.waitUntil(lambda: steps_seen(window) > 3, timeout=WAIT)


def test_closing_mid_run_stops_the_training_process_and_keeps_the_file(qtbot, make_window):
    window = make_window(small(arch="lstm", hidden=64, seq_len=60, probe_every=0))
    window.run_action.trigger()
    qtbot.waitUntil(lambda: steps_seen(window) >= 3, timeout=START)
    seen = steps_seen(window)
    window.close()
    assert not window.lab.live.process.alive
    stored = load_session(window.lab.session_path).runs[0]
    assert len(stored.steps) >= seen and stored.state.value == "stopped"


def test_save_as_copies_the_session_while_it_records(qtbot, make_window, tmp_path, monkeypatch):
    window = make_window(small())
    window.run_action.trigger()
    qtbot.waitUntil(lambda: steps_seen(window) >= 20, timeout=START)
    qtbot.waitUntil(lambda: window.lab.session_path.exists()
                    and len(load_session(window.lab.session_path).runs[0].steps) >= 10, timeout=WAIT)
    from PySide6.QtWidgets import QFileDialog

    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *args, **kwargs: (str(tmp_path / "lecture"), ""))
    window.save_action.trigger()                                  # the toolbar's Save As…, as clicked
    target = tmp_path / "lecture.gscope"
    assert target.name == "lecture.gscope"
    copied = load_session(target).runs[0]
    assert len(copied.steps) >= 10 and copied.config == small()


def test_compare_trains_three_runs_side_by_side_and_the_legend_names_their_difference(qtbot, make_window,
                                                                                      monkeypatch):
    from PySide6.QtWidgets import QInputDialog

    window = make_window(small())
    monkeypatch.setattr(QInputDialog, "getText", lambda *args, **kwargs: ("arch=rnn,lstm,gru", True))
    window.compare_action.trigger()                               # Run > Compare…
    window.run_action.trigger()
    qtbot.waitUntil(lambda: len(window.lab.slots) == 3 and min(s.history.last_step for s in window.lab.slots) > 10,
                    timeout=START)
    assert [slot.label for slot in window.lab.slots] == ["rnn", "lstm", "gru"]
    window.run_action.trigger()                                   # Pause: all three, at one step
    qtbot.waitUntil(lambda: state(window) == "paused", timeout=WAIT)
    window.lab.pump()
    assert len({slot.history.last_step for slot in window.lab.slots}) == 1
    window.redraw(everything=True)
    legend = [item[1].text for item in window.panels["loss"].loss_plot.legend.items]
    assert legend == ["rnn", "lstm", "gru"]
    assert not window.controls.set_value("arch", "lstm")          # what the comparison varies
    assert "comparison" in window.controls.message.text()
    assert window.controls.parameter("arch").title() == "architecture (compared: rnn, lstm, gru)"
    window.stop_comparing_action.trigger()
    qtbot.waitUntil(lambda: len(window.lab.slots) == 1, timeout=WAIT)
    window.close()
    runs = load_session(window.lab.session_path).runs
    assert [run.config.arch for run in runs][:3] == ["rnn", "lstm", "gru"]
    lengths = [len(run.steps) for run in runs[:3]]
    assert len(set(lengths)) == 1                                 # paused together, stopped together


def test_the_task_panel_keeps_its_title_through_reset_and_drops_an_earlier_runs_markers(qtbot, make_window):
    window = make_window(small(clip_mode="norm", clip_threshold=0.01))     # clipping on every step
    panel = window.panels["task"]
    window.run_action.trigger()
    qtbot.waitUntil(lambda: steps_seen(window) > 10, timeout=START)
    panel.refresh(window.lab)
    title = panel.plot._gradscope_title
    assert "accuracy" in title
    assert window.controls.set_value("lr", 0.02)           # a setting changed: a marker on every step plot

    def marked():
        panel.refresh(window.lab)
        return [item for item in panel.plot.items if isinstance(item, pg.InfiniteLine)
                and getattr(item, "marked_event", None) is not None]

    qtbot.waitUntil(lambda: bool(marked()), timeout=WAIT)
    earlier = marked()
    window.reset_action.trigger()                          # a fresh run, no record yet
    qtbot.waitUntil(lambda: window.lab.state == "paused" and window.lab.current is not None, timeout=WAIT)
    panel.refresh(window.lab)
    assert panel.plot._gradscope_title == title            # not "metric" until its first record
    markers = [item for item in panel.plot.items if isinstance(item, pg.InfiniteLine)]
    assert all(line.marked_event in window.lab.current.markers for line in markers)
    assert not any(line in panel.plot.items for line in earlier)      # the earlier run's marker is gone
