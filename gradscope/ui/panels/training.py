"""Panels over training steps: the loss with the task metric, and the gradient norm with the
clipping threshold the lecturer drags."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QCheckBox

from gradscope.lab.history import CLIP_RATE_WINDOW
from gradscope.series import GRAD_NORM, GRAD_NORM_CLIPPED, LOSS, METRIC, metric_label
from gradscope.ui import theme
from gradscope.ui.panels.base import Panel, add_plot, buckets_for, set_title, share_x_label
from gradscope.ui.panels.curves import SERIES_SYMBOLS, Curve, EarlierCurves, SlotCurves, new_curve
from gradscope.ui.panels.ranges import RangeKeeper
from gradscope.ui.panels.readout import TitleReadout
from gradscope.ui.panels.threshold import ThresholdLine, nice_threshold

METRIC_PREFIX = METRIC.pattern.split("{")[0]
MAIN_METRICS = ("accuracy", "bits_per_char", "mse")     # what a comparison draws, the first a task has


def spanned(x: np.ndarray, others: list[np.ndarray]) -> np.ndarray:
    """The steps from the first to the last of `x` and the earlier runs' `others`."""
    arrays = [array for array in (x, *others) if array.size]
    if not arrays:
        return x
    return np.array([min(float(array[0]) for array in arrays), max(float(array[-1]) for array in arrays)])


def extent_of(slots) -> tuple[float, float] | None:
    return slots[0].history.extent if slots else None


UNBOUNDED_PX = 16_777_215        # Qt's largest widget size: a row without a maximum


