"""The Layers panel, through the window as a user drives it: a CNN chosen in the settings tree
brings the image layouts before anything trains, key 4 puts the layer table on the stage,
and its rows are `layer_table`'s for the settings on the left, which a forward pass of the
model those settings build confirms (the conv layers', the pools' and the classifier's
shapes). A setting typed into the tree changes the table; a combination that shrinks a map
below 1x1 shows the refusal naming the layer and the numbers, and the window goes on. A
recurrent session's layouts and tabs leave the panel out."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import QApplication, QFileDialog, QInputDialog

from gradscope import tasks
from gradscope.config import ConfigError
from gradscope.config.run_config import described
from gradscope.families import family_of
from gradscope.layer_table import layer_table, shape_text, values_in
from test_settings_keyboard import click_setting

EXAMPLE = Path(__file__).resolve().parents[2] / "sessions" / "exploding-rnn-clipped.gscope"


def expected_rows(config) -> list[tuple[str, str, str]]:
    return [(row["layer"], shape_text(row["shape"]), f"{values_in(row['shape']):,}") for row in layer_table(config)]


def type_setting(qtbot, window, name: str, text: str) -> None:
    """Click the setting's row, type over its value and press Enter, as a person does."""
    editor = click_setting(qtbot, window, name)
    qtbot.keyClicks(editor, text)
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not editor.isVisible())


def shapes_of_a_forward_pass(config) -> dict[str, tuple[int, ...]]:
    """What torch makes of one image through the model the settings build: each conv layer's
    output, each pool's (applied by torch to that output), the classifier's scores."""
    task = tasks.build(config)
    model = family_of(config.arch).build_model(config, task)
    with torch.no_grad():
        trace = model.trace(torch.zeros(2, *task.input_shape))
    shapes = {"input": tuple(task.input_shape), "classifier": tuple(trace.logits.shape[1:])}
    for layer, output in zip(model.plan.layers, trace.outputs):
        shapes[layer.name] = tuple(output.shape[1:])
        if layer.pool == "max":
            shapes[f"max pool after {layer.name}"] = tuple(F.max_pool2d(output, 2).shape[1:])
    return shapes


def test_the_table_follows_the_settings_before_any_training(qtbot, replay_only_window):
    window = replay_only_window
    panel = window.panels["layers"]
    assert not panel.isVisible()                      # an RNN's settings: no layer table anywhere
    assert window.controls.set_value("arch", "cnn")   # the architecture's list, as the user picks it
    assert window.lab.slots == [] and window.lab.layout == "depth"
    assert panel in [window.stage.widget(k) for k in range(window.stage.count())]       # in a tab
    qtbot.keyClick(window, Qt.Key.Key_5)
    assert window.lab.layout == "layers" and window.stage.on_stage() == ["layers", "depth"]
    qtbot.waitUntil(lambda: panel.shown_config == window.lab.config)
    config = window.lab.config
    assert (config.arch, config.task, config.depth, config.pool) == ("cnn", "digits", 8, "max")
    assert panel.rows() == expected_rows(config)
    forward = shapes_of_a_forward_pass(config)
    shown = {layer: shape for layer, shape, _ in panel.rows()}
    assert {layer: shape_text(shape) for layer, shape in forward.items()} == \
        {layer: shown[layer] for layer in forward}
    assert [layer for layer, _, _ in panel.rows()][-2:] == ["global average pool", "classifier"]

    type_setting(qtbot, window, "depth", "5")
    assert window.lab.config.depth == 5
    qtbot.waitUntil(lambda: panel.shown_config == window.lab.config)
    assert panel.rows() == expected_rows(window.lab.config)
    assert sum(layer.startswith("conv layer") for layer, _, _ in panel.rows()) == 5

    type_setting(qtbot, window, "stride", "2")
    type_setting(qtbot, window, "depth", "20")
    refused = window.lab.config
    assert (refused.depth, refused.stride) == (20, 2)      # taken: only the arithmetic refuses it
    qtbot.waitUntil(lambda: panel.shown_config == refused)
    with pytest.raises(ConfigError) as refusal:
        layer_table(refused)
    assert panel.refusal.isVisible() and not panel.table.isVisible()
    assert panel.refusal.text() == f"Refused — {described(refusal.value)}"
    assert "max pool after conv layer 10: (1 + 2*0 - 2)/2 + 1 = 0, below 1x1" in panel.refusal.text()
    assert refusal.value.option == "stride"                # what shrinks the maps, not the depth typed last

    type_setting(qtbot, window, "stride", "1")            # the window goes on: the table comes back
    qtbot.waitUntil(lambda: panel.table.isVisible())
    assert not panel.refusal.isVisible() and panel.rows() == expected_rows(window.lab.config)


def test_file_export_pictures_the_table(qtbot, replay_only_window, monkeypatch, tmp_path):
    window = replay_only_window
    assert window.controls.set_value("arch", "cnn")
    qtbot.keyClick(window, Qt.Key.Key_5)
    panel = window.panels["layers"]
    qtbot.waitUntil(lambda: panel.shown_config == window.lab.config)
    path = tmp_path / "layers.png"
    monkeypatch.setattr(QInputDialog, "getItem", staticmethod(lambda *args, **kwargs: (panel.title, True)))
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *args, **kwargs: (str(path), "")))
    next(action for action in window.export_menu.actions() if action.text().startswith("Panel as PNG")).trigger()
    picture = QImage(str(path))
    assert (picture.width(), picture.height()) == (panel.width(), panel.height())
    # the table's text, not the empty plot scene behind it: a good share of the pixels are ink
    dark = sum(QColor(picture.pixel(x, y)).lightness() < 128
               for x in range(0, picture.width(), 3) for y in range(0, picture.height(), 3))
    assert dark > 200


def test_a_recurrent_session_leaves_the_panel_out(qtbot, replay_only_window, open_from_menu):
    window = replay_only_window
    assert window.controls.set_value("arch", "lenet")
    panel = window.panels["layers"]
    assert panel in [window.stage.widget(k) for k in range(window.stage.count())]
    assert open_from_menu(window, EXAMPLE)
    assert window.lab.config.arch == "rnn" and window.lab.layout == "overview"
    for number in range(1, 10):
        qtbot.keyClick(window, str(number))
        assert panel not in [window.stage.widget(k) for k in range(window.stage.count())]
        assert "layers" not in window.stage.on_stage() and not panel.isVisible()
