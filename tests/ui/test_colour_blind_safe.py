"""The gradient-norm panel's series stay apart for a deuteranope: their pens' colours are put
through a deuteranopia simulation (Machado, Oliveira and Fernandes 2009, severity 1, on linear
RGB) and compared in sRGB. "After clipping", "clipping fired" and the threshold once all
turned the same olive."""
from __future__ import annotations

import itertools

import numpy as np

DEUTERANOPIA = np.array([[0.367322, 0.860646, -0.227968],
                         [0.280085, 0.672501, 0.047413],
                         [-0.011820, 0.042940, 0.968881]])
APART = 65.0          # sRGB distance; orange against vermilion, the old pair, is 62


def seen_by_a_deuteranope(rgb) -> np.ndarray:
    linear = np.asarray(rgb, dtype=float) / 255.0
    linear = np.where(linear <= 0.04045, linear / 12.92, ((linear + 0.055) / 1.055) ** 2.4)
    simulated = np.clip(DEUTERANOPIA @ linear, 0.0, 1.0)
    return 255.0 * np.where(simulated <= 0.0031308, 12.92 * simulated, 1.055 * simulated ** (1 / 2.4) - 0.055)


def colour_of(item) -> tuple[int, int, int]:
    color = (item.opts["pen"] if hasattr(item, "opts") else item.pen).color()
    return color.red(), color.green(), color.blue()


def test_the_clipping_series_stay_apart_in_deuteranopia(replay_only_window):
    panel = replay_only_window.panels["grad_norm"]
    series = {"before clipping": panel.pre_curve, "after clipping": panel.post_curve,
              "clipping fired": panel.clip_markers, "threshold": panel.threshold,
              "would clip (what-if)": panel.what_if_markers}
    seen = {name: seen_by_a_deuteranope(colour_of(item)) for name, item in series.items()}
    for (a, seen_a), (b, seen_b) in itertools.combinations(seen.items(), 2):
        assert np.linalg.norm(seen_a - seen_b) >= APART, (a, b)


def test_the_old_colours_would_have_failed():
    orange, vermilion = (0xE6, 0x9F, 0x00), (0xD5, 0x5E, 0x00)
    assert np.linalg.norm(seen_by_a_deuteranope(orange) - seen_by_a_deuteranope(vermilion)) < APART
