"""What the model does with its task: the char LM's latest sample, the forecast against the
truth, the accuracy of the memory tasks."""
from __future__ import annotations

import html

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

from gradscope.ui import theme
from gradscope.ui.history import Lab, RunHistory
from gradscope.ui.panels.base import Panel, RangeKeeper, add_plot, finite_or_nan, new_curve


def sample_text(codepoints: np.ndarray) -> str:
    """The char LM's sample travels as Unicode code points; unprintable ones show as '·'."""
    chars = []
    for code in np.asarray(codepoints, dtype=np.int64).tolist():
        char = chr(code) if 0 <= code < 0x110000 else "·"
        chars.append(char if char.isprintable() or char == "\n" else "·")
    return "".join(chars)


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
        self.metric_curve = new_curve(self.plot, "green", None, long=True)
        self._mode: str | None = None
        self._mode_key: tuple | None = None

    def _set_mode(self, mode: str, run: RunHistory) -> None:
        self._mode = mode
        self._mode_key = run.key
        self.step_plots.clear()
        self._markers.clear()
        self._markers[id(self.plot)] = []
        self._marked_run = None
        self.range.reset()
        forecast = mode == "forecast"
        for item in (self.input_curve, self.truth, self.forecast):
            item.setVisible(forecast)
            item.setData([], [])
        self.metric_curve.setVisible(not forecast)
        self.metric_curve.clear_values()
        self.plot.legend.setVisible(forecast)
        self.text.setVisible(mode == "text")
        self.graphics.setVisible(mode != "text")
        if forecast:
            theme.style_plot(self.plot, "Forecast of the next value (first probe sequence)", "value", "timestep t")
        else:
            self.add_step_plot(self.plot)
            name = "accuracy" if mode == "accuracy" else "metric"
            theme.style_plot(self.plot, f"{run.task}: {name} over training", name, "training step")

    def draw(self, lab: Lab, run: RunHistory | None) -> None:
        if run is None:
            return
        if "sample/text" in run.latest or run.task == "charlm":
            mode = "text"
        elif run.task in ("sine", "csv"):
            mode = "forecast"
        else:
            mode = "accuracy" if "metric/accuracy" in run.scalars else "metric"
        if mode != self._mode or self._mode_key != run.key:
            self._set_mode(mode, run)
        if mode == "text":
            self._draw_text(run)
        elif mode == "forecast":
            self._draw_forecast(run)
        else:
            name = "metric/accuracy" if mode == "accuracy" else next(
                (n for n in sorted(run.scalars) if n.startswith("metric/")), "loss")
            steps, values = run.line(name)
            self.metric_curve.show_values(steps, values)
            self.range.update(steps, [values, np.array([0.0, 1.0])] if mode == "accuracy" else [values],
                              x_fixed=run.extent)

    def _draw_text(self, run: RunHistory) -> None:
        codes = run.latest.get("sample/text")
        _, bpc = run.series("metric/bits_per_char")
        header = f"<b>Sample at step {run.latest_step}</b>"
        if bpc.size:
            header += f" &nbsp; (bits per character now {bpc[-1]:.2f})"
        body = html.escape(sample_text(codes)) if codes is not None else "(no probe yet)"
        self.text.setText(f"{header}<pre style='white-space: pre-wrap; font-size: {theme.FONT_POINTS + 3}pt'>"
                          f"{body}</pre>")

    def _draw_forecast(self, run: RunHistory) -> None:
        latest = run.latest
        if "forecast/input" not in latest:
            return
        series = latest["forecast/input"]
        timesteps = np.arange(series.size)
        self.input_curve.show_values(timesteps, series)
        self.truth.setData([series.size], finite_or_nan(latest["forecast/target"][:1]))
        self.forecast.setData([series.size], finite_or_nan(latest["forecast/prediction"][:1]))
        self.range.update(None, [series, latest["forecast/target"], latest["forecast/prediction"]],
                          x_fixed=(0, series.size + 1))
