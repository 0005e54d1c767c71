"""A panel exported headless is drawn on its own at 1280x720, so its plot can be read (in the
1920x1200 window it was 761x291 with a 20 px plot), and is put back where it was afterwards;
the offscreen plugin's "propagateSizeHints" warning, exactly that message, is dropped."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pyqtgraph as pg
from PIL import Image
from PySide6.QtCore import qWarning

from gradscope.ui.exporting import export_animation
from gradscope.ui.panel_alone import PANEL_SIZE
from gradscope.ui.qt_noise import drop_offscreen_noise

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "sessions" / "exploding-rnn-clipped.gscope"
NOISE = "This plugin does not support propagateSizeHints()"


def headless(*arguments: str) -> subprocess.CompletedProcess:
    environment = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    return subprocess.run([sys.executable, "-m", "gradscope", "export", str(EXAMPLE), *arguments], cwd=ROOT,
                          env=environment, capture_output=True, text=True, timeout=300)


def test_a_headless_panel_gif_and_png_are_1280x720_and_print_no_size_hint_noise(tmp_path):
    gif, png = tmp_path / "clip.gif", tmp_path / "norm.png"
    for arguments, output in ((("--format", "gif", "--steps", "0:300", "--frames", "3"), gif),
                              (("--format", "png"), png)):
        done = headless(*arguments, "--panel", "grad_norm", "-o", str(output))
        assert done.returncode == 0, done.stderr
        assert "propagateSizeHints" not in done.stderr, done.stderr
    assert Image.open(gif).size == PANEL_SIZE
    assert Image.open(png).size[0] == PANEL_SIZE[0]          # the scene alone: the what-if line is a widget below it


def test_a_panel_alone_has_a_readable_plot_and_goes_back_where_it_was(qtbot, replay_only_window, tmp_path,
                                                                       open_from_menu):
    window = replay_only_window
    assert open_from_menu(window, EXAMPLE)
    panel = window.panels["grad_norm"]
    parent, size = panel.parentWidget(), panel.size()
    heights = []

    def measure(done: int, total: int) -> bool:      # before each frame, while the panel is on its own
        if done < total:
            boxes = [item for item in panel.graphics.scene().items() if isinstance(item, pg.ViewBox)]
            heights.append(max(box.sceneBoundingRect().height() for box in boxes))
        return True

    frames = export_animation(window, tmp_path / "norm.gif", "gif", (0, 300), "grad_norm", frames=3,
                              progress=measure, size=PANEL_SIZE)
    assert frames == 3 and Image.open(tmp_path / "norm.gif").size == PANEL_SIZE
    assert len(heights) == 3 and min(heights) >= 200, heights      # the gradient-norm plot: not 20 px
    assert panel.parentWidget() is parent
    qtbot.waitUntil(lambda: panel.isVisible() and panel.size() == size)


def test_exactly_the_size_hint_message_is_dropped(qtlog):
    drop_offscreen_noise()
    drop_offscreen_noise()                                  # twice: not stacked on itself
    qWarning(NOISE)
    qWarning(f"{NOISE} and something else")
    qWarning("QPainter::begin: Paint device returned engine == 0")
    said = [record.message for record in qtlog.records]
    assert NOISE not in said
    assert f"{NOISE} and something else" in said and "QPainter::begin: Paint device returned engine == 0" in said
