"""Replaying a session in the window: the same panels draw the same data live and on replay,
a seek shows exactly the recorded steps up to it, playing moves forward, two or three runs
play under one cursor, the timeline's event list jumps, bookmarks land in the file, and files
that cannot be read get a dialog."""
from __future__ import annotations

import sqlite3

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent

from gradscope import load_session
from envelopes import assert_drawn_from
from gradscope.bench.gui_records import write_session
from gradscope.config import RunConfig

START = 60_000


def write_synthetic(path, steps=300, probe_every=5, runs=1):
    """A session from synthetic records shaped like a small LSTM run, with a threshold change."""
    write_session(path, steps, runs=runs, length=12, hidden=6, probe_every=probe_every, threshold_change=True)
    return path


def drawn(window) -> dict:
    """What the panels show, as arrays (x and y of every curve, the heatmap image)."""
    window.redraw(everything=True)
    shown = {}
    for name, panel in window.panels.items():
        for attr, item in vars(panel).items():
            if hasattr(item, "x_values") and item.x_values is not None and len(item.x_values):
                shown[f"{name}.{attr}"] = (np.asarray(item.x_values).tolist(), np.asarray(item.y_values).tolist())
    image = window.panels["timesteps"].image.image
    shown["heatmap"] = None if image is None else np.asarray(image).tolist()
    return shown


@pytest.fixture
def replay_window(make_window):
    return make_window(RunConfig(arch="lstm", hidden=6, seq_len=12))


def test_a_seek_shows_exactly_the_recorded_steps_up_to_it(replay_window, tmp_path):
    window = replay_window
    path = write_synthetic(tmp_path / "s.gscope")
    assert window.open_file(path) and window.lab.kind == "recorded"
    assert window.lab.current.last_step == 299 and window.lab.cursor == 299
    stored = load_session(path).runs[0]
    for target in (137, 20, 250):
        window.lab.seek(target)
        run = window.lab.current
        window.redraw(everything=True)
        steps, loss = stored.series_with_steps("loss")
        curve = window.panels["loss"].loss_curve
        assert np.array_equal(curve.x_values, steps[steps <= target])
        assert np.array_equal(curve.y_values, loss[steps <= target])
        probed = stored.series_steps("hidden_grad_norm")
        newest = int(probed[probed <= target][-1])
        assert run.latest_step == newest
        assert np.allclose(window.panels["timesteps"].hidden_curve.y_values,
                           stored.record(newest).arrays["hidden_grad_norm"])
        assert [event.step for event in run.markers] == ([150] if target >= 150 else [])
        low, high = window.panels["loss"].loss_plot.viewRange()[0]
        assert low <= 0 and high >= 299               # the axis spans the recording, whatever the step
    assert window.config == stored.config             # the settings show the run on show
    window.timeline.forward.click()
    assert window.lab.cursor == 251 and window.timeline.step_field.value() == 251


def test_forward_seeks_add_only_the_steps_between_and_draw_what_a_full_seek_draws(replay_window, tmp_path):
    """Scrubbing forward grows the history on show (no rebuild); the panels then hold exactly
    what a seek straight to the step builds, across the envelopes' halvings."""
    window = replay_window
    window.open_file(write_synthetic(tmp_path / "s.gscope", steps=2500))
    window.lab.seek(0)
    run = window.lab.current
    for target in (7, 400, 401, 1333, 2047, 2048, 2499):
        window.lab.seek(target)
        assert window.lab.current is run and run.last_step == target
    stepped = drawn(window)
    window.lab.show_runs([0])                        # a full rebuild at the same step
    assert window.lab.current is not run and window.lab.cursor == 2499
    assert drawn(window) == stepped


def test_a_damaged_step_met_while_scrubbing_gets_a_dialog_and_the_replay_goes_on(qtbot, replay_window, tmp_path):
    window = replay_window
    path = write_synthetic(tmp_path / "s.gscope")
    db = sqlite3.connect(path)
    # a gate array: read only for the probe on show, so opening the file does not meet it
    db.execute("UPDATE array_value SET data = x'00' WHERE step = 100 "
               "AND series_id IN (SELECT id FROM series WHERE name LIKE 'gates/%')")
    db.commit()
    db.close()
    assert window.open_file(path)                    # the end of the run reads fine
    window.lab.seek(102)                             # its newest probe is the damaged step 100
    assert "at step 100" in window.errors[-1] and str(path) in window.errors[-1]
    assert window.error_dialog.isVisible()
    window.lab.seek(50)
    assert window.lab.cursor == 50 and window.lab.current.last_step == 50
    window.lab.seek(99)
    errors = len(window.errors)
    window.timeline.forward.click()                  # one step forward, onto it
    assert len(window.errors) == errors + 1 and window.lab.cursor == 99
    window.lab.seek(299)
    assert window.lab.cursor == 299


