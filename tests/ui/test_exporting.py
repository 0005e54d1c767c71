"""File > Export from a replay: the window or one panel as PNG and SVG, a step range replayed
into a GIF or an MP4 (through a fake ffmpeg), cancelling, and the clear errors."""
from __future__ import annotations

import json
import os
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from PIL import Image
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QGraphicsItem

from test_replay import write_synthetic

from gradscope.export import ExportError
from gradscope.ui.exporting import export_animation, export_image

STEPS = 80
PANEL = "grad_norm"

# Stands in for ffmpeg (as tests/export/conftest.py does): logs its arguments, reads the raw
# frames from stdin to the end and writes their byte count into the output file (the last argument).
FAKE_FFMPEG = """#!{python}
import json, os, sys
args = sys.argv[1:]
with open(os.environ["FAKE_FFMPEG_LOG"], "a") as log:
    log.write(json.dumps(args) + "\\n")
data = sys.stdin.buffer.read()
with open(args[-1], "w") as out:
    out.write(str(len(data)))
"""


@pytest.fixture
def window(replay_only_window, tmp_path):
    """A replay-only window on a synthetic session."""
    assert replay_only_window.open_file(write_synthetic(tmp_path / "s.gscope", steps=STEPS, probe_every=5))
    return replay_only_window


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def grabbed_size(widget) -> tuple[int, int]:
    size = widget.grab().size()
    return size.width(), size.height()


# -- pictures ------------------------------------------------------------------------------------

def test_the_window_as_png_is_a_picture_of_the_window(window, tmp_path):
    window.lab.seek(40)
    path = export_image(window, tmp_path / "window.png", "png")
    assert path == tmp_path / "window.png"
    image = QImage(str(path))
    assert not image.isNull()
    assert (image.width(), image.height()) == grabbed_size(window)
    assert image.width() >= 1000 and image.height() >= 700
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert leftovers(tmp_path) == []
    assert window.lab.cursor == 40                 # a picture does not move the replay


def test_a_panel_as_png_has_the_panel_width(window, tmp_path):
    panel = window.panels[PANEL]
    path = export_image(window, tmp_path / "panel.png", "png", PANEL)
    image = QImage(str(path))
    assert not image.isNull()
    assert image.width() == max(int(panel.graphics.width()), 16)
    assert 16 <= image.height() <= 4 * image.width()
    assert image.width() < grabbed_size(window)[0]  # the panel, not the whole window
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("panel", ["window", PANEL])
def test_svg_of_the_window_and_of_a_panel_parses(window, tmp_path, panel):
    path = export_image(window, tmp_path / f"{panel}.svg", "svg", panel)
    root = ET.parse(path).getroot()
    assert root.tag.endswith("svg")
    widget = window if panel == "window" else window.panels[panel]
    view_box = [float(v) for v in root.get("viewBox").split()]
    assert view_box == [0, 0, widget.width(), widget.height()]
    assert sum(1 for _ in root.iter()) > 10           # something was drawn into it
    # titles and tick labels are text in the SVG, though the screen paints them from pixmaps
    words = " ".join("".join(element.itertext()) for element in root.iter() if element.tag.endswith("text"))
    assert "training step" in words and "fraction clipped" in words, words[:300]   # the grad_norm panel's axes
    assert leftovers(tmp_path) == []
    cached = [item for item in window.panels[PANEL].graphics.scene().items()
              if item.cacheMode() != QGraphicsItem.CacheMode.NoCache]
    assert cached                                     # and the screen goes back to its pixmaps


def test_an_unknown_panel_is_an_export_error_and_writes_nothing(window, tmp_path):
    for fmt in ("png", "svg"):
        with pytest.raises(ExportError, match="no panel 'nope'.*grad_norm"):
            export_image(window, tmp_path / f"x.{fmt}", fmt, "nope")
    with pytest.raises(ExportError, match="no panel 'nope'"):
        export_animation(window, tmp_path / "x.gif", "gif", panel="nope", frames=3)
    with pytest.raises(ExportError, match="not an image format"):
        export_image(window, tmp_path / "x.gif", "gif")
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(("x.", ".x."))) == []


# -- animations ----------------------------------------------------------------------------------

@pytest.mark.parametrize("panel", ["window", PANEL])
def test_a_step_range_as_gif(window, tmp_path, panel):
    window.lab.seek(70)
    calls = []

    def progress(done, total):
        calls.append((done, total))
        return True

    path = tmp_path / f"{panel}.gif"
    frames = export_animation(window, path, "gif", steps=(10, 50), panel=panel, fps=5, frames=5, progress=progress)
    assert frames == 5
    assert calls == [(0, 5), (1, 5), (2, 5), (3, 5), (4, 5), (5, 5)]
    widget = window if panel == "window" else window.panels[panel]
    with Image.open(path) as image:
        assert image.format == "GIF"
        assert 1 <= image.n_frames <= 5       # Pillow merges a frame equal to the one before
        assert image.size == grabbed_size(widget)
    assert window.lab.cursor == 70            # the replay is back where it was
    assert leftovers(tmp_path) == []


def test_cancelling_an_animation_leaves_no_file(window, tmp_path):
    window.lab.seek(33)
    path = tmp_path / "cancelled.gif"
    frames = export_animation(window, path, "gif", steps=(0, STEPS), frames=5,
                              progress=lambda done, total: done < 2)
    assert frames == 0
    assert not path.exists() and leftovers(tmp_path) == []
    assert window.lab.cursor == 33


def test_a_range_without_recorded_steps_is_an_export_error(window, tmp_path):
    with pytest.raises(ExportError, match="no recorded steps"):
        export_animation(window, tmp_path / "empty.gif", "gif", steps=(STEPS + 10, STEPS + 20))
    assert not (tmp_path / "empty.gif").exists() and leftovers(tmp_path) == []


def test_mp4_without_ffmpeg_says_so_clearly(window, tmp_path, monkeypatch):
    empty = tmp_path / "emptybin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    path = tmp_path / "replay.mp4"
    with pytest.raises(ExportError, match="MP4 export needs ffmpeg.*PATH.*GIF") as caught:
        export_animation(window, path, "mp4", steps=(0, 20), frames=3)
    assert str(path) in str(caught.value)
    assert not path.exists() and leftovers(tmp_path) == []


def test_mp4_through_an_ffmpeg_on_path_gets_every_frame(window, tmp_path, monkeypatch):
    folder = tmp_path / "fakebin"
    folder.mkdir()
    script = folder / "ffmpeg"
    script.write_text(FAKE_FFMPEG.format(python=sys.executable))
    script.chmod(0o755)
    log = tmp_path / "calls.jsonl"
    monkeypatch.setenv("PATH", str(folder) + os.pathsep + os.environ.get("PATH", ""))
    monkeypatch.setenv("FAKE_FFMPEG_LOG", str(log))
    path = tmp_path / "replay.mp4"
    frames = export_animation(window, path, "mp4", steps=(0, 40), panel=PANEL, fps=12, frames=4)
    assert frames == 4 and path.exists() and leftovers(tmp_path) == []
    [args] = [json.loads(line) for line in log.read_text().splitlines()]
    width, height = (int(v) for v in args[args.index("-s") + 1].split("x"))
    panel_width, panel_height = grabbed_size(window.panels[PANEL])
    assert (width, height) == (panel_width + panel_width % 2, panel_height + panel_height % 2)
    assert args[args.index("-r") + 1] == "12"
    assert int(path.read_text()) == 4 * width * height * 3    # every frame reached ffmpeg
