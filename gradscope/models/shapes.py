"""Feature-map sizes before training, by the lecture's arithmetic, not by a forward pass.

A convolution or pooling window of size F, stride S and zero padding P over a map of side N
gives a map of side out = floor((N + 2P - F) / S) + 1. The settings can then say, before a
model is built, how large every layer's output is and which combination of depth, kernel,
stride, padding and pooling would shrink a map to nothing; the test suite checks that these
sizes are the ones torch's forward pass produces.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LayerShape:
    """One layer's display name and the shape of its output for one image: (C, H, W) for a
    conv layer, (features,) for a dense one (the batch axis is left out)."""

    name: str
    shape: tuple[int, ...]


def window_output(size: int, kernel: int, stride: int, padding: int, where: str) -> int:
    """floor((N + 2P - F) / S) + 1 for one side, refused when the window no longer fits.

    `where` names the operation in the message ("conv layer 7", "pool after conv layer 1"), so
    that a refused setting says which layer breaks and by what numbers.
    """
    out = (size + 2 * padding - kernel) // stride + 1
    if out < 1:
        raise ValueError(f"{where}: ({size} + 2*{padding} - {kernel})/{stride} + 1 = {out}, below 1x1")
    return out


def map_output(height: int, width: int, kernel: int, stride: int, padding: int, where: str) -> tuple[int, int]:
    """Both sides of a square window over an H x W map."""
    return (window_output(height, kernel, stride, padding, where),
            window_output(width, kernel, stride, padding, where))
