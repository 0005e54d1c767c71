"""What the task looks like from outside: the char LM's latest sample, the forecast against the
truth, the accuracy of the memory tasks. Compared runs: each run's sample, the first run's
forecast, every run's metric."""
from __future__ import annotations

import html

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

from gradscope.series import FORECAST_INPUT, FORECAST_PREDICTION, FORECAST_TARGET, METRIC, SAMPLE_TEXT, metric_label
from gradscope.ui import theme
from gradscope.ui.panels.base import Panel, add_plot, buckets_for
from gradscope.ui.panels.curves import SlotCurves, finite_or_nan, new_curve
from gradscope.ui.panels.ranges import RangeKeeper

ACCURACY = METRIC.name(metric="accuracy")
BITS_PER_CHAR = METRIC.name(metric="bits_per_char")


def sample_text(codepoints: np.ndarray) -> str:
    """The char LM's sample travels as Unicode code points; unprintable ones show as '·'."""
    chars = []
    for code in np.asarray(codepoints, dtype=np.int64).tolist():
        char = chr(code) if 0 <= code < 0x110000 else "·"
        chars.append(char if char.isprintable() or char == "\n" else "·")
    return "".join(chars)


ACCURACY_TASKS = ("adding", "copy", "recall")      # the tasks whose metrics include an accuracy


def task_mode(run) -> str:
    if SAMPLE_TEXT.name() in run.latest or run.task == "charlm":
        return "text"
    if run.task in ("sine", "csv"):
        return "forecast"
    # known from the task, not from the first record: a fresh run (Reset) keeps its title
    return "accuracy" if ACCURACY in run.scalars or run.task in ACCURACY_TASKS else "metric"


class TaskPanel(Panel):
    title = "Task"
    name = "task"

    def __init__(self, parent=None):
        super().__init__(parent)
        self.text = QLabel()
        self.text.setWordWrap(True)
        self.text.setTextFormat(Qt.TextFormat.RichText)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.text.setStyleSheet(f"font-size: {theme.FONT_POINTS + 2}pt; padding: 6px; background: white;")
        self.layout_.insertWidget(0, self.text, 1)
        self.plot = add_plot(self.graphics, 0, 0, legend=True)
        self.range = RangeKeeper(self.plot)
        self.input_curve = new_curve(self.plot, "blue", "input sequence")
        self.truth = pg.PlotDataItem(pen=None, symbol="o", symbolSize=16, symbolBrush=theme.brush("green"),
                                     symbolPen=None, name="true next value")
        self.forecast = pg.PlotDataItem(pen=None, symbol="x", symbolSize=20, symbolBrush=theme.brush("red"),
                                        symbolPen=theme.pen("red", 3), name="model's forecast")
        self.plot.addItem(self.truth)
        self.plot.addItem(self.forecast)
        self.metrics = SlotCurves(self.plot, ("green", theme.LONG_LINE_WIDTH, None), long=True)
        self.metric_curve = self.metrics.curves[0]
        self._mode: tuple | None = None

    def _set_mode(self, mode: str, slots) -> None:
        run = slots[0].history
        self._mode = (mode, tuple(slot.history.key for slot in slots))
        self.forget_step_plots(remove_lines=True)     # another run's markers must not stay
        self.range.reset()
        forecast = mode == "forecast"
        for item in (self.input_curve, self.truth, self.forecast):
            item.setVisible(forecast)
            item.setData([], [])
        for curve in self.metrics.curves:
            curve.setVisible(not forecast)
            curve.clear_values()
        self.metrics.restyle()
        self.plot.legend.clear()
        if forecast:
            for item, name in ((self.input_curve, "input sequence"), (self.truth, "true next value"),
                               (self.forecast, "model's forecast")):
                self.plot.legend.addItem(item, name)
        self.text.setVisible(mode == "text")
        self.graphics.setVisible(mode != "text")
        self.empty_note.hide()
        if forecast:
            which = f" ({slots[0].label})" if len(slots) > 1 else ""
            theme.style_plot(self.plot, f"Forecast of the next value (first probe sequence){which}", "value",
                             "timestep t")
        else:
            self.add_step_plot(self.plot)
            name = "accuracy" if mode == "accuracy" else "metric"
            theme.style_plot(self.plot, f"{run.task}: {name} over training", name, "training step")

    def show_nothing(self) -> None:
        super().show_nothing()
        self.text.hide()
        self._mode = None            # the next run sets the panel up for its task afresh

    def draw(self, lab) -> None:
        slots = lab.slots
        if not slots:
            return
        mode = task_mode(slots[0].history)
        if (mode, tuple(slot.history.key for slot in slots)) != self._mode:
            self._set_mode(mode, slots)
        if mode == "text":
            self._draw_text(slots)
        elif mode == "forecast":
            self._draw_forecast(slots[0].history)
        else:
            self.metrics.style(slots)
            shown, steps = [], np.empty(0)
            for slot in slots:
                run = slot.history
                name = ACCURACY if mode == "accuracy" else next(
                    (n for n in sorted(run.scalars) if n.startswith(METRIC.pattern.split("{")[0])), "loss")
                steps, values = run.line(name, buckets_for(len(slots), self.plot))
                self.metrics.show(slot.index, steps, values)
                shown.append(values)
            if mode == "accuracy":
                shown.append(np.array([0.0, 1.0]))
            self.range.update(steps, shown, x_fixed=slots[0].history.extent)

    def _draw_text(self, slots) -> None:
        parts = []
        for slot in slots:
            run = slot.history
            codes = run.latest.get(SAMPLE_TEXT.name())
            _, bpc = run.series(BITS_PER_CHAR)
            who = f"{html.escape(slot.label)}: " if len(slots) > 1 else ""
            header = f"<b>{who}Sample at step {run.latest_step}</b>"
            if bpc.size:
                header += f" &nbsp; ({metric_label(BITS_PER_CHAR)} now {bpc[-1]:.2f})"
            body = html.escape(sample_text(codes)) if codes is not None else "(no probe yet)"
            parts.append(f"{header}<pre style='white-space: pre-wrap; font-size: {theme.FONT_POINTS + 3}pt'>"
                         f"{body}</pre>")
        self.text.setText("".join(parts))

    def _draw_forecast(self, run) -> None:
        latest = run.latest
        if FORECAST_INPUT.name() not in latest:
            return
        series = latest[FORECAST_INPUT.name()]
        target, prediction = latest[FORECAST_TARGET.name()], latest[FORECAST_PREDICTION.name()]
        timesteps = np.arange(series.size)
        self.input_curve.show_values(timesteps, series)
        self.truth.setData([series.size], finite_or_nan(target[:1]))
        self.forecast.setData([series.size], finite_or_nan(prediction[:1]))
        self.range.update(None, [series, target, prediction], x_fixed=(0, series.size + 1))
