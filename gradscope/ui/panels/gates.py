"""The gates of an LSTM or GRU for the probe sequence, their saturation over training, and the
LSTM's cell path beside the full state path. A vanilla RNN has no gates: the panel says so and
shows how saturated its nonlinearity is instead (where tanh' is near 0, the gradient dies)."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF
from PySide6.QtWidgets import QLabel

from gradscope.ui import theme
from gradscope.ui.history import Lab, RunHistory
from gradscope.ui.panels.base import Curve, Panel, RangeKeeper, add_plot, new_curve

GATE_LEVELS = {"candidate": (-1.0, 1.0)}          # the others are in [0, 1]
NO_GATES = ("A vanilla {arch} has no gates. Shown instead: how saturated its {nonlinearity} is, the fraction of "
            "units whose derivative is near zero, where the error signal dies.")


class GatesPanel(Panel):
    title = "Gates"
    name = "gates"

    def __init__(self, parent=None):
        super().__init__(parent)
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.note.setStyleSheet(f"font-size: {theme.FONT_POINTS + 1}pt; padding: 4px;")
        self.layout_.insertWidget(0, self.note)
        self._arch: str | None = None
        self.gate_images: dict[str, pg.ImageItem] = {}
        self.gate_values: dict[str, np.ndarray] = {}     # what each image shows: [unit, timestep]
        self._gate_shape: tuple | None = None
        # the gates are coloured here, once per probe: pyqtgraph would rebuild a colour table
        # of 256 QColors for every image on every repaint
        self._gate_colours = pg.colormap.get(theme.HEATMAP).getLookupTable(0.0, 1.0, 256, alpha=False)
        self.gate_plots: list[pg.PlotItem] = []
        self.saturation_plot: pg.PlotItem | None = None
        self.saturation_curves: dict[str, Curve] = {}
        self.cell_plot: pg.PlotItem | None = None
        self.cell_curve = self.state_curve = None
        self.activation_plot: pg.PlotItem | None = None
        self.activation_curve = None

    @staticmethod
    def _build_key(run: RunHistory) -> tuple:
        """What the panel's plots depend on; another run of the same kind reuses them."""
        return run.arch, run.gates, run.config.get("nonlinearity", "tanh")

    def _build(self, run: RunHistory) -> None:
        self.graphics.clear()
        self.step_plots.clear()
        self._markers.clear()
        self._marked_run = None
        self.gate_images, self.gate_plots, self.saturation_curves = {}, [], {}
        self.gate_values, self._gate_shape = {}, None
        self.cell_plot = self.activation_plot = None
        self._arch = self._build_key(run)
        columns = max(len(run.gates), 2)
        if run.gates:
            self.note.setText(f"{run.arch.upper()} gates for the probe sequence: 0 is closed, 1 is open. "
                              "A gate is saturated below 0.05 or above 0.95.")
            for column, gate in enumerate(run.gates):
                plot = self.graphics.addPlot(row=0, col=column)
                theme.style_plot(plot, gate, "unit" if column == 0 else "", "")
                if column:
                    plot.hideAxis("left")   # the units are the same rows in every gate
                image = pg.ImageItem(axisOrder="row-major")
                plot.addItem(image)
                plot.setMouseEnabled(x=False, y=False)
                self.gate_images[gate] = image
                self.gate_plots.append(plot)
            self.saturation_plot = self.add_step_plot(
                add_plot(self.graphics, 1, 0, legend=True, colspan=columns // 2 or 1, legend_columns=2))
            theme.style_plot(self.saturation_plot, "Saturated gates", "fraction",
                             "training step")
            for index, gate in enumerate(run.gates):
                self.saturation_curves[f"gate_saturation/{gate}"] = new_curve(
                    self.saturation_plot, theme.SERIES_COLORS[index], gate, long=True)
            self.saturation_range = RangeKeeper(self.saturation_plot)
            if run.arch == "lstm":
                self.cell_plot = add_plot(self.graphics, 1, columns // 2, legend=True, colspan=columns - columns // 2,
                                          legend_columns=1)
                theme.style_plot(self.cell_plot, "Cell path vs state", "", "timestep t")
                self.cell_plot.setLogMode(x=False, y=True)
                self.state_curve = new_curve(self.cell_plot, "orange", "state (h, c)")
                self.cell_curve = new_curve(self.cell_plot, "green", "cell path ∏ f_k")
                self.cell_range = RangeKeeper(self.cell_plot, log_y=True)
        else:
            nonlinearity = run.config.get("nonlinearity", "tanh")
            self.note.setText(NO_GATES.format(arch=run.arch.upper(), nonlinearity=nonlinearity))
            self.saturation_plot = self.add_step_plot(self.graphics.addPlot(row=0, col=0))
            theme.style_plot(self.saturation_plot, f"{nonlinearity} saturation over training", "fraction",
                             "training step")
            self.saturation_curves = {"activation_saturation": new_curve(self.saturation_plot, "red", long=True)}
            self.saturation_range = RangeKeeper(self.saturation_plot)
            self.activation_plot = self.graphics.addPlot(row=1, col=0)
            theme.style_plot(self.activation_plot, "Saturation per timestep (latest probe)", "fraction", "timestep t")
            self.activation_curve = new_curve(self.activation_plot, "red")
            self.activation_plot.setYRange(0, 1.02, padding=0)

    def draw(self, lab: Lab, run: RunHistory | None) -> None:
        if run is None:
            return
        if self._build_key(run) != self._arch:
            self._build(run)
        last = max(run.last_step, 1)
        shown = []
        for name, curve in self.saturation_curves.items():
            steps, values = run.line(name)
            curve.show_values(steps, values)
            shown.append(values)
        self.saturation_range.update(np.array([0.0, last]), shown + [np.array([0.0, 1.0])], x_fixed=run.extent)
        latest = run.latest
        for gate, image in self.gate_images.items():
            values = latest.get(f"gates/{gate}")
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
        if self.cell_plot is not None and "cell_jacobian_norm" in latest:
            cell, state = latest["cell_jacobian_norm"], latest.get("jacobian_norm")
            timesteps = np.arange(cell.size)
            self.cell_curve.show_values(timesteps, cell)
            if state is not None:
                self.state_curve.show_values(timesteps, state)
            self.cell_range.update(timesteps, [cell] + ([state] if state is not None else []),
                                   x_fixed=(0, cell.size - 1))
        if self.activation_curve is not None and "activation_saturation" in latest:
            values = latest["activation_saturation"]
            self.activation_curve.show_values(np.arange(values.size), values)
            self.activation_plot.setXRange(0, values.size - 1, padding=0.02)

    def gate_colours(self, values: np.ndarray, levels: tuple[float, float]) -> np.ndarray:
        """RGB bytes of the heat map colour of each value, `levels` spanning the map; NaN (a
        diverged run) gets the lowest colour."""
        lo, hi = levels
        scaled = np.ascontiguousarray(values, dtype=np.float32) - np.float32(lo)   # a copy, worked in place
        scaled *= np.float32(255.0 / (hi - lo))
        np.clip(scaled, 0.0, 255.0, out=scaled)
        scaled[np.isnan(scaled)] = 0.0
        return np.take(self._gate_colours, scaled.astype(np.uint8), axis=0)