def test_a_panel_shows_the_same_data_live_and_on_replay(qtbot, make_window):
    """The one-path rule: train live, then open the file the run was recorded to."""
    config = RunConfig(arch="lstm", task="adding", seq_len=10, hidden=6, batch=4, steps=80, probe_every=4,
                       checkpoint_every=20, clip_mode="norm", clip_threshold=0.05)
    window = make_window(config)
    window.run_action.trigger()
    qtbot.waitUntil(lambda: window.lab.state == "finished", timeout=START)
    window.lab.pump()
    live = drawn(window)
    path = window.lab.session_path
    assert window.open_file(path)
    replayed = drawn(window)
    # the replay adds one thing: what the threshold would clip; at the recorded threshold it
    # must pick exactly the steps the trainer clipped
    what_if = replayed.pop("grad_norm.what_if_markers")
    clipped = load_session(path).runs[0].series_with_steps("clipped")
    assert what_if[0][0::2] == clipped[0][clipped[1] > 0.5].tolist()
    assert live.keys() == replayed.keys() and "grad_norm.clip_markers" in live
    for key in live:
        assert live[key] == replayed[key], key


def test_playing_moves_forward_at_the_chosen_speed_and_stops_at_the_end(qtbot, replay_window, tmp_path):
    window = replay_window
    window.open_file(write_synthetic(tmp_path / "s.gscope"))
    window.lab.seek(0)
    window.timeline.speed.setCurrentText("16x")
    window.run_action.trigger()                          # Space plays a replay
    assert window.lab.recorded.playing and window.run_action.text() == "Pause"
    qtbot.waitUntil(lambda: not window.lab.recorded.playing, timeout=20_000)
    assert window.lab.cursor == 299 and window.lab.current.last_step == 299
    assert window.lab.current.steps_seen == 300           # every step once, in order
    steps, _ = window.lab.current.series("loss")
    assert np.array_equal(steps, np.arange(300))


def test_the_event_list_jumps_and_bookmarks_are_saved_into_the_file(replay_window, tmp_path, monkeypatch):
    window = replay_window
    path = write_synthetic(tmp_path / "s.gscope")
    window.open_file(path)
    texts = [window.timeline.events.item(i).text() for i in range(window.timeline.events.count())]
    assert any("settings changed (clip threshold 0.5)" in text for text in texts)
    assert any("clipping fired" in text for text in texts)
    item = next(window.timeline.events.item(i) for i in range(window.timeline.events.count())
                if "threshold" in window.timeline.events.item(i).text())
    window.timeline.events.itemClicked.emit(item)
    assert window.lab.cursor == 150
    monkeypatch.setattr("gradscope.ui.documents.QInputDialog.getText", lambda *a, **k: ("the explosion", True))
    window.timeline.bookmark.click()
    marks = load_session(path).runs[0].bookmarks
    assert [(mark.step, mark.note) for mark in marks] == [(150, "the explosion")]
    assert any("the explosion" in window.timeline.events.item(i).text()
               for i in range(window.timeline.events.count()))
    starred = next(window.timeline.events.item(i) for i in range(window.timeline.events.count())
                   if "the explosion" in window.timeline.events.item(i).text())
    window.timeline.events.setCurrentItem(starred)
    window.timeline.events.actions()[0].trigger()       # Delete on the selected bookmark
    assert load_session(path).runs[0].bookmarks == []


def test_runs_can_be_picked_and_two_or_three_play_under_one_cursor(replay_window, tmp_path):
    window = replay_window
    path = write_synthetic(tmp_path / "s.gscope", steps=60, runs=3)
    window.open_file(path)
    assert window.timeline.runs.count() == 3 and [slot.run_id for slot in window.lab.slots] == [2]
    window.timeline.runs.setCurrentIndex(0)
    window.timeline.runs.activated.emit(0)
    assert [slot.run_id for slot in window.lab.slots] == [0]
    menu = window.timeline.compare.menu()
    for run_id in (1, 2):                                          # Compare ▾: runs 1 and 2 beside it
        menu.aboutToShow.emit()
        next(action for action in menu.actions() if action.data() == run_id).trigger()
    assert [slot.run_id for slot in window.lab.slots] == [0, 1, 2]
    window.lab.seek(37)
    stored = load_session(path)
    for slot in window.lab.slots:                                  # aligned by step, each its own records
        assert slot.history.last_step == 37
        steps, loss = stored.run(slot.run_id).series_with_steps("loss")
        assert np.array_equal(slot.history.series("loss")[1], loss[steps <= 37])
    window.redraw(everything=True)
    curves = window.panels["loss"].loss.curves
    assert [curve.isVisible() and len(curve.x_values) for curve in curves] == [38, 38, 38]
    assert len({curve.opts["pen"].color().name() for curve in curves}) == 3   # each run its colour
    assert {curve.gradscope_symbol for curve in curves} == {"o", "t", "s"}     # and its markers


def test_open_recent_and_drag_and_drop(replay_window, tmp_path):
    window = replay_window
    first, second = write_synthetic(tmp_path / "a.gscope", steps=20), write_synthetic(tmp_path / "b.gscope", steps=30)
    window.open_file(first)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(second))])
    event = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.NoButton,
                       Qt.KeyboardModifier.NoModifier)
    window.dropEvent(event)
    assert window.lab.session_path == second and window.lab.current.last_step == 29
    assert window.files.recent_files()[:2] == [str(second.resolve()), str(first.resolve())]
    window.recent_menu.aboutToShow.emit()
    assert [a.text() for a in window.recent_menu.actions()][:2] == [str(second.resolve()), str(first.resolve())]


