"""The window shows a convolutional run with its own family's panels and layouts: a recorded
plain-against-residual comparison opened through File > Open puts the Depth layout on show
(keys 1 to 5: Depth, Filters, Images, Accuracy, Layers) with none of the recurrent panels in
the tabs, and
every number drawn is the session's own, recomputed here from its records: the gradient
through depth, the filters (each scaled by its own largest |weight|), the confusion and its
accuracy. An RNN session opened next brings the recurrent layouts back; the settings tree
shows only the settings the run's family reads."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt

from gradscope import load_session
from gradscope.ui import theme
from gradscope.layer_table import layer_table, shape_text
from gradscope.ui.panels.filters import snapshot_columns

EXAMPLES = Path(__file__).resolve().parents[2] / "sessions"
RECURRENT_ONLY = ("timesteps", "step_jacobians", "gates", "task")


@pytest.fixture(scope="module")
def plain_and_residual(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("cnn") / "plain-residual.gscope"
    subprocess.run([sys.executable, "-m", "gradscope", "record", "--arch", "cnn", "--task", "digits", "--depth", "4",
                    "--nonlinearity", "tanh", "--compare", "residual=false,true", "--steps", "30",
                    "--probe-every", "10", "-o", str(path)], check=True, capture_output=True, timeout=300)
    return path


def tabs(window) -> list[str]:
    names = {panel: name for name, panel in window.panels.items()}
    return [names[window.stage.widget(index)] for index in range(1, window.stage.count())]


def test_a_cnn_session_shows_the_image_layouts_and_its_own_numbers(qtbot, replay_only_window, open_from_menu,
                                                                     plain_and_residual):
    window = replay_only_window
    assert open_from_menu(window, plain_and_residual)
    assert window.lab.layout == "depth" and window.stage.on_stage() == ["depth", "grad_norm"]
    assert not set(RECURRENT_ONLY) & set(tabs(window))
    picker = window.timeline.runs
    assert [picker.itemText(i).split(",")[0] for i in range(picker.count())] == [
        "run 0: CNN L=4 C=16 3x3 tanh", "run 1: CNN L=4 residual C=16 3x3 tanh"]
    assert [action.text() for action in window.layout_actions if action.isVisible()] == ["Depth", "Filters",
                                                                                           "Images", "Accuracy", "Layers"]
    session = load_session(plain_and_residual)
    window.lab.seek(20)
    window.redraw(everything=True)
    arrays = session.run(window.lab.slots[0].run_id).arrays_at(20)
    depth = window.panels["depth"]
    assert np.allclose(depth.layers.curves[0].y_values, arrays["layer_grad_norm"])
    assert np.allclose(depth.weights.curves[0].y_values, arrays["weight_grad_norm"])
    # layers count from 1 as the other panels count them, the heatmap's columns under the points
    layers = arrays["layer_grad_norm"].size
    assert depth.layers.curves[0].x_values.tolist() == list(range(1, layers + 1))
    assert depth.map.image.mapRectToParent(depth.map.image.boundingRect()).left() == 0.5

    qtbot.keyClick(window, Qt.Key.Key_2)
    assert window.lab.layout == "filters" and window.stage.on_stage() == ["filters", "accuracy"]
    filters = arrays["filters/layer0"]                                   # [16, 1, 3, 3]
    scaled = filters / np.abs(filters).reshape(16, -1).max(axis=1)[:, None, None, None]
    shown = window.panels["filters"].filter_image.image
    for out in range(16):                                 # tile `out` of a 4x4 grid, 3x3, a pixel apart
        row, column = divmod(out, 4)
        assert np.allclose(shown[row * 4:row * 4 + 3, column * 4:column * 4 + 3], scaled[out, 0], atol=1e-6)
    # the snapshots over training: the first conv layer's filters at every probe up to step 20,
    # each a grid of as many columns as make the biggest tiles in the strip's box, 3 px apart,
    # each labelled with its step
    run = session.run(window.lab.slots[0].run_id)
    panel = window.panels["filters"]
    strip, ticks = panel.history_image.image, panel.history_plot.getAxis("bottom")._tickLevels[0]
    assert [label for _, label in ticks] == ["0", "10", "20"]
    columns = panel.snapshot_grid_columns
    box = panel.history_plot.vb.size()
    assert columns == snapshot_columns(16, (3, 3), 3, box.width(), box.height())
    width = columns * 4 - 1
    assert strip.shape == (-(-16 // columns) * 4 - 1, 3 * width + 2 * 3)
    for index, step in enumerate((0, 10, 20)):
        recorded = run.arrays_at(step)["filters/layer0"]
        scaled = recorded / np.abs(recorded).reshape(16, -1).max(axis=1)[:, None, None, None]
        grid = strip[:, index * (width + 3):index * (width + 3) + width]
        for out in range(16):
            row, column = divmod(out, columns)
            assert np.allclose(grid[row * 4:row * 4 + 3, column * 4:column * 4 + 3], scaled[out, 0], atol=1e-6)
    confusion = arrays["confusion"]
    accuracy = window.panels["accuracy"]
    assert np.array_equal(accuracy.confusion.image, confusion.astype(np.float32))
    assert accuracy.readout.text == f"{np.trace(confusion) / confusion.sum():.1%} right"

    qtbot.keyClick(window, Qt.Key.Key_4)
    assert window.lab.layout == "accuracy"
    window.redraw(everything=True)
    loss = window.panels["loss"]
    # the accuracy is the Accuracy panel's (training and test): the loss takes its whole panel
    assert loss.metric_cell.scene() is None and loss.loss_plot.getAxis("bottom").labelText == "training step"
    qtbot.keyClick(window, Qt.Key.Key_5)              # the layer table of the run on show, by its settings
    assert window.lab.layout == "layers" and window.stage.on_stage() == ["layers", "depth"]
    layers = window.panels["layers"]
    qtbot.waitUntil(lambda: layers.shown_config == window.lab.slots[0].config)
    assert [row[:2] for row in layers.rows()] == [(row["layer"], shape_text(row["shape"]))
                                                  for row in layer_table(window.lab.slots[0].config)]
    assert sum(row[0].startswith("conv layer") for row in layers.rows()) == 4         # --depth 4

    controls = window.controls
    assert controls.item("seq_len").isHidden() and not controls.item("depth").isHidden()
    assert open_from_menu(window, EXAMPLES / "exploding-rnn-clipped.gscope")
    assert window.lab.layout == "overview" and "timesteps" in window.stage.on_stage()
    window.redraw(everything=True)
    assert loss.metric_cell.scene() is loss.graphics.scene()         # an RNN's task metric is back
    assert "depth" not in tabs(window) and "filters" not in tabs(window)
    assert not controls.item("seq_len").isHidden() and controls.item("depth").isHidden()


def test_what_if_clipping_on_a_cnn_replay(qtbot, replay_only_window, open_from_menu, plain_and_residual):
    """The threshold keys on a CNN's replay mark the recorded steps it would have clipped."""
    window = replay_only_window
    assert open_from_menu(window, plain_and_residual)
    window.lab.seek(29)
    steps, norms = load_session(plain_and_residual).run(window.lab.slots[0].run_id).series_with_steps("grad_norm")
    while window.lab.config.clip_threshold > np.median(norms):
        qtbot.keyClick(window, Qt.Key.Key_BracketLeft)                  # Threshold Down, a tenth of a decade
    window.redraw(everything=True)
    panel = window.panels["grad_norm"]
    expected = steps[norms > window.lab.config.clip_threshold]
    assert 0 < len(expected) < len(steps)
    assert np.array_equal(panel.what_if.steps, expected)
    assert np.array_equal(panel.what_if_markers.x_values[0::2], expected)


