"""Every export of File > Export works for a convolutional run, through the menu's actions with
the dialogs patched where they open: each image-run panel as PNG (a picture of what is on
show, not a blank) and SVG, the replay as a GIF, and the run's series as NPZ (the strip, the
feature maps and the depth series, equal to the session's) and CSV."""
from __future__ import annotations

import csv
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QInputDialog

from gradscope import load_session

IMAGE_PANELS = ("depth", "images", "filters", "accuracy", "layers")



def export_action(window, text: str):
    menu = next(action.menu() for action in window.menuBar().actions() if action.text().strip("&") == "File")
    export = next(action.menu() for action in menu.actions() if action.menu() and "Export" in action.text())
    return next(action for action in export.actions() if action.text() == text)


@pytest.fixture
def answer(monkeypatch):
    """The dialogs answer `path` (and the panel whose title is `panel`, the steps `steps`)."""
    def set_answers(path: Path, panel: str = "", steps: str = "") -> None:
        monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *args, **kwargs: (str(path), "")))
        monkeypatch.setattr(QInputDialog, "getItem", staticmethod(lambda *args, **kwargs: (panel, True)))
        monkeypatch.setattr(QInputDialog, "getText", staticmethod(lambda *args, **kwargs: (steps, True)))
    return set_answers


def coloured_pixels(path: Path) -> int:
    pixels = np.asarray(Image.open(path).convert("RGB")).astype(int)
    return int((np.abs(pixels - pixels[..., :1]).sum(axis=-1) > 60).sum())     # neither white, grey nor black


def test_each_image_panel_exports_as_png_and_svg(qtbot, replay_only_window, open_from_menu, lenet_session, answer,
                                                  tmp_path):
    window = replay_only_window
    assert open_from_menu(window, lenet_session)
    window.lab.seek(20)
    for name in IMAGE_PANELS:
        panel = window.panels[name]
        png, svg = tmp_path / f"{name}.png", tmp_path / f"{name}.svg"
        answer(png, panel.title)
        export_action(window, "Panel as PNG…").trigger()
        assert window.errors == [], window.errors
        picture = Image.open(png)
        assert picture.width >= 400 and picture.height >= 300, (name, picture.size)
        if name != "layers":                      # a table: black on white
            assert coloured_pixels(png) > 500, name     # its heatmaps, filters, bars or curves
        answer(svg, panel.title)
        export_action(window, "Panel as SVG…").trigger()
        assert window.errors == [], window.errors
        assert ET.parse(svg).getroot().tag.endswith("svg"), name
        assert f"{panel.title} panel" in window.statusBar().currentMessage()


def test_the_replay_as_gif_and_the_series_as_npz_and_csv(qtbot, replay_only_window, open_from_menu, lenet_session,
                                                         answer, tmp_path):
    window = replay_only_window
    assert open_from_menu(window, lenet_session)
    qtbot.keyClick(window, Qt.Key.Key_3)                   # the Images layout on show
    answer(tmp_path / "replay.gif", steps="0:21")
    export_action(window, "Replay as GIF…").trigger()
    assert window.errors == [], window.errors
    gif = Image.open(tmp_path / "replay.gif")
    assert gif.n_frames >= 2

    answer(tmp_path / "series.npz")
    export_action(window, "Run's series as NPZ…").trigger()
    assert window.errors == [], window.errors
    run = load_session(lenet_session).runs[0]
    with np.load(tmp_path / "series.npz", allow_pickle=False) as exported:
        steps = exported["strip/probabilities.steps"].tolist()
        assert steps == [0, 10, 20]
        for name in ("strip/probabilities", "strip/images", "feature_maps/layer0", "layer_grad_norm", "confusion"):
            for row, step in zip(exported[name], steps):
                np.testing.assert_array_equal(row, run.arrays_at(step)[name], err_msg=name)

    answer(tmp_path / "series.csv")
    export_action(window, "Run's series as CSV…").trigger()
    assert window.errors == [], window.errors
    with open(tmp_path / "series.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 21
    probed = next(row for row in rows if row["step"] == "10")
    expected = run.arrays_at(10)["layer_grad_norm"]
    assert [float(probed[f"layer_grad_norm[{k}]"]) for k in range(len(expected))] == expected.tolist()
