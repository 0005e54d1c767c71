"""`gradscope bench --gui`'s figures for the image panels: one redraw of the Filters panel
with 64 filters, and of the Images panel with the feature maps of six conv layers (the goal:
each within 10 ms).

A real window (no training process) shows a synthetic CNN run of 6 conv layers of 64
channels on MNIST in the "images" layout, where both panels stand on the stage. Every frame
hands the run a new probe, whose arrays are drawn afresh (nothing a panel caches can be
reused), then times the panel's `refresh(force=True)` (feeding its image items) and the
repaint of its plot view that follows, as the window's frame pays for them. Measured at the
desk's 1600x1000 and in presentation mode at 1280x720 (`gradscope.bench.presentation`).

The arrays have the shapes the probes record (`gradscope.probes.depth`, `.strip`): filters
[64, 1, 5, 5] for the first layer (LeNet's kernel) and [64, 64, 3, 3] for a deeper one (a
grid of 64 x 64 tiles); feature maps [64, 28, 28], [64, 14, 14] x 2, [64, 7, 7] x 3; a test
strip of ten 28x28 images (the same at every probe, as recorded) with their labels, new
probabilities each probe, and the probed one.
"""
from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from gradscope.bench.presentation import PRESENTATION_SIZE, _enter, _leave
from gradscope.bench.window import WINDOW_SIZE, close_window, open_window, spin

GOAL_MS = 10.0
CHANNELS = 64
MAP_SIDES = (28, 14, 14, 7, 7, 7)        # conv layers 1 to 6 of a CNN with pools after layers 1 and 3
FIRST_KERNEL, DEEP_KERNEL = 5, 3
DEEP_LAYER = 3                           # the deep layer whose filters are measured (conv layer 4)
CLASSES = 10


class SyntheticImageRun:
    """Probes shaped like a 6-layer, 64-channel CNN's on MNIST, each drawn afresh."""

    def __init__(self, seed: int = 0):
        from gradscope.config import RunConfig

        self.config = RunConfig(arch="cnn", task="mnist", channels=CHANNELS, depth=len(MAP_SIDES), steps=1_000_000)
        self.rng = np.random.default_rng(seed)
        self.strip = self.rng.random((CLASSES, 1, 28, 28)).astype(np.float32)
        self.t0 = time.time()

    def slot(self):
        from gradscope.lab.history import RunHistory
        from gradscope.lab.slots import RunSlot

        return RunSlot(0, self.config, RunHistory(self.config), device="cpu")

    def probe(self) -> dict[str, np.ndarray]:
        rng = self.rng
        arrays: dict[str, np.ndarray] = {}
        for k, side in enumerate(MAP_SIDES):
            shape = (CHANNELS, 1, FIRST_KERNEL, FIRST_KERNEL) if k == 0 else (CHANNELS, CHANNELS, DEEP_KERNEL,
                                                                             DEEP_KERNEL)
            arrays[f"filters/layer{k}"] = (0.1 * rng.standard_normal(shape)).astype(np.float32)
            arrays[f"feature_maps/layer{k}"] = np.maximum(rng.standard_normal((CHANNELS, side, side)), 0).astype(
                np.float32)
        logits = rng.standard_normal((CLASSES, CLASSES))
        probabilities = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
        # the strip is the same test images at every probe, and the probe image changes only
        # on a click: as recorded (a new copy of the arrays each probe, as the records bring)
        probed = np.zeros(CLASSES, dtype=np.float32)
        probed[0] = 1.0
        arrays.update({"strip/images": self.strip.copy(),
                       "strip/labels": np.arange(CLASSES, dtype=np.int64),
                       "strip/probabilities": probabilities.astype(np.float32),
                       "strip/probed": probed})
        return arrays

    def feed(self, history, step: int) -> None:
        """One probed step into `history` (a RunHistory)."""
        from gradscope.records import StepRecord

        scalars = {"loss": 2.3 * np.exp(-step / 1000), "grad_norm": 1.0, "lr": 1e-3,
                   "metric/accuracy": min(1.0, 0.1 + step / 2000)}
        history.add_records([StepRecord(step=step, scalars=scalars, arrays=self.probe(),
                                        wall_time=self.t0 + 0.01 * step)])


