"""Panels over timesteps: the error signal going back through time, its whole history as one
picture, and the local expansion factor of each step."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt

from gradscope.ui import theme
from gradscope.ui.history import Lab, RunHistory
from gradscope.ui.panels.base import Curve, Panel, RangeKeeper, add_plot, grown_span, new_curve, set_title

OVERLAY_COLORS = ["grey", "sky", "purple"]


def decay_line(step_norms: np.ndarray) -> tuple[np.ndarray, float]:
    """What the mean step Jacobian norm predicts for ‖dh_T/dh_t‖: m^(T-1-t), with m the
    geometric mean of the step norms (the right mean for a product). Returns the line and m."""
    values = np.asarray(step_norms, dtype=np.float64)
    good = values[np.isfinite(values) & (values > 0)]
    if good.size == 0:
        return np.full(values.shape, np.nan), float("nan")
    mean = float(np.exp(np.mean(np.log(good))))
    distance = np.arange(values.size - 1, -1, -1, dtype=np.float64)
    with np.errstate(over="ignore", under="ignore"):
        return np.exp(distance * np.log(mean)), mean


class TimestepPanel(Panel):
    title = "Error signal through time"
    name = "timesteps"

    def __init__(self, parent=None):
        super().__init__(parent)
        self.plot = add_plot(self.graphics, 0, 0, legend=True)
        theme.style_plot(self.plot, "Gradient reaching each timestep (latest probe)", "norm", "timestep t")
        self.plot.setLogMode(x=False, y=True)
        self.legend = self.plot.legend
        self.overlays: list[Curve] = []
        for index, color in enumerate(OVERLAY_COLORS):
            curve = new_curve(self.plot, color, None, width=3, alpha=110)
            self.overlays.append(curve)
        self.hidden_curve = new_curve(self.plot, "blue", "‖dL/dh_t‖")
        self.jacobian_curve = new_curve(self.plot, "orange", "‖dh_T/dh_t‖")
        self.decay_curve = new_curve(self.plot, "black", "m^(T−t)", width=2, style=Qt.PenStyle.DashLine)
        self.range = RangeKeeper(self.plot, log_y=True)

        self.map_plot = self.graphics.addPlot(row=1, col=0)
        theme.style_plot(self.map_plot, "log10 ‖dL/dh_t‖ over training", "training step", "timestep t")
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setColorMap(pg.colormap.get(theme.HEATMAP))
        self.map_plot.addItem(self.image)
        self.colorbar = pg.ColorBarItem(colorMap=pg.colormap.get(theme.HEATMAP), interactive=False, width=16)
        self.colorbar.setImageItem(self.image, insert_in=self.map_plot)
        self.map_plot.disableAutoRange()
        self.levels = RangeKeeper()                  # the colour scale, in decades
        self.map_steps: tuple[float, float] | None = None
        self.map_timesteps: int | None = None
        self._overlaid: list = []

    def draw(self, lab: Lab, run: RunHistory | None) -> None:
        previous = lab.previous
        if [id(r) for r in previous] != self._overlaid:
            self._overlaid = [id(r) for r in previous]
            for curve in self.overlays:
                self.legend.removeItem(curve)
                curve.clear_values()
            for curve, old in zip(self.overlays, reversed(previous)):
                values = old.latest.get("hidden_grad_norm")
                if values is not None:
                    curve.show_values(np.arange(values.size), values)
                    self.legend.addItem(curve, f"{old.label} (earlier)")
        if run is None or not run.latest:
            return
        shown = []
        hidden = run.latest.get("hidden_grad_norm")
        jacobian = run.latest.get("jacobian_norm")
        steps = run.latest.get("step_jacobian_norm")
        timesteps = None
        if hidden is not None:
            timesteps = np.arange(hidden.size)
            self.hidden_curve.show_values(timesteps, hidden)
            shown.append(hidden)
        if jacobian is not None:
            timesteps = np.arange(jacobian.size)
            self.jacobian_curve.show_values(timesteps, jacobian)
            shown.append(jacobian)
        if steps is not None:
            line, mean = decay_line(steps)
            # the prediction may leave the view: the measured curves set the range
            self.decay_curve.show_values(np.arange(line.size), line)
            self.legend.getLabel(self.decay_curve).setText(f"{mean:.3g}^(T−t): mean step norm")
        set_title(self.plot, f"Gradient reaching each timestep (step {run.latest_step})")
        if timesteps is not None:
            self.range.update(timesteps, shown + [np.array(p.latest.get("hidden_grad_norm", [])) for p in previous],
                              x_fixed=(0, timesteps.size - 1))
        self._draw_map(run)

    def _draw_map(self, run: RunHistory) -> None:
        image = run.heatmap.filled
        if image is None or image.shape[0] == 0:
            return
        finite = image[np.isfinite(image)]
        if finite.size == 0:
            return
        steps = run.heatmap.steps
        first, last = float(steps[0]), float(steps[-1])
        height = max(last - first, 1.0) * image.shape[0] / max(image.shape[0] - 1, 1)
        # the colour scale and the step axis move only when the data leaves them (as the
        # curves' ranges do): colours that shift every probe cannot be read, and an axis
        # that changes every frame re-lays out the plot every frame
        self.levels.update(None, [finite], x_fixed=(0.0, 1.0))
        low, high = self.levels.y
        self.image.setImage(image, levels=(low, high), autoLevels=False)
        self.image.setRect(QRectF(-0.5, first, float(image.shape[1]), height))
        if self.colorbar.levels() != (low, high):
            self.colorbar.setLevels((low, high))
        span = grown_span(self.map_steps, first, first + height) if run.extent is None else (
            run.extent if run.extent != self.map_steps else None)      # a replay: the whole recording
        if span is not None or self.map_timesteps != image.shape[1]:
            self.map_steps = span or self.map_steps
            self.map_timesteps = image.shape[1]
            self.map_plot.setRange(xRange=(-0.5, image.shape[1] - 0.5), yRange=self.map_steps, padding=0)


class StepJacobianPanel(Panel):
    title = "Step Jacobians and W_hh"
    name = "step_jacobians"

    def __init__(self, parent=None):
        super().__init__(parent)
        self.plot = self.graphics.addPlot(row=0, col=0)
        theme.style_plot(self.plot, "Local expansion ‖dh_t/dh_t−1‖", "spectral norm", "timestep t")
        self.plot.setLogMode(x=False, y=True)
        self.curve = new_curve(self.plot, "blue")
        self.unit = pg.InfiniteLine(pos=0.0, angle=0, pen=theme.pen("red", 2, Qt.PenStyle.DashLine),
                                    label="1", labelOpts={"position": 0.97, "color": theme.COLORS["red"]})
        self.plot.addItem(self.unit, ignoreBounds=True)
        self.range = RangeKeeper(self.plot, log_y=True)
        self.weights_plot = self.add_step_plot(add_plot(self.graphics, 1, 0, legend=True))
        theme.style_plot(self.weights_plot, "Recurrent weights over training", "value", "training step")
        self.weights_unit = pg.InfiniteLine(pos=1.0, angle=0, pen=theme.pen("red", 2, Qt.PenStyle.DashLine))
        self.weights_plot.addItem(self.weights_unit, ignoreBounds=True)
        self.weight_curves: dict[str, Curve] = {}
        self.weights_range = RangeKeeper(self.weights_plot, y_floor=0.0)

    def draw(self, lab: Lab, run: RunHistory | None) -> None:
        if run is None:
            return
        steps = run.latest.get("step_jacobian_norm")
        if steps is not None:
            timesteps = np.arange(steps.size)
            self.curve.show_values(timesteps, steps)
            self.range.update(timesteps, [steps, np.array([1.0])], x_fixed=(0, steps.size - 1))
        names = sorted(name for name in run.scalars
                       if name.startswith(("spectral_radius/", "max_singular_value/")) and name.count("/") == 1)
        if sorted(self.weight_curves) != names:
            for curve in self.weight_curves.values():
                self.weights_plot.removeItem(curve)
            self.weights_plot.legend.clear()
            self.weight_curves = {}
            blocks = sorted({name.split("/")[1] for name in names})
            for name in names:
                kind, block = name.split("/")
                color = theme.SERIES_COLORS[blocks.index(block) % len(theme.SERIES_COLORS)]
                label = ("ρ" if kind == "spectral_radius" else "σ_max") + f"({block})"
                style = Qt.PenStyle.DotLine if kind == "spectral_radius" else None
                self.weight_curves[name] = new_curve(self.weights_plot, color, label, style=style, long=True)
            self.weights_range.reset()
        values, x = [np.array([1.0])], None
        for name, curve in self.weight_curves.items():
            x, y = run.line(name)
            curve.show_values(x, y)
            values.append(y)
        if x is not None and x.size:
            self.weights_range.update(np.array([0.0, max(run.last_step, 1)]), values, x_fixed=run.extent)
