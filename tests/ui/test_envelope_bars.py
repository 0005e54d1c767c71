"""A long series' envelope painted as rectangles (`panels.bars`): the band tiles its steps with
no gap, holds every bucket's minimum and maximum, reaches its neighbour where the two do not
overlap, is never thinner than the pen, and leaves empty buckets empty; ticks are the pen's
width, centred on their step. And through the real paint: a band in a plot has no gap."""
import numpy as np
import pytest

from gradscope.ui.panels.bars import paired, rectangles


def envelope(steps, lo, hi):
    x = np.repeat(np.asarray(steps, dtype=float), 2)
    y = np.empty(x.size)
    y[0::2], y[1::2] = lo, hi
    return x, y


def test_a_band_tiles_its_steps_and_holds_each_bucket():
    steps = np.arange(0, 100, 10)
    rng = np.random.default_rng(1)
    lo = rng.normal(size=steps.size)
    hi = lo + rng.uniform(0, 2, steps.size)
    x, y = envelope(steps, lo, hi)
    assert paired(x)
    rects = rectangles(x, y, pixel_x=0.5, pixel_y=0.01, pen_px=1.0, band=True)
    left, bottom, width, height = rects.T
    assert np.allclose(left[1:], left[:-1] + width[:-1])                  # no gap between buckets
    assert np.all(bottom <= lo + 1e-12) and np.all(bottom + height >= hi - 1e-12)
    # each reaches the one before it: the jump a line would have drawn is in the band
    assert np.all(bottom[1:] <= hi[:-1] + 1e-12) and np.all(bottom[1:] + height[1:] >= lo[:-1] - 1e-12)


def test_a_flat_bucket_is_as_high_as_the_pen_is_wide_and_an_empty_one_is_left_out():
    x, y = envelope([0, 1, 2, 3], [1.0, np.nan, 1.0, 2.0], [1.0, np.nan, 1.0, 2.0])
    rects = rectangles(x, y, pixel_x=0.01, pixel_y=0.1, pen_px=3.0, band=True)
    assert len(rects) == 3 and not np.any(rects[:, 0] == 1.0)           # bucket 1 has no value
    assert rects[0, 3] == pytest.approx(0.3) and rects[0, 1] == pytest.approx(1.0 - 0.15)


def test_ticks_are_the_pens_width_and_centred_on_their_step():
    x, y = envelope([5, 9], [1.0, 2.0], [1.5, 2.5])
    rects = rectangles(x, y, pixel_x=0.2, pixel_y=0.01, pen_px=2.0, band=False)
    assert np.allclose(rects[:, 2], 0.4) and np.allclose(rects[:, 0] + 0.2, [5, 9])
    assert np.allclose(rects[:, 1], [1.0, 2.0]) and np.allclose(rects[:, 3], [0.5, 0.5])


def test_a_plot_paints_the_band_without_gaps_in_the_curves_colour(qtbot):
    import pyqtgraph as pg
    from PySide6.QtGui import QColor

    from gradscope.ui import theme
    from gradscope.ui.panels.curves import new_curve

    widget = pg.PlotWidget()
    qtbot.addWidget(widget)
    widget.resize(600, 300)
    widget.show()
    qtbot.waitExposed(widget)
    plot = widget.getPlotItem()
    curve = new_curve(plot, "blue", long=True, width=3)
    steps = np.arange(0, 2000, 10)
    rng = np.random.default_rng(0)
    lo = 1 + rng.uniform(0, 1, steps.size)
    curve.show_values(*envelope(steps, lo, lo + rng.uniform(0, 2, steps.size)))
    plot.setXRange(0, 2000, padding=0)
    plot.setYRange(0, 5, padding=0)
    qtbot.wait(50)
    image = widget.grab().toImage()
    blue = QColor(theme.COLORS["blue"]).rgb()
    vb = plot.vb.sceneBoundingRect().toRect()
    columns = [any(image.pixel(col, row) == blue for row in range(vb.top(), vb.bottom()))
               for col in range(vb.left() + 2, vb.left() + int(vb.width() * 1990 / 2000) - 2)]
    assert all(columns)                          # every pixel column of the band has the colour


@pytest.mark.parametrize("px_per_step, as_bars", [(0.2, True), (0.45, True), (2.0, False)])
def test_a_band_is_painted_as_bars_only_while_its_buckets_are_a_few_pixels_wide(qtbot, px_per_step, as_bars):
    """Buckets 10 steps apart (the newest still filling): 2 and 4.5 px wide read as a band,
    20 px wide as blocks, which a line through their minima and maxima draws better."""
    from PySide6.QtGui import QImage, QPainter, QPen, QTransform

    from gradscope.ui.panels.bars import BarsPainter

    steps = np.append(np.arange(0, 1000, 10), 1003)
    x, _ = envelope(steps, np.zeros(steps.size), np.ones(steps.size))
    image = QImage(50, 50, QImage.Format.Format_ARGB32_Premultiplied)
    painter = QPainter(image)
    painter.setTransform(QTransform.fromScale(px_per_step, 1.0))
    try:
        assert BarsPainter.suits(painter, x, QPen()) is as_bars
    finally:
        painter.end()
