"""The log axis labels at least two ticks, with the digits they need, however little of a
decade it spans; and never more than fit (the labels stand a label's height apart)."""
import numpy as np
import pytest
from PySide6.QtGui import QFont, QFontMetricsF

from gradscope.ui.axes import ReadableAxis


@pytest.fixture
def log_axis(qapp):
    axis = ReadableAxis("left")
    axis.setLogMode(False, True)
    font = QFont()
    font.setPixelSize(20)
    axis.setTickFont(font)
    return axis


def number_of(text: str) -> float:
    """What a label says: "1.05", "3.1·10⁵", "10⁻⁴"."""
    plain = text.translate(str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻", "0123456789-"))
    if "·10" in plain:
        mantissa, power = plain.split("·10")
        return float(mantissa) * 10.0 ** int(power)
    if text.startswith("10") and text != plain:
        return 10.0 ** int(plain[2:])
    return float(plain)


def labels(axis, low, high, size):
    low_log, high_log = np.log10(low), np.log10(high)
    levels = axis.tickValues(low_log, high_log, size)
    values = [v for v in levels[0][1] if low_log <= v <= high_log]
    return values, axis.tickStrings(values, 1.0, levels[0][0])


@pytest.mark.parametrize("low, high", [(0.9, 1.6), (0.95, 1.2), (1.01, 1.09), (0.2, 0.25),
                                       (3e5, 3.3e5), (2.0, 7.0), (0.5, 1.3), (1e-4, 10.0),
                                       (0.8, 1.8), (0.85, 2.0)])
@pytest.mark.parametrize("size", [140, 300])
def test_a_log_axis_labels_two_ticks_or_more_and_each_says_its_value(log_axis, low, high, size):
    values, texts = labels(log_axis, low, high, size)
    assert len(texts) >= 2, texts
    assert len(set(texts)) == len(texts), texts
    for value, text in zip(values, texts):
        assert number_of(text) == pytest.approx(10 ** value, rel=1e-6), (text, 10 ** value)


@pytest.mark.parametrize("low, high", [(0.9, 1.6), (1e-6, 1e3), (0.3, 0.9)])
def test_labels_stand_a_label_height_apart(log_axis, low, high):
    size = 140
    values, _ = labels(log_axis, low, high, size)
    height = QFontMetricsF(log_axis.style["tickFont"]).height()
    pixels = np.sort(np.asarray(values)) * size / (np.log10(high) - np.log10(low))
    assert np.all(np.diff(pixels) >= height), (values, height)


@pytest.mark.parametrize("low, high", [(1e-8, 2.0), (2e-3, 6e-3), (1e-4, 0.5)])
def test_labels_under_a_hundredth_are_powers_of_ten_no_wider_than_a_hundredth(log_axis, low, high):
    """"0.0001" is wider than a left axis's room for its labels and ran into its title ("norm"):
    the labels under 0.01 are written as powers, and none is wider than "0.01"."""
    values, texts = labels(log_axis, low, high, 300)
    metrics = QFontMetricsF(log_axis.style["tickFont"])
    small = [text for value, text in zip(values, texts) if 10 ** value < 0.01 - 1e-12]
    assert small, texts
    for text in small:
        assert "·10" in text or text.startswith("10"), texts
        assert metrics.horizontalAdvance(text) <= metrics.horizontalAdvance("0.01") * 1.5, text
    for value, text in zip(values, texts):
        assert number_of(text) == pytest.approx(10 ** value, rel=1e-6), (text, 10 ** value)


def test_an_axis_of_training_steps_ticks_whole_steps_only(qapp):
    """A run one step old: its training-step axis read 0.2, 0.4 ... 1.2."""
    axis = ReadableAxis("bottom")
    axis.whole_numbers = True
    for low, high in ((0.0, 1.2), (0.0, 3.0), (0.0, 40.0)):
        values = [value for _, level in axis.tickValues(low, high, 400) for value in level]
        assert values and all(float(value).is_integer() for value in values), (low, high, values)
    plain = ReadableAxis("bottom")
    assert any(not float(value).is_integer() for _, level in plain.tickValues(0.0, 1.2, 400) for value in level)


def test_the_panels_training_step_axes_are_whole_number_axes(qtbot):
    from gradscope.ui.panels.training import LossPanel

    panel = LossPanel()
    qtbot.addWidget(panel)
    assert panel.loss_plot.getAxis("bottom").whole_numbers and not panel.loss_plot.getAxis("left").whole_numbers
