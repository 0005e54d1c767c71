"""The error signal through depth, the convolutional and dense runs' analogue of the error
signal through time: at the latest probe, ‖dL/d(output of layer l)‖ against the layer l on a
log axis, with the norm of each layer's weight gradient ‖dL/dW_l‖ beside it (the classifier's
weight one place past the last layer), and the history of the first as a heatmap (layer x
training step). Compared runs overlay on one axis: a plain net's gradient falls by decades
towards the input, a residual net's stays level.

The readout gives the ratio the lecture quotes, ‖dL/dW_first‖ / ‖dL/dW_last‖ (the first
layer's weight gradient against the last layer's, the classifier's left out).
"""
from __future__ import annotations

import numpy as np

from gradscope.series import LAYER_GRAD_NORM, WEIGHT_GRAD_NORM
from gradscope.ui import theme
from gradscope.ui.panels.base import Panel, add_plot, share_x_label
from gradscope.ui.panels.curves import SlotCurves
from gradscope.ui.panels.heatmap_view import HeatmapView
from gradscope.ui.panels.ranges import RangeKeeper
from gradscope.ui.panels.readout import TitleReadout


def first_over_last(weight_grad_norm: np.ndarray | None) -> float | None:
    """‖dL/dW_1‖ / ‖dL/dW_L‖ over the layers (the last entry, the classifier's, left out)."""
    if weight_grad_norm is None or weight_grad_norm.size < 3:
        return None
    first, last = float(weight_grad_norm[0]), float(weight_grad_norm[-2])
    return first / last if last > 0 and np.isfinite(first) and np.isfinite(last) else None


class DepthPanel(Panel):
    title = "Gradient through depth"
    tab_title = "Depth"
    name = "depth"
    kinds = ("image",)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.plot = add_plot(self.graphics, 0, 0, legend=True)
        theme.style_plot(self.plot, "Gradient by layer", "norm", "layer l, from the input")
        self.plot.titleLabel.setToolTip("‖dL/d(output of layer l)‖ at the latest probe, and thin ‖dL/dW_l‖")
        self.plot.getAxis("bottom").setToolTip("Layers count from 1, the first conv (or dense) layer, as the other "
                                               "panels count them; ‖dL/dW‖'s last place, one past the last layer, "
                                               "is the classifier's weight")
        self.plot.setLogMode(x=False, y=True)
        self.layers = SlotCurves(self.plot, ("blue", theme.LINE_WIDTH, None), name="‖dL/d(output of layer l)‖")
        self.weights = SlotCurves(self.plot, ("orange", theme.LINE_WIDTH, None), name="‖dL/dW_l‖", symbol="t",
                                  compared_width=1.5, compared_alpha=150, legend_runs=False)
        self.range = RangeKeeper(self.plot, log_y=True)
        self.readout = TitleReadout(self.plot)
        self.map_plot = self.graphics.addPlot(row=1, col=0)
        # short: at 1280x720 a title shares its row with the colour bar and the compared runs' name
        self.map = HeatmapView(self.map_plot, "Its log10 over training", "layer l", origin=1)
        self.map_plot.titleLabel.setToolTip("log10 ‖dL/d(output of layer l)‖ at every probe: layer x training step")
        self.map.line_up_under(self.plot)
        share_x_label(self.plot)

    def draw(self, lab) -> None:
        slots = lab.slots
        self.layers.style(slots)
        self.weights.style(slots)
        shown, widest, ratios = [], 0, []
        for slot in slots:
            latest = slot.history.latest
            for curves, name in ((self.layers, LAYER_GRAD_NORM.name()), (self.weights, WEIGHT_GRAD_NORM.name())):
                values = latest.get(name)
                if values is None:
                    curves.clear(slot.index)
                    continue
                curves.show(slot.index, np.arange(1, values.size + 1), values)
                shown.append(values)
                widest = max(widest, values.size)
            ratio = first_over_last(latest.get(WEIGHT_GRAD_NORM.name()))
            ratios.append("–" if ratio is None else f"{ratio:.2g}")
        run = slots[0].history
        if run.latest_step is None:
            return
        # the ratio alone (the step is the timeline's): with two runs the title keeps its room
        self.readout.set_runs("first/last", ratios, [slot.style[0] for slot in slots],
                              f"At the probe of step {run.latest_step:,}, ‖dL/dW_1‖ / ‖dL/dW_L‖: the first layer's "
                              "weight gradient against the last layer's"
                              + (" (each run's in its colour: " + ", ".join(slot.name for slot in slots) + ")"
                                 if len(slots) > 1 else "") + "; thin: ‖dL/dW_l‖")
        across = (0.5, widest + 0.5)          # the heatmap's columns under the curves' points
        if widest:
            self.range.update(np.arange(1, widest + 1), shown, x_fixed=across)
        self.map.draw(run.heatmaps[LAYER_GRAD_NORM.name()], run.extent, slots[0].label, across=across if widest else None)
