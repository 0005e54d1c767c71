"""An axis that never labels more ticks than fit, and always labels at least two.

pyqtgraph always draws the labels of its first tick level, and on a short log axis spanning
under a decade that level is 0.7, 0.8, 0.9, 1, 2, 3 ... one on top of the other. `ReadableAxis`
keeps every k-th tick of that level (the decades first, on a log axis) so that the labels stand
at least a label's height (or width) apart.

A log axis spanning a small part of a decade (a loss between 0.9 and 1.6) has one or no
multiple of 1..9 times a power of ten inside it, and pyqtgraph prints those with one digit: the
axis would read "1" and nothing else. There the ticks are chosen as on a linear axis (1.0, 1.2,
1.4 ...), placed at their logarithms, and printed with the digits they need.

Ticks of 10,000 and more on a linear axis read in thousands, "10k" (`THOUSANDS_FROM`).

An axis of training steps (`whole_numbers`) ticks whole steps only: a run one step old read
0.2, 0.4 ... 1.2 there.

Every plot the panels style gets one (`theme.style_plot`)."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QFontMetricsF

GAP = 1.35              # the room a label needs along the axis, in label heights (or widths)
SUPERSCRIPTS = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")
THOUSANDS_FROM = 10_000     # a linear axis labels its ticks from here on in thousands
SMALLEST_DECIMAL = 0.01   # a log axis's labels below it are powers of ten: "10⁻³", "5·10⁻³"


class ReadableAxis(pg.AxisItem):
    whole_numbers = False      # ticks at whole numbers only (set for training steps: `theme.style_plot`)

    def tickSpacing(self, minVal, maxVal, size):
        levels = super().tickSpacing(minVal, maxVal, size)
        if not self.whole_numbers or self.logMode:
            return levels
        whole = [(spacing, offset) for spacing, offset in levels if spacing >= 1]
        return whole or [(1.0, 0.0)]

    def tickValues(self, minVal, maxVal, size):
        levels = super().tickValues(minVal, maxVal, size)
        if size <= 0 or maxVal <= minVal:
            return levels
        linear = self.logMode and _labelled_within(levels, minVal, maxVal) < 2
        if linear:
            levels = self._linear_ticks_on_log(minVal, maxVal, size)
        spaced = self._spaced_levels(levels, minVal, maxVal, size)
        if self.logMode and not linear and _labelled_within(spaced, minVal, maxVal) < 2:
            # two labels too close to keep both ("0.9" under "1" from 0.85 to 2): round values instead
            spaced = self._spaced_levels(self._linear_ticks_on_log(minVal, maxVal, size), minVal, maxVal, size)
        return spaced

    def _spaced_levels(self, levels, minVal, maxVal, size):
        """`levels` with the first level's labels a label's room apart."""
        if not levels:
            return levels
        spacing, values = levels[0]
        values = np.asarray(values, dtype=np.float64)
        if values.size < 2:
            return levels
        room = self._room(values, spacing) * (maxVal - minVal) / size      # a label's room, in data units
        kept = _spaced(values, room, self.logMode)
        if len(kept) == values.size:
            return levels
        return [(spacing, kept)] + list(levels[1:])

    def _linear_ticks_on_log(self, low_log: float, high_log: float, size: float):
        """Ticks at round values of the quantity itself (not of its logarithm), as log10."""
        low, high = 10.0 ** low_log, 10.0 ** high_log
        levels = []
        for spacing, offset in pg.AxisItem.tickSpacing(self, low, high, size)[:2]:
            start = np.ceil(low / spacing) * spacing
            values = start + spacing * np.arange(int((high - start) / spacing) + 1)
            values = values[(values > 0) & (values <= high)]
            levels.append((None, list(np.log10(values))))
        # a major spacing as wide as the span (1 from 0.8 to 1.8) labels one tick: the finer
        # level (0.5) labels two
        while len(levels) > 1 and len(levels[0][1]) < 2:
            levels.pop(0)
        return levels

    def tickStrings(self, values, scale, spacing):
        """Big round numbers in thousands ("10k", "12.5k"): a training step's "10000" is as wide
        as a left axis's room for its labels, and "100000" ran into the axis's title."""
        numbers = np.asarray(values, dtype=np.float64) * scale
        if self.logMode or not numbers.size or np.abs(numbers).max() < THOUSANDS_FROM \
                or not np.allclose(numbers / 100, np.round(numbers / 100)):
            return super().tickStrings(values, scale, spacing)
        return [f"{number / 1000:g}k" for number in numbers]

    def logTickStrings(self, values, scale, spacing):
        return [_short(10.0 ** float(value) * scale, values, scale) for value in values]

    def _room(self, values: np.ndarray, spacing: float) -> float:
        font = self.style.get("tickFont")
        metrics = QFontMetricsF(font) if font is not None else QFontMetricsF(self.font())
        if self.orientation in ("left", "right"):
            return metrics.height() * GAP
        texts = self.tickStrings(list(values), self.autoSIPrefixScale * self.scale, spacing)
        widest = max((metrics.horizontalAdvance(text) for text in texts), default=metrics.height())
        return widest * GAP


def _labelled_within(levels, low: float, high: float) -> int:
    if not levels:
        return 0
    values = np.asarray(levels[0][1], dtype=np.float64)
    return int(np.count_nonzero((values >= low) & (values <= high)))


def _short(number: float, values, scale: float) -> str:
    """`number` with as few significant digits as tell the axis's ticks apart exactly (one for
    the multiples of a power of ten, "1.05" among 1.00, 1.05, 1.10), big and small ones as
    "3·10⁵" and "10⁻³" (anything under `SMALLEST_DECIMAL`), as pyqtgraph's log axis writes them."""
    numbers = 10.0 ** np.asarray(values, dtype=np.float64) * scale
    digits = next((d for d in range(1, 5) if all(np.isclose(float(f"{x:.{d}g}"), x, rtol=1e-6)
                                                   for x in numbers)), 4)
    text = f"{number:.{digits}g}"
    if 0 < abs(number) < SMALLEST_DECIMAL:
        # "0.0001" is wider than a left axis's room for its labels and runs into its title
        text = f"{number:.{digits - 1}e}"
    if "e" not in text:
        return text
    mantissa, power = text.split("e")
    if "." in mantissa:
        mantissa = mantissa.rstrip("0").rstrip(".")
    power = str(int(power)).translate(SUPERSCRIPTS)
    return f"10{power}" if mantissa == "1" else f"{mantissa}·10{power}"


def _spaced(values: np.ndarray, room: float, log: bool) -> list[float]:
    """The values whose labels stand `room` apart, chosen greedily: on a log axis the whole
    decades first, then the others where they fit (a log axis's minor ticks are not evenly
    spaced, so a count alone would not do)."""
    order = list(values)
    if log:
        whole = np.isclose(values, np.round(values))
        order = list(values[whole]) + list(values[~whole])
    kept: list[float] = []
    for value in order:
        if all(abs(value - other) >= room for other in kept):
            kept.append(float(value))
    return sorted(kept)
