"""Panels over timesteps: the error signal going back through time, its whole history as one
picture, and the local expansion factor of each step."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt

from gradscope.series import HIDDEN_GRAD_NORM, JACOBIAN_NORM, MAX_SINGULAR_VALUE, SPECTRAL_RADIUS, STEP_JACOBIAN_NORM
from gradscope.ui import theme
from gradscope.ui.panels.base import Panel, add_plot, buckets_for, set_title, share_x_label
from gradscope.ui.panels.heatmap_view import HeatmapView
from gradscope.ui.panels.curves import EARLIER_ALPHA, EARLIER_COLORS, EARLIER_SYMBOL, SERIES_SYMBOLS, Curve, SlotCurves, new_curve
from gradscope.ui.panels.ranges import RangeKeeper
from gradscope.ui.panels.readout import TitleReadout


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


CEILING_DECADES = 2.0      # how far past the measured curves the dashed line may take the y axis


def within_decades(line: np.ndarray, measured: list[np.ndarray], decades: float = CEILING_DECADES) -> np.ndarray:
    """`line` clipped to `decades` above the largest and below the smallest positive value of
    `measured`: what of the dashed m^(T−t) the y range takes in. All of it, 10^10 above an
    exploding run's curves, would flatten them; none of it, and the ceiling showed as a stub
    at the last few timesteps. So the line is seen rising (or falling) out of the plot."""
    values = np.concatenate([np.ravel(v) for v in measured] or [np.empty(0)]).astype(np.float64)
    good = values[np.isfinite(values) & (values > 0)]
    if good.size == 0:
        return np.empty(0)
    return np.clip(line, good.min() / 10.0 ** decades, good.max() * 10.0 ** decades)


class TimestepPanel(Panel):
    """The error signal of every run on show against the timestep (thin: the long-range
    Jacobian), the earlier runs faded behind, and the heatmap of the first run's history."""

    title = "Error signal through time"
    tab_title = "Error signal"
    name = "timesteps"

    def __init__(self, parent=None):
        super().__init__(parent)
        self.plot = add_plot(self.graphics, 0, 0, legend=True)
        theme.style_plot(self.plot, "Gradient through time (latest probe)", "norm", "timestep t")
        self.plot.setLogMode(x=False, y=True)
        self.legend = self.plot.legend
        self.overlays: list[Curve] = []
        for color in EARLIER_COLORS:         # the earlier runs, as on the training-step panels
            self.overlays.append(new_curve(self.plot, color, None, width=3, alpha=EARLIER_ALPHA, symbol=EARLIER_SYMBOL))
        self.hidden = SlotCurves(self.plot, ("blue", theme.LINE_WIDTH, None), name="‖dL/dh_t‖")
        self.jacobian = SlotCurves(self.plot, ("orange", theme.LINE_WIDTH, None), name="‖dh_T/dh_t‖", symbol="t",
                                   compared_width=1.5, compared_alpha=150, legend_runs=False)
        self.hidden_curve, self.jacobian_curve = self.hidden.curves[0], self.jacobian.curves[0]
        self.decay_curve = new_curve(self.plot, "black", None, width=2, style=Qt.PenStyle.DashLine)
        self.range = RangeKeeper(self.plot, log_y=True)
        self.readout = TitleReadout(self.plot)

        self.map_plot = self.graphics.addPlot(row=1, col=0)
        self.map = HeatmapView(self.map_plot, "log10 ‖dL/dh_t‖ over training", "timestep t")
        self.image = self.map.image
        self.map.line_up_under(self.plot)
        share_x_label(self.plot)
        self._overlaid: list = []
        self._decay_shown = False

    def draw(self, lab) -> None:
        slots = lab.slots
        self._draw_earlier(lab.earlier)
        self.hidden.style(slots)
        self.jacobian.style(slots)
        compared = len(slots) > 1
        if slots and compared == self._decay_shown:   # the prediction line is for one run alone
            self._decay_shown = not compared
            self.decay_curve.setVisible(not compared)
            if compared:
                self.legend.removeItem(self.decay_curve)
                self.decay_curve.clear_values()
            else:
                self.legend.addItem(self.decay_curve, "m^(T−t)")
        shown, timesteps = [], None
        for slot in slots:
            latest = slot.history.latest
            hidden, jacobian = latest.get(HIDDEN_GRAD_NORM.name()), latest.get(JACOBIAN_NORM.name())
            for curves, values in ((self.hidden, hidden), (self.jacobian, jacobian)):
                if values is None:
                    curves.clear(slot.index)
                    continue
                timesteps = np.arange(values.size) if timesteps is None or values.size > timesteps.size else timesteps
                curves.show(slot.index, np.arange(values.size), values)
                shown.append(values)
        run = slots[0].history if slots else None
        if run is None or not run.latest:
            return
        steps = run.latest.get(STEP_JACOBIAN_NORM.name())
        ceiling = []
        if steps is not None and not compared:
            line, mean = decay_line(steps)
            self.decay_curve.show_values(np.arange(line.size), line)
            ceiling = [within_decades(line, shown)]
        # the numbers that change with every probe: beside the title, which then stays put
        readout = f"step {run.latest_step:,}" + (f" · m = {mean:.3g}" if steps is not None and not compared else "")
        self.readout.set_text(readout, "The step on show; m: the mean norm of its step Jacobians, "
                                       "the base of the dashed m^(T−t)")
        set_title(self.plot, "Gradient through time" + (" — thin: ‖dh_T/dh_t‖" if compared else ""))
        if timesteps is not None:
            ghosts = [np.array(h.latest.get(HIDDEN_GRAD_NORM.name(), [])) for h in lab.earlier]
            self.range.update(timesteps, shown + ghosts + ceiling, x_fixed=(0, timesteps.size - 1))
        self._draw_map(run, slots[0].label)

    def _draw_earlier(self, earlier: list) -> None:
        if [id(r) for r in earlier] == self._overlaid:
            return
        self._overlaid = [id(r) for r in earlier]
        for curve in self.overlays:
            self.legend.removeItem(curve)
            curve.clear_values()
        for curve, old in zip(self.overlays, earlier):
            values = old.latest.get(HIDDEN_GRAD_NORM.name())
            if values is not None:
                curve.show_values(np.arange(values.size), values)
                self.legend.addItem(curve, f"{old.label} (earlier)")

    def _draw_map(self, run, label: str) -> None:
        self.map.draw(run.heatmap, run.extent, label)