@pytest.mark.parametrize("content, expected", [
    (b"", "empty"), (b"hello, this is text" * 10, "not a gradscope session"),
    (b"\x00\xff" * 300, "not a gradscope session"),
])
def test_a_file_that_is_not_a_session_gets_a_dialog_and_the_window_goes_on(replay_window, tmp_path, content, expected):
    window = replay_window
    bad = tmp_path / "bad.gscope"
    bad.write_bytes(content)
    assert not window.open_file(bad)
    assert expected in window.errors[-1] and window.error_dialog.isVisible()
    assert window.lab.kind == "live"
    assert window.open_file(write_synthetic(tmp_path / "good.gscope", steps=10))


def test_a_newer_session_says_which_schema_it_needs(replay_window, tmp_path):
    import sqlite3

    path = write_synthetic(tmp_path / "new.gscope", steps=5)
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA user_version = 99")
    assert not replay_window.open_file(path)
    assert "99" in replay_window.errors[-1] and "update gradscope" in replay_window.errors[-1]


def test_what_if_clipping_on_a_replay_marks_the_steps_above_the_dragged_threshold(replay_window, tmp_path):
    window = replay_window
    path = write_synthetic(tmp_path / "s.gscope", steps=200)
    panel = window.panels["grad_norm"]
    assert panel.plot.legend.getLabel(panel.what_if_markers) is None        # live: no what-if in the key
    window.open_file(path)
    assert panel.plot.legend.getLabel(panel.what_if_markers) is not None
    panel.threshold.setPos(np.log10(1.5))
    panel.threshold.sigPositionChangeFinished.emit(panel.threshold)   # what the end of a drag emits
    window.redraw(everything=True)
    steps, norms = load_session(path).runs[0].series_with_steps("grad_norm")
    expected = steps[norms > window.config.clip_threshold]
    assert np.array_equal(panel.what_if.steps, expected) and len(expected) > 0
    assert np.array_equal(panel.what_if_markers.x_values[0::2], expected)
    assert f"{len(expected)} of 200" in panel.what_if_text
    assert f"{len(expected)} of 200 would clip at 1.5" in panel.plot._gradscope_title
    assert window.lab.slots and window.lab.state == "replay"     # nothing started training
    window.new_action.trigger()
    assert panel.plot.legend.getLabel(panel.what_if_markers) is None


EXAMPLES = sorted((__import__("pathlib").Path(__file__).parents[2] / "sessions").glob("*.gscope"))


def test_the_example_sessions_open_and_replay(replay_window):
    names = {path.name for path in EXAMPLES}
    assert {"vanishing-rnn.gscope", "exploding-rnn.gscope", "exploding-rnn-clipped.gscope", "lstm.gscope"} <= names
    for path in EXAMPLES:
        assert replay_window.open_file(path), replay_window.errors[-1:]
        steps = replay_window.lab.recorded.steps
        replay_window.lab.seek(int(steps[0] + steps[-1]) // 2)
        replay_window.redraw(everything=True)
        assert replay_window.lab.current.latest, path.name


def test_fork_from_here_trains_a_new_run_beside_its_parent(qtbot, make_window, tmp_path):
    import shutil

    path = tmp_path / "clipped.gscope"
    shutil.copy(EXAMPLES[0].parent / "exploding-rnn-clipped.gscope", path)
    window = make_window(RunConfig(arch="rnn", seq_len=50, hidden=32))
    assert window.open_file(path)
    window.lab.seek(250)
    window.controls.set_value("clip_threshold", 0.5)       # the setting the fork changes
    window.timeline.fork.click()
    assert window.lab.kind == "live"
    qtbot.waitUntil(lambda: bool(window.lab.slots) and window.lab.slots[0].parent == (0, 250)
                    and window.lab.state == "finished", timeout=START)
    assert window.lab.earlier and window.lab.earlier[0].run_id == 0     # drawn beside its parent
    session = load_session(path)
    window.redraw(everything=True)              # the parent on the training-step panels too, faded
    steps, loss = session.runs[0].series_with_steps("loss")
    parent_loss = window.panels["loss"].earlier_loss.curves[0]
    assert np.array_equal(parent_loss.x_values, steps[steps <= 250]) and np.allclose(parent_loss.y_values,
                                                                                     loss[steps <= 250])
    steps, norms = session.runs[0].series_with_steps("grad_norm")
    assert_drawn_from(window.panels["grad_norm"].earlier.curves[0], steps[steps <= 250], norms[steps <= 250])
    fork = session.runs[-1]
    assert fork.parent == (0, 250) and fork.steps[0] == 250 and fork.steps[-1] == 599
    assert fork.config.clip_threshold == 0.5
    assert any(event.kind == "settings_changed" and event.step == 250 and event.detail.get("clip_threshold") == 0.5
               for event in fork.events)
