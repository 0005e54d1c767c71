"""The gates of an LSTM or GRU for the probe sequence, their saturation over training, and the
LSTM's cell path beside the full state path. A vanilla RNN has no gates: the panel says so and
shows how saturated its nonlinearity is instead (where tanh' is near 0, the gradient dies).

Runs compared side by side: the gates of the first gated run, and for every run the saturation
of what carries its gradient (the LSTM's forget gate, the GRU's update gate, the RNN's tanh)."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF
from PySide6.QtWidgets import QLabel

from gradscope.series import ACTIVATION_SATURATION, CELL_JACOBIAN_NORM, GATE, GATE_SATURATION, JACOBIAN_NORM
from gradscope.ui import theme
from gradscope.ui.panels.base import Panel, add_plot, buckets_for
from gradscope.ui.panels.curves import SERIES_SYMBOLS, Curve, SlotCurves, new_curve
from gradscope.ui.panels.ranges import RangeKeeper
from gradscope.ui.panels.painted_image import PaintedImage

GATE_LEVELS = {"candidate": (-1.0, 1.0)}          # the others are in [0, 1]
NO_GATES = "A vanilla {arch} has no gates: here, how saturated its {nonlinearity} is."
NO_GATES_TIP = ("Saturation is the fraction of units whose derivative is near zero: there the error signal dies "
                "on its way back through time.")
CARRIER = {"lstm": "forget", "gru": "update"}     # the gate the gradient's path goes through


def carrier_series(arch: str) -> tuple[str, str]:
    """(series name, what to call it) of the saturation that matters for the gradient."""
    if arch in CARRIER:
        return GATE_SATURATION.name(gate=CARRIER[arch]), f"{CARRIER[arch]} gate"
    return ACTIVATION_SATURATION.name(), "tanh"


class GatesPanel(Panel):
    title = "Gates"
    name = "gates"

    def __init__(self, parent=None):
        super().__init__(parent)
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.note.setStyleSheet(f"font-size: {theme.FONT_POINTS + 1}pt; padding: 4px;")
        self.layout_.insertWidget(0, self.note)
        self._built: tuple | None = None
        self.gate_images: dict[str, pg.ImageItem] = {}
        self.gate_values: dict[str, np.ndarray] = {}     # what each image shows: [unit, timestep]
        self._gate_shape: tuple | None = None
        # the gates are coloured here, once per probe: pyqtgraph would rebuild a colour table
        # of 256 QColors for every image on every repaint
        self._gate_colours = pg.colormap.get(theme.HEATMAP).getLookupTable(0.0, 1.0, 256, alpha=False)
        self.gate_plots: list[pg.PlotItem] = []
        self.saturation_plot: pg.PlotItem | None = None
        self.saturation_curves: dict[str, Curve] = {}
        self.compared_saturation: SlotCurves | None = None
        self.cell_plot: pg.PlotItem | None = None
        self.cell_curve = self.state_curve = None
        self.activation_plot: pg.PlotItem | None = None
        self.activation_curve = None
        self.gated = None                                 # the slot whose gates are shown

    @staticmethod
    def _build_key(slots) -> tuple:
        """What the panel's plots depend on; other runs of the same kinds reuse them."""
        return tuple((slot.history.arch, slot.history.gates, slot.config.nonlinearity, slot.label) for slot in slots)

    def _build(self, slots) -> None:
        self.graphics.clear()
        self.forget_step_plots()
        self.gate_images, self.gate_plots, self.saturation_curves = {}, [], {}
        self.gate_values, self._gate_shape = {}, None
        # every item of the old plots went with graphics.clear(): none may be drawn into again
        self.cell_plot = self.activation_plot = self.compared_saturation = None
        self.cell_curve = self.state_curve = self.activation_curve = None
        self._built = self._build_key(slots)
        compared = len(slots) > 1
        self.gated = next((slot for slot in slots if slot.history.gates), None)
        run = self.gated.history if self.gated is not None else slots[0].history
        columns = max(len(run.gates), 2)
        if run.gates:
            which = f" ({self.gated.label})" if compared else ""
            self.note.setText(f"{run.arch.upper()} gates for the probe sequence{which}: 0 closed, 1 open")
            self.note.setToolTip("Each map: the gate's value for every unit (rows) and timestep (columns) of the "
                                 "first probe sequence. A gate is saturated below 0.05 or above 0.95.")
            self._build_gate_images(run.gates)
        else:
            self.note.setText(NO_GATES.format(arch=run.arch.upper(), nonlinearity=slots[0].config.nonlinearity))
            self.note.setToolTip(NO_GATES_TIP)
        row = 1 if run.gates else 0
        if compared:
            self.saturation_plot = self.add_step_plot(add_plot(self.graphics, row, 0, legend=True, colspan=columns,
                                                               legend_columns=3))
            theme.style_plot(self.saturation_plot, "Saturation of what carries each run's gradient", "fraction",
                             "training step")
            self.compared_saturation = SlotCurves(self.saturation_plot, ("red", theme.LONG_LINE_WIDTH, None), long=True)
        elif run.gates:
            self.saturation_plot = self.add_step_plot(
                add_plot(self.graphics, 1, 0, legend=True, colspan=columns // 2 or 1, legend_columns=2))
            theme.style_plot(self.saturation_plot, "Saturated gates", "fraction", "training step")
            for index, gate in enumerate(run.gates):
                self.saturation_curves[GATE_SATURATION.name(gate=gate)] = new_curve(
                    self.saturation_plot, theme.SERIES_COLORS[index], gate, long=True,
                    symbol=SERIES_SYMBOLS[index % len(SERIES_SYMBOLS)])
            if run.arch == "lstm":
                self.cell_plot = add_plot(self.graphics, 1, columns // 2, legend=True, colspan=columns - columns // 2,
                                          legend_columns=1)
                theme.style_plot(self.cell_plot, "Cell path vs state", "", "timestep t")
                self.cell_plot.setLogMode(x=False, y=True)
                self.state_curve = new_curve(self.cell_plot, "orange", "state (h, c)")
                self.cell_curve = new_curve(self.cell_plot, "green", "cell path ∏ f_k", symbol="t")
                self.cell_range = RangeKeeper(self.cell_plot, log_y=True)
        else:
            nonlinearity = slots[0].config.nonlinearity
            self.saturation_plot = self.add_step_plot(self.graphics.addPlot(row=0, col=0))
            theme.style_plot(self.saturation_plot, f"{nonlinearity} saturation over training", "fraction",
                             "training step")
            self.saturation_curves = {ACTIVATION_SATURATION.name(): new_curve(self.saturation_plot, "red", long=True)}
            # side by side: the panel's height goes to both plots whole
            self.activation_plot = self.graphics.addPlot(row=0, col=1)
            theme.style_plot(self.activation_plot, "Saturation per timestep (latest probe)", "fraction", "timestep t")
            self.activation_curve = new_curve(self.activation_plot, "red")
            self.activation_plot.setYRange(0, 1.02, padding=0)
        self.saturation_range = RangeKeeper(self.saturation_plot)
        if run.gates:
            # the gate maps have no x label and no legend: the row below, which has both, gets more
            self.graphics.ci.layout.setRowStretchFactor(0, 4)
            self.graphics.ci.layout.setRowStretchFactor(1, 5)

    def _build_gate_images(self, gates) -> None:
        for column, gate in enumerate(gates):
            plot = self.graphics.addPlot(row=0, col=column)
            theme.style_plot(plot, gate, "unit" if column == 0 else "", "")
            if column:
                plot.hideAxis("left")   # the units are the same rows in every gate
            image = PaintedImage(axisOrder="row-major")
            plot.addItem(image)
            plot.setMouseEnabled(x=False, y=False)
            self.gate_images[gate] = image
            self.gate_plots.append(plot)

    def draw(self, lab) -> None:
        slots = lab.slots
        if not slots:
            return
        if self._build_key(slots) != self._built:
            self._build(slots)
        last = max(max(slot.history.last_step for slot in slots), 1)
        shown = [np.array([0.0, 1.0])]
        if self.compared_saturation is not None:
            self.compared_saturation.style(slots)
            for slot in slots:
                name, _ = carrier_series(slot.history.arch)
                steps, values = slot.history.line(name, buckets_for(len(slots), self.saturation_plot))
                self.compared_saturation.show(slot.index, steps, values)
                shown.append(values)
            self._label_carriers(slots)
        else:
            for name, curve in self.saturation_curves.items():
                steps, values = slots[0].history.line(name, buckets_for(len(slots), self.saturation_plot))
                curve.show_values(steps, values)
                shown.append(values)
        self.saturation_range.update(np.array([0.0, last]), shown, x_fixed=slots[0].history.extent)
        self.gated = next((slot for slot in slots if slot.history.gates), None)
        latest = self.gated.history.latest if self.gated is not None else slots[0].history.latest
        self._draw_gates(latest)
        if self.cell_plot is not None and CELL_JACOBIAN_NORM.name() in latest:
            cell, state = latest[CELL_JACOBIAN_NORM.name()], latest.get(JACOBIAN_NORM.name())
            timesteps = np.arange(cell.size)
            self.cell_curve.show_values(timesteps, cell)
            if state is not None:
                self.state_curve.show_values(timesteps, state)
            self.cell_range.update(timesteps, [cell] + ([state] if state is not None else []),
                                   x_fixed=(0, cell.size - 1))
        if self.activation_curve is not None and ACTIVATION_SATURATION.name() in latest:
            values = latest[ACTIVATION_SATURATION.name()]
            self.activation_curve.show_values(np.arange(values.size), values)
            self.activation_plot.setXRange(0, values.size - 1, padding=0.02)

    def _label_carriers(self, slots) -> None:
        legend = self.saturation_plot.legend
        for slot in slots:
            label = legend.getLabel(self.compared_saturation.curves[slot.index])
            if label is not None:
                label.setText(f"{slot.name}: {carrier_series(slot.history.arch)[1]}")

    def _draw_gates(self, latest: dict) -> None:
        for gate, image in self.gate_images.items():
            values = latest.get(GATE.name(gate=gate))
            if values is None or values.ndim != 2 or self.gate_values.get(gate) is values:
                continue
            self.gate_values[gate] = values
            # [T, H] -> rows are units, columns timesteps; gates live in [0, 1] (candidate in [-1, 1])
            image.setImage(self.gate_colours(values.T, GATE_LEVELS.get(gate, (0.0, 1.0))), autoLevels=False)
            image.setRect(QRectF(-0.5, -0.5, values.shape[0], values.shape[1]))
            if values.shape != self._gate_shape:
                self._gate_shape = values.shape
                for plot in self.gate_plots:
                    plot.setRange(xRange=(-0.5, values.shape[0] - 0.5), yRange=(-0.5, values.shape[1] - 0.5),
                                  padding=0)

    def gate_colours(self, values: np.ndarray, levels: tuple[float, float]) -> np.ndarray:
        """RGB bytes of the heat map colour of each value, `levels` spanning the map; NaN (a
        diverged run) gets the lowest colour."""
        lo, hi = levels
        scaled = np.ascontiguousarray(values, dtype=np.float32) - np.float32(lo)   # a copy, worked in place
        scaled *= np.float32(255.0 / (hi - lo))
        np.clip(scaled, 0.0, 255.0, out=scaled)
        scaled[np.isnan(scaled)] = 0.0
        return np.take(self._gate_colours, scaled.astype(np.uint8), axis=0)