class StepJacobianPanel(Panel):
    """The local expansion factor of every run on show, and the recurrent weights' spectra
    over training (compared runs: each run's largest singular value)."""

    title = "Step Jacobians and W_hh"
    tab_title = "Step Jacobians"
    name = "step_jacobians"

    def __init__(self, parent=None):
        super().__init__(parent)
        self.plot = add_plot(self.graphics, 0, 0, legend=True)
        theme.style_plot(self.plot, "Local expansion ‖dh_t/dh_t−1‖", "spectral norm", "timestep t")
        self.plot.setLogMode(x=False, y=True)
        self.steps = SlotCurves(self.plot, ("blue", theme.LINE_WIDTH, None))
        self.curve = self.steps.curves[0]
        self.unit = pg.InfiniteLine(pos=0.0, angle=0, pen=theme.pen("red", 2, Qt.PenStyle.DashLine),
                                    label="1", labelOpts={"position": 0.97, "color": theme.COLORS["red"]})
        theme.style_line_label(self.unit)
        self.plot.addItem(self.unit, ignoreBounds=True)
        self.range = RangeKeeper(self.plot, log_y=True)
        self.weights_plot = self.add_step_plot(add_plot(self.graphics, 1, 0, legend=True))
        theme.style_plot(self.weights_plot, "Recurrent weights over training", "value", "training step")
        self.weights_unit = pg.InfiniteLine(pos=1.0, angle=0, pen=theme.pen("red", 2, Qt.PenStyle.DashLine))
        self.weights_plot.addItem(self.weights_unit, ignoreBounds=True)
        self.weight_curves: dict[str, Curve] = {}
        # the runs' key is the panel's top plot's: every plot of a panel draws them alike
        self.largest = SlotCurves(self.weights_plot, ("blue", theme.LONG_LINE_WIDTH, None), long=True,
                                  legend_runs=False)
        self.weights_range = RangeKeeper(self.weights_plot, y_floor=0.0)
        self._blocks: tuple | None = None

    def draw(self, lab) -> None:
        slots = lab.slots
        if not slots:
            return
        self.steps.style(slots)
        shown, timesteps = [np.array([1.0])], None
        for slot in slots:
            values = slot.history.latest.get(STEP_JACOBIAN_NORM.name())
            if values is None:
                self.steps.clear(slot.index)
                continue
            timesteps = np.arange(values.size) if timesteps is None or values.size > timesteps.size else timesteps
            self.steps.show(slot.index, np.arange(values.size), values)
            shown.append(values)
        if timesteps is not None:
            self.range.update(timesteps, shown, x_fixed=(0, timesteps.size - 1))
        values = [np.array([1.0])]
        if len(slots) > 1:
            self._set_blocks(())
            self.largest.style(slots)
            set_title(self.weights_plot, "Largest singular value σ_max of W_hh over training")
            for slot in slots:
                x, y = _largest(slot.history, buckets_for(len(slots), self.weights_plot))
                self.largest.show(slot.index, x, y)
                values.append(y)
        else:
            self._set_blocks(self._names(slots[0].history))
            several = len({name.split("/")[1] for name in self._blocks}) > 1
            set_title(self.weights_plot, "σ_max of each block of W_hh over training" if several
                      else "Recurrent weights over training")
            for name, curve in self.weight_curves.items():
                x, y = slots[0].history.line(name, buckets_for(len(slots), self.weights_plot))
                curve.show_values(x, y)
                values.append(y)
        last = max(slot.history.last_step for slot in slots)
        self.weights_range.update(np.array([0.0, max(last, 1)]), values, x_fixed=slots[0].history.extent)

    @staticmethod
    def _names(run) -> tuple:
        """The blocks' σ_max, and their ρ when there is one block: a gated cell's four blocks
        with both would be eight curves in one plot, more than a room can tell apart."""
        prefixes = (SPECTRAL_RADIUS.pattern.split("{")[0], MAX_SINGULAR_VALUE.pattern.split("{")[0])
        names = sorted(name for name in run.scalars if name.startswith(prefixes) and name.count("/") == 1)
        if len({name.split("/")[1] for name in names}) > 1:
            names = [name for name in names if name.startswith(prefixes[1])]
        return tuple(names)

    def _set_blocks(self, names: tuple) -> None:
        """One curve per series of a lone run (ρ dotted, σ_max solid), rebuilt when the blocks
        change; none while runs are compared."""
        if names == self._blocks:
            return
        self._blocks = names
        for curve in self.weight_curves.values():
            self.weights_plot.removeItem(curve)
        self.weight_curves = {}
        for curve in self.largest.curves:
            curve.setVisible(not names)
        if names:
            self.weights_plot.legend.clear()
            self.largest.restyle()
        blocks = sorted({name.split("/")[1] for name in names})
        for name in names:
            kind, block = name.split("/")
            color = theme.SERIES_COLORS[blocks.index(block) % len(theme.SERIES_COLORS)]
            # several blocks show σ_max only (`_names`): the title says so, the key names the block
            label = block if len(blocks) > 1 else \
                ("ρ" if kind == SPECTRAL_RADIUS.pattern.split("/")[0] else "σ_max") + f"({block})"
            style = Qt.PenStyle.DotLine if kind == SPECTRAL_RADIUS.pattern.split("/")[0] else None
            symbol = SERIES_SYMBOLS[blocks.index(block) % len(SERIES_SYMBOLS)] if len(blocks) > 1 else None
            self.weight_curves[name] = new_curve(self.weights_plot, color, label, style=style, long=True, symbol=symbol)
        self.weights_range.reset()


def _largest(run, buckets: int | None) -> tuple[np.ndarray, np.ndarray]:
    """The largest singular value over the weight blocks, at every probed step."""
    prefix = MAX_SINGULAR_VALUE.pattern.split("{")[0]
    lines = [run.line(name, buckets) for name in sorted(run.scalars) if name.startswith(prefix) and name.count("/") == 1]
    lines = [line for line in lines if line[0].size]
    if not lines or len({line[0].size for line in lines}) != 1:
        return (lines[0] if lines else (np.empty(0), np.empty(0)))
    return lines[0][0], np.fmax.reduce([line[1] for line in lines])