def redraw_ms(panel, lab, feed, frames: int) -> dict:
    """Median of `frames` redraws of `panel`, each after `feed()` handed the lab a new probe:
    the refresh (Python: the arrays made images, fed to the items) and the repaint of its
    plot view (Qt: the images drawn), each in ms, and both."""
    from PySide6.QtWidgets import QApplication

    viewport = panel.graphics.viewport()
    draw, paint, painted = [], [], 0
    for _ in range(frames + 2):                  # the first two: the items' first images, the layout
        feed()
        began = time.perf_counter()
        panel.refresh(lab, force=True)
        fed = time.perf_counter()
        viewport.repaint()                       # painted now, synchronously (offscreen too)
        done = time.perf_counter()
        painted += int(not panel.graphics.refreshed)     # its paintEvent ran after the refresh
        panel.graphics.refreshed = False
        draw.append((fed - began) * 1000.0)
        paint.append((done - fed) * 1000.0)
        QApplication.processEvents()             # what else the frame posted, outside the timing
    draw, paint = draw[2:], paint[2:]
    whole = [a + b for a, b in zip(draw, paint)]
    return {"redraw_ms": round(statistics.median(whole), 2), "draw_ms": round(statistics.median(draw), 2),
            "paint_ms": round(statistics.median(paint), 2), "redraw_p90_ms": round(float(np.percentile(whole, 90)), 2),
            "over_goal": round(statistics.median(whole) / GOAL_MS, 3), "painted_frames": painted - 2}


def _figures(window, source, slot, frames: int, step: list[int]) -> dict:
    lab = window.lab
    filters, images = window.panels["filters"], window.panels["images"]

    def feed() -> None:
        step[0] += 1
        source.feed(slot.history, step[0])

    figures = {}
    for name, layer in (("filters_64_first_layer", 0), ("filters_64_deep_layer", DEEP_LAYER)):
        filters.layer.setCurrentIndex(layer)
        figures[name] = redraw_ms(filters, lab, feed, frames)
        figures[name]["grid_px"] = list(filters.filter_image.image.shape)
        figures[name]["panel_px"] = [filters.width(), filters.height()]
    figures["feature_maps_6_layers"] = redraw_ms(images, lab, feed, frames)
    figures["feature_maps_6_layers"]["grid_px"] = list(images.maps_image.image.shape)
    figures["feature_maps_6_layers"]["panel_px"] = [images.width(), images.height()]
    return figures


def measure(quick: bool, say) -> dict:
    """Both panels' redraws at the desk and in presentation mode; the window is closed after."""
    frames = 5 if quick else 40
    source = SyntheticImageRun()
    with tempfile.TemporaryDirectory(prefix="gradscope-bench-images-", ignore_cleanup_errors=True) as folder:
        window = open_window(Path(folder), "images", source.config, training=False)
        try:
            slot = source.slot()
            source.feed(slot.history, 0)
            window.lab.show_slots([slot], live=False)
            window.lab.set_layout("images")
            spin(0.5)
            step = [0]
            say(f"bench --gui: the Filters and Images panels redrawn at {WINDOW_SIZE[0]}x{WINDOW_SIZE[1]} ...")
            desk = _figures(window, source, slot, frames, step)
            say(f"bench --gui: the same in presentation mode at {PRESENTATION_SIZE[0]}x{PRESENTATION_SIZE[1]} ...")
            _enter(window)
            try:
                presented = _figures(window, source, slot, frames, step)
            finally:
                _leave(window)
        finally:
            window.lab.show_slots([], live=False)
            close_window(window)
    return {
        "filters_64_redraw_ms": desk["filters_64_deep_layer"]["redraw_ms"],
        "filters_64_first_layer_redraw_ms": desk["filters_64_first_layer"]["redraw_ms"],
        "feature_maps_6_layers_redraw_ms": desk["feature_maps_6_layers"]["redraw_ms"],
        "desk": desk,
        "presentation": presented,
        "conditions": {"quick": quick, "frames": frames, "goal_ms": GOAL_MS,
                       "window": f"{WINDOW_SIZE[0]}x{WINDOW_SIZE[1]}, offscreen, the images layout",
                       "presentation_window": f"{PRESENTATION_SIZE[0]}x{PRESENTATION_SIZE[1]}, the presentation look",
                       "filters": f"first layer [{CHANNELS}, 1, {FIRST_KERNEL}, {FIRST_KERNEL}], deep layer "
                                  f"[{CHANNELS}, {CHANNELS}, {DEEP_KERNEL}, {DEEP_KERNEL}]",
                       "feature_maps": f"{CHANNELS} channels of {'/'.join(f'{s}x{s}' for s in MAP_SIDES)}"},
    }


def format_lines(figures: dict) -> list[str]:
    lines = [f"  image panels, a new probe every frame (goal: each redraw <= {GOAL_MS:.0f} ms):"]
    for look in ("desk", "presentation"):
        for name, figure in figures[look].items():
            verdict = "met" if figure["redraw_ms"] <= GOAL_MS else "MISSED"
            lines.append(f"    {look:12s} {name:24s} {figure['redraw_ms']:6.1f} ms (draw {figure['draw_ms']:.1f} + "
                         f"paint {figure['paint_ms']:.1f}), {figure['over_goal']:.2f}x the goal: {verdict}")
    return lines
