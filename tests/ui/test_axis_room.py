"""A left axis's tick labels fit its fixed width beside its title in both looks: a training
step of 10,000 and more reads in thousands ("20k"), and the widest log label, "5·10⁻³", has its
room. At the desk at 1280x720 the heatmap's "training step" ran through "10000", and the depth
plot's "norm" through "5·10⁻³"."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
import pytest
from look_probe import label_overlaps
from PySide6.QtGui import QImage, QPainter

from gradscope.ui import theme


@pytest.fixture(params=[theme.DESK, theme.PRESENTATION], ids=lambda look: look.name)
def styled_plot(request, qtbot):
    theme.use_look(request.param)
    view = pg.GraphicsLayoutWidget()
    qtbot.addWidget(view)
    view.resize(640, 400)
    plot = view.addPlot()
    theme.style_plot(plot, "a plot", "training step", "timestep t")
    view.show()
    yield view, plot
    theme.use_look(theme.DESK)


def drawn_labels(view, plot, qapp) -> tuple[list[str], list[str]]:
    """The left axis's tick labels as drawn, and where they run into each other or its title."""
    for _ in range(3):
        qapp.processEvents()
    axis = plot.getAxis("left")
    image = QImage(8, 8, QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    try:
        painter.setFont(axis.style["tickFont"])
        texts = [text for _, _, text in axis.generateDrawSpecs(painter)[2]]
        return texts, label_overlaps(axis, painter)
    finally:
        painter.end()


@pytest.mark.parametrize("top", [30_000, 100_000, 1_000_000])
def test_big_training_steps_read_in_thousands_clear_of_the_title(styled_plot, qapp, top):
    view, plot = styled_plot
    plot.setYRange(0, top, padding=0)
    texts, problems = drawn_labels(view, plot, qapp)
    assert problems == []
    big = [text for text in texts if text not in ("0",)]
    assert big and all(text.endswith("k") for text in big), texts
    assert {float(text[:-1]) * 1000 for text in big} <= set(np.arange(0, top + 1, 1000.0))


def test_small_numbers_keep_their_digits(styled_plot, qapp):
    view, plot = styled_plot
    plot.setYRange(0, 8000, padding=0)
    texts, problems = drawn_labels(view, plot, qapp)
    assert problems == [] and "k" not in "".join(texts) and any(len(text) == 4 for text in texts), texts


def test_the_widest_log_label_fits_beside_the_title(styled_plot, qapp):
    view, plot = styled_plot
    plot.setLogMode(x=False, y=True)
    plot.setYRange(np.log10(1.5e-3), np.log10(6e-3), padding=0)
    texts, problems = drawn_labels(view, plot, qapp)
    assert problems == []
    assert any("·10⁻³" in text for text in texts), texts