class LossPanel(Panel):
    title = "Loss and task metric"
    tab_title = "Loss"
    name = "loss"
    kinds = ("sequence", "image")

    def __init__(self, parent=None):
        super().__init__(parent)
        self.log_y = QCheckBox("log y")
        self.log_y.setToolTip("Show the loss on a logarithmic axis: steady exponential progress becomes a straight line")
        self.log_y.toggled.connect(self._on_log_toggled)
        # over the plots' top right corner, not a row of its own: the plots keep the height
        self.log_y.setParent(self.graphics)
        # its type named, so that presentation mode scales it (`look.restyle_widgets`)
        self.log_y.setStyleSheet(f"background: rgba(255, 255, 255, 200); padding: 1px 4px; "
                                 f"font-size: {theme.FONT_POINTS}pt;")
        self.loss_plot = self.add_step_plot(add_plot(self.graphics, 0, 0, legend=True))
        theme.style_plot(self.loss_plot, "Training loss", "loss", "training step")
        self.earlier_loss = EarlierCurves(self.loss_plot)     # created first: drawn behind
        self.loss = SlotCurves(self.loss_plot, ("blue", theme.LONG_LINE_WIDTH, None), long=True)
        self.loss_curve = self.loss.curves[0]
        self.metric_plot = self.add_step_plot(add_plot(self.graphics, 1, 0, legend=True))
        theme.style_plot(self.metric_plot, "Task metric", "metric", "training step")
        self.metric_plot.setXLink(self.loss_plot)
        share_x_label(self.loss_plot)
        self.metric_curves: dict[str, Curve] = {}
        # the runs' key is the loss plot's: both plots draw them alike
        self.compared_metric = SlotCurves(self.metric_plot, ("green", theme.LONG_LINE_WIDTH, None), long=True,
                                          legend_runs=False)
        self.loss_range = RangeKeeper(self.loss_plot)
        self.metric_range = RangeKeeper(self.metric_plot)
        self._metrics: tuple | None = None
        self.metric_cell = self.graphics.ci.getItem(1, 0)     # the metric plot with its key
        self.metric_shown = True

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self.log_y.adjustSize()
        self.log_y.move(self.graphics.width() - self.log_y.width() - 6, 2)
        self.log_y.raise_()

    def _on_log_toggled(self, checked: bool) -> None:
        self.loss_range.set_log_y(checked)
        self._drawn = None

    def draw(self, lab) -> None:
        slots = lab.slots
        if not slots:
            return
        self.loss.style(slots)
        values, x = [], np.empty(0)
        buckets = buckets_for(len(slots), self.loss_plot)
        for slot in slots:
            x, y = slot.history.line(LOSS.name(), buckets)
            self.loss.show(slot.index, x, y)
            values.append(y)
        earlier = self.earlier_loss.show(lab.earlier, LOSS.name(), buckets)
        self.loss_range.update(spanned(x, earlier[0::2]), values + earlier[1::2], x_fixed=extent_of(slots))
        self._show_metric(slots[0].history.config.family == "recurrent")
        if not self.metric_shown:
            return
        if len(slots) > 1:
            self._draw_compared_metric(slots)
        else:
            self._draw_metrics(slots[0].history)

    def _show_metric(self, shown: bool) -> None:
        """An image run's accuracy is the Accuracy panel's, training and test beside the
        confusion: the loss then takes the whole panel, with its own step axis label."""
        if shown == self.metric_shown:
            return
        self.metric_shown = shown
        ci = self.graphics.ci
        if shown:
            ci.addItem(self.metric_cell, row=1, col=0)
        else:
            ci.removeItem(self.metric_cell)
        for row in range(2):             # the heights the rows were evened out to no longer hold
            ci.layout.setRowMinimumHeight(row, 0)
            ci.layout.setRowMaximumHeight(row, UNBOUNDED_PX)
        self.loss_plot.getAxis("bottom").gradscope_label_hidden = shown
        theme.style_axes(self.loss_plot)
        set_title(self.loss_plot, "Training loss")

    def _draw_metrics(self, run) -> None:
        names = tuple(sorted(name for name in run.scalars if name.startswith(METRIC_PREFIX)))
        if names != self._metrics:
            self._metrics = names
            for curve in self.metric_curves.values():
                self.metric_plot.removeItem(curve)
            for curve in self.compared_metric.curves:
                curve.clear_values()
                curve.setVisible(False)
            self.metric_plot.legend.clear()
            self.metric_curves = {}
            for index, name in enumerate(names):
                color = theme.SERIES_COLORS[(index + 2) % len(theme.SERIES_COLORS)]
                style = Qt.PenStyle.DashLine if name.endswith("/baseline_mse") else None
                self.metric_curves[name] = new_curve(self.metric_plot, color, metric_label(name), style=style, long=True,
                                                     symbol=SERIES_SYMBOLS[index % len(SERIES_SYMBOLS)] if index else None)
            set_title(self.metric_plot, "Task metric")
            self.metric_range.reset()
        values, x = [], np.empty(0)
        for name, curve in self.metric_curves.items():
            x, metric = run.line(name, buckets_for(1, self.metric_plot))
            curve.show_values(x, metric)
            values.append(metric)
        if self.metric_curves:
            self.metric_range.update(x, values, x_fixed=run.extent)

    def _draw_compared_metric(self, slots) -> None:
        """One metric (the task's main one) per compared run."""
        present = {name for slot in slots for name in slot.history.scalars}
        main = next((METRIC.name(metric=m) for m in MAIN_METRICS if METRIC.name(metric=m) in present), None)
        if ("compared", main) != self._metrics:
            self._metrics = ("compared", main)
            for curve in self.metric_curves.values():
                self.metric_plot.removeItem(curve)
            self.metric_curves = {}
            self.metric_plot.legend.clear()
            self.compared_metric.restyle()
            for curve in self.compared_metric.curves:
                curve.setVisible(True)
            set_title(self.metric_plot, metric_label(main) if main else "Task metric")
            self.metric_range.reset()
        self.compared_metric.style(slots)
        if main is None:
            return
        values, x = [], np.empty(0)
        for slot in slots:
            x, y = slot.history.line(main, buckets_for(len(slots), self.metric_plot))
            self.compared_metric.show(slot.index, x, y)
            values.append(y)
        self.metric_range.update(x, values, x_fixed=extent_of(slots))


