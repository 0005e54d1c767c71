"""`tiles.tiled` lays blocks out by a reshape; it gives exactly the image the block-by-block
copy it replaced gave (kept here as the reference), NaN gaps included."""
from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("pyqtgraph")

from gradscope.ui.panels.tiles import tiled  # noqa: E402


def tiled_block_by_block(blocks: np.ndarray, columns: int, gap: int = 1) -> np.ndarray:
    n, h, w = blocks.shape
    rows = max(-(-n // max(columns, 1)), 1)
    out = np.full((rows * (h + gap) - gap, columns * (w + gap) - gap), np.nan, dtype=np.float32)
    for index in range(n):
        row, column = divmod(index, columns)
        out[row * (h + gap):row * (h + gap) + h, column * (w + gap):column * (w + gap) + w] = blocks[index]
    return out


@pytest.mark.parametrize("n, h, w, columns, gap", [
    (4096, 3, 3, 64, 1),          # a deep layer's 64 x 64 filters
    (64, 5, 5, 8, 1),             # a first layer's, in a near-square grid
    (10, 28, 28, 10, 1),          # the test strip
    (48, 28, 28, 8, 1),           # six layers' feature maps
    (7, 4, 6, 3, 1),              # a last row not full
    (5, 2, 2, 8, 1),              # fewer blocks than columns
    (6, 3, 3, 2, 0), (6, 3, 3, 4, 2),
    (0, 3, 3, 4, 1),              # no block: one blank row
])
def test_tiled_is_the_block_by_block_layout(n, h, w, columns, gap):
    blocks = np.random.default_rng(n + columns).standard_normal((n, h, w))
    blocks[:, 0, 0] = np.nan if n else 0.0        # a NaN of the data's own stays where it was
    ours, reference = tiled(blocks, columns, gap), tiled_block_by_block(blocks, columns, gap)
    assert ours.dtype == reference.dtype and ours.shape == reference.shape
    np.testing.assert_array_equal(ours, reference)      # NaN where NaN, every other value equal
    assert ours.flags.c_contiguous