def test_compared_runs_readouts_stand_in_their_colours(qtbot, replay_only_window, open_from_menu, plain_and_residual):
    """The first/last ratio of each run, in its run's colour: which number is whose, from the back."""
    window = replay_only_window
    assert open_from_menu(window, plain_and_residual)
    session = load_session(plain_and_residual)
    depth = window.panels["depth"]
    # the first/last ratio of each run, in its run's colour (which number is whose, from the back)
    window.timeline.runs.setCurrentIndex(0)       # the plain run, chosen in the timeline's list
    window.timeline.runs.activated.emit(0)
    menu = window.timeline.compare.menu()        # Compare ▾: the residual run beside it
    menu.aboutToShow.emit()
    next(action for action in menu.actions() if action.data() == 1).trigger()
    assert [slot.run_id for slot in window.lab.slots] == [0, 1]
    window.lab.seek(20)
    window.redraw(everything=True)
    slots = window.lab.slots
    assert len(slots) == 2
    rich = depth.readout.item.toHtml().lower()
    for slot in slots:
        weights = session.run(slot.run_id).arrays_at(20)["weight_grad_norm"]
        assert f"{weights[0] / weights[-2]:.2g}" in depth.readout.text
        assert theme.COLORS[slot.style[0]].lower() in rich
    # the what-if is the first run's, and says so
    assert window.panels["grad_norm"].plot._gradscope_title.startswith(f"{slots[0].name}: ")
    assert " would clip at " in window.panels["grad_norm"].plot._gradscope_title
