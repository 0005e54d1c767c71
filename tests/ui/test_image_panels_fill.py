"""The image panels use the room presentation mode gives them at 1280x720: the strip of test
images fills its width (it had been 420 x 38 px of a 628 px box: its height was sized for the
images without the picked one's frame), and the filter snapshots take the grid whose tiles are
biggest in the strip's box (five 3 x 2 grids of a LeNet's filters were 12 px tiles)."""
from __future__ import annotations

import pytest

from gradscope.ui.panels.filters import SNAPSHOT_GAP, snapshot_columns
from gradscope.ui.panels.tiles import GAP


def tile_scale(columns, tiles, side, snapshots, width, height):
    rows = -(-tiles // columns)
    strip_w = snapshots * (columns * (side + GAP) - GAP) + (snapshots - 1) * SNAPSHOT_GAP
    return min(width / strip_w, height / (rows * (side + GAP) - GAP))


@pytest.mark.parametrize("tiles, side, snapshots, width, height", [
    (6, 5, 5, 630, 200), (6, 5, 5, 630, 40), (16, 3, 6, 400, 400), (1, 5, 1, 100, 100), (6, 5, 5, 200, 600)])
def test_the_snapshot_grid_makes_the_biggest_tiles(tiles, side, snapshots, width, height):
    chosen = snapshot_columns(tiles, (side, side), snapshots, width, height)
    best = max(tile_scale(c, tiles, side, snapshots, width, height) for c in range(1, tiles + 1))
    assert tile_scale(chosen, tiles, side, snapshots, width, height) == pytest.approx(best)


def settle(window, qapp) -> None:
    for _ in range(6):
        for _ in range(3):
            qapp.processEvents()
        window.redraw(everything=True)


def test_the_image_panels_fill_their_boxes_in_presentation(qtbot, qapp, replay_only_window, open_from_menu,
                                                            lenet_session):
    window = replay_only_window
    assert open_from_menu(window, lenet_session)
    window.presentation_action.trigger()
    next(action for action in window.layout_actions if action.data() == "images").trigger()   # View > Layout
    settle(window, qapp)
    images, filters = window.panels["images"], window.panels["filters"]
    assert images.isVisible() and filters.isVisible()
    strip, box = images.strip.sceneBoundingRect(), images.strip_plot.vb.sceneBoundingRect()
    assert strip.width() >= 0.85 * box.width(), (strip, box)
    history = filters.history_image
    snapshot_px = history.sceneBoundingRect().width() / history.image.shape[1]   # px per filter pixel
    assert snapshot_px * 5 >= 24, snapshot_px                     # a 5x5 filter at least 24 px
