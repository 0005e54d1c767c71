"""The image panels' bench (`gradscope bench --gui`'s Filters and Images redraws) runs in its
quick mode and names every figure with its unit; figures are reported, never asserted."""
from __future__ import annotations

import math

import pytest

pytest.importorskip("PySide6")

PANELS = ("filters_64_first_layer", "filters_64_deep_layer", "feature_maps_6_layers")


def _positive(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and value > 0


@pytest.mark.timeout(120)
def test_image_panels_bench_quick_reports_every_figure(qapp):
    from PySide6.QtWidgets import QApplication

    from gradscope.bench import image_panels
    from gradscope.ui.main_window import MainWindow

    figures = image_panels.measure(True, lambda text: None)
    for name in ("filters_64_redraw_ms", "filters_64_first_layer_redraw_ms", "feature_maps_6_layers_redraw_ms"):
        assert _positive(figures[name]), name
    for look in ("desk", "presentation"):
        assert set(figures[look]) == set(PANELS)
        for panel, figure in figures[look].items():
            for name in ("redraw_ms", "draw_ms", "paint_ms", "redraw_p90_ms", "over_goal"):
                assert _positive(figure[name]), (look, panel, name)
            assert figure["over_goal"] == pytest.approx(figure["redraw_ms"] / image_panels.GOAL_MS, rel=0.01)
            assert figure["painted_frames"] == figures["conditions"]["frames"], (look, panel)   # each frame painted
    # the grids are what 64 filters and six layers' maps make
    assert figures["desk"]["filters_64_deep_layer"]["grid_px"] == [64 * 4 - 1, 64 * 4 - 1]      # 64 x 64 3x3 tiles
    assert figures["desk"]["filters_64_first_layer"]["grid_px"] == [8 * 6 - 1, 8 * 6 - 1]       # 8 x 8 5x5 tiles
    assert figures["desk"]["feature_maps_6_layers"]["grid_px"] == [6 * 29 - 1, 8 * 29 - 1]      # 6 rows of 8 maps
    assert "goal: each redraw <= 10 ms" in image_panels.format_lines(figures)[0]
    assert not [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible()]