class GradNormPanel(Panel):
    """Pre- and post-clip gradient norms, a marker on every clipped step, the rolling clip
    rate, and the threshold as a line the user drags to change the live threshold. Runs
    compared side by side show their pre-clip norms and clip markers, each in its style."""

    title = "Gradient norm and clipping"
    tab_title = "Gradient norm"
    name = "grad_norm"
    kinds = ("sequence", "image")
    threshold_dragged = Signal(float)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.plot = self.add_step_plot(add_plot(self.graphics, 0, 0, legend=True))
        theme.style_plot(self.plot, "Gradient norm", "‖∇θ L‖", "training step")
        self.plot.setLogMode(x=False, y=True)
        self.earlier = EarlierCurves(self.plot)                # created first: drawn behind
        self.pre = SlotCurves(self.plot, ("blue", theme.LONG_LINE_WIDTH, None), long=True, name="before clipping")
        self.post = SlotCurves(self.plot, ("orange", theme.LONG_LINE_WIDTH, None), long=True, name="after clipping", symbol="s",
                               legend_runs=False)
        self.pre_curve, self.post_curve = self.pre.curves[0], self.post.curves[0]
        # a short tick above the curve at every step where clipping fired: one path of line
        # pairs per run (thousands of symbols would cost a frame each time they are re-set)
        # black ticks and a purple threshold: apart from the orange "after clipping" in the
        # common colour blindnesses too (vermilion, orange and red all turn olive in deuteranopia)
        self.markers = SlotCurves(self.plot, ("black", 2, None), name="clipping fired", legend_runs=False,
                                  connect="pairs", compared_dashes=False)
        self.clip_markers = self.markers.curves[0]
        for curve in self.markers.curves:
            curve.gradscope_placement = "above the curve"
        self.threshold = ThresholdLine(pos=0.0, angle=0, movable=True, pen=theme.pen("purple", 3),
                                       hoverPen=theme.pen("purple", 6), label="clip threshold",
                                       # at the right end, its end there: a live run's newest
                                       # steps reach it last, a replay's after the cursor never
                                       labelOpts={"position": 0.98, "anchors": [(1, 0), (1, 1)],
                                                  "color": theme.COLORS["black"],
                                                  "fill": theme.brush("#ffffff", 220)})
        theme.style_line_label(self.threshold)
        self.threshold.setToolTip("Drag to change the clipping threshold (with Shift: finely; [ and ] step it); "
                                  "it applies from the next training step")
        self.threshold.sigPositionChangeFinished.connect(self._on_threshold_moved)
        self.threshold.sigPositionChanged.connect(self._on_threshold_moving)
        self.plot.addItem(self.threshold, ignoreBounds=True)
        self.threshold.setZValue(100)        # its label over the spikes it is read against, not under them
        self.rate_plot = self.add_step_plot(self.graphics.addPlot(row=1, col=0))
        theme.style_plot(self.rate_plot, f"Clip rate, last {CLIP_RATE_WINDOW} steps", "fraction clipped",
                         "training step")
        self.rate_readout = TitleReadout(self.rate_plot)
        self.rate_plot.setXLink(self.plot)
        share_x_label(self.plot)
        self.rate_plot.setYRange(0, 1.05, padding=0)
        self.rates = SlotCurves(self.rate_plot, ("red", theme.LONG_LINE_WIDTH, None), long=True, legend_runs=False)
        self.rate_curve = self.rates.curves[0]
        self.range = RangeKeeper(self.plot, log_y=True)
        # on a replay: what the dragged threshold would have clipped of the recorded norms
        self.what_if_markers = new_curve(self.plot, "sky", "would clip (what-if)", width=2, connect="pairs")
        self.what_if_markers.gradscope_placement = "below the curve"
        self.plot.legend.removeItem(self.what_if_markers)       # in the key only on a replay
        self.what_if = None
        self.threshold_value = 1.0
        self.clip_mode = "none"
        self.set_threshold(1.0, "none")

    def show_what_if(self, what_if, run: str = "") -> None:
        """Mark the recorded steps a hypothetical threshold would clip (a `WhatIf`), or None;
        `run` names the run it is of when runs are compared (the what-if is the first one's)."""
        self.what_if = what_if
        keyed = self.plot.legend.getLabel(self.what_if_markers) is not None
        if what_if is None:
            self.what_if_markers.clear_values()
            set_title(self.plot, "Gradient norm")
            self.plot.titleLabel.setToolTip("")
            if keyed:
                self.plot.legend.removeItem(self.what_if_markers)
            return
        if not keyed:
            self.plot.legend.addItem(self.what_if_markers, "would clip (what-if)")
        # in the title of the plot it speaks of, not a row of its own: the plots keep the height
        # compared: the run's name in the place of "Gradient norm" (the axis says it), whose
        # title would elide the threshold
        set_title(self.plot, f"{run or 'Gradient norm'}: {what_if.count:,} of {what_if.total:,} would clip at "
                             f"{what_if.threshold:.3g}")
        self.plot.titleLabel.setToolTip(self.what_if_text)
        self._draw_what_if()

    @property
    def what_if_text(self) -> str:
        """What the threshold on show would have done to the recorded steps (a replay), or ""."""
        return "" if self.what_if is None else f"What if: {self.what_if.describe()}."

    def _draw_what_if(self) -> None:
        """Ticks from 3% to 9% of the view's height below each norm the threshold would clip."""
        what_if = self.what_if
        if what_if is None or not what_if.count:
            self.what_if_markers.clear_values()
            return
        low, high = self.range.y if self.range.y is not None else (0.0, 1.0)
        span = max(high - low, 0.1)
        y = np.empty(2 * what_if.count)
        y[0::2] = what_if.norms * 10 ** (-0.03 * span)
        y[1::2] = what_if.norms * 10 ** (-0.09 * span)
        self.what_if_markers.show_values(np.repeat(what_if.steps, 2), y)

    def set_threshold(self, value: float, mode: str) -> None:
        """Show the threshold in force (the line is the live setting, not a record)."""
        self.threshold_value = float(value)
        self.clip_mode = mode
        self.threshold.blockSignals(True)
        self.threshold.setPos(np.log10(max(value, 1e-12)))
        self.threshold.blockSignals(False)
        self._label_threshold(value)
        self.threshold.setVisible(mode == "norm")

    def _label_threshold(self, value: float) -> None:
        self.threshold.label.setText(f"clip threshold {value:.3g}")

    def _on_threshold_moving(self) -> None:
        self._label_threshold(10 ** self.threshold.value())

    def _on_threshold_moved(self) -> None:
        value = nice_threshold(10 ** self.threshold.value())
        self.threshold_value = value
        self.threshold_dragged.emit(value)

    def draw(self, lab) -> None:
        slots = lab.slots
        if not slots:
            return
        compared = len(slots) > 1
        for curves in (self.pre, self.post, self.markers, self.rates):
            curves.style(slots)
        if compared:
            for curve in self.post.curves:
                curve.clear_values()
        shown, x = [], np.empty(0)
        buckets = buckets_for(len(slots), self.plot)
        for slot in slots:
            run = slot.history
            x, pre = run.line(GRAD_NORM.name(), buckets)
            self.pre.show(slot.index, x, pre)
            if not compared:
                self._show_after_clipping(slot, run)
            self.rates.show(slot.index, *run.clip_rates.line(buckets))
            shown.append(pre)
        # compared: the runs' rates in the key's order and their colours (their labels would
        # take the title's room)
        self.rate_readout.set_runs("", [f"{slot.history.clip_rate:.0%}" for slot in slots],
                                   [slot.style[0] for slot in slots],
                                   f"The share of the last {CLIP_RATE_WINDOW} steps that were clipped"
                                   + (", each run's in its colour: " + ", ".join(slot.label for slot in slots)
                                      if compared else ""))
        earlier = self.earlier.show(lab.earlier, GRAD_NORM.name(), buckets)
        shown += earlier[1::2]
        if self.clip_mode == "norm":
            shown.append(np.array([self.threshold_value]))
        self.range.update(spanned(x, earlier[0::2]), shown, x_fixed=extent_of(slots))
        for slot in slots:
            self._draw_clip_markers(slot, len(slots))
        self._draw_what_if()

    def _show_after_clipping(self, slot, run) -> None:
        """The norm after clipping, for a run that clips: without clipping it is the norm
        before, drawn over it, and the key would name a line nobody can see."""
        legend = self.plot.legend
        clips = slot.config.clip_mode != "none" or run.clip_steps.size > 0
        keyed = legend.getLabel(self.post_curve) is not None
        if clips:
            self.post.show(slot.index, *run.line(GRAD_NORM_CLIPPED.name(), buckets_for(1, self.plot)))
            if not keyed:
                legend.addItem(self.post_curve, "after clipping")
        else:
            self.post.clear(slot.index)
            if keyed:
                legend.removeItem(self.post_curve)

    def _draw_clip_markers(self, slot, count: int) -> None:
        """Ticks from 3% to 9% of the view's height above the highest clipped norm of each
        bucket of steps (the view is in decades: the axis is log); compared runs' ticks stack
        one above the other."""
        clipped = slot.history.clip_steps
        if clipped.size == 0:
            self.markers.clear(slot.index)
            return
        low, high = self.range.y if self.range.y is not None else (0.0, 1.0)
        span = max(high - low, 0.1)
        lift = 0.07 * slot.index if count > 1 else 0.0
        steps, _, peak = clipped.envelope(buckets_for(count, self.plot))
        shown = np.isfinite(peak) & (peak > 0)
        peak = peak[shown]
        y = np.empty(2 * peak.size)
        y[0::2] = peak * 10 ** ((0.03 + lift) * span)
        y[1::2] = peak * 10 ** ((0.09 + lift) * span)
        self.markers.show(slot.index, np.repeat(steps[shown], 2), y)
