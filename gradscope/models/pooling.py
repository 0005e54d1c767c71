"""The 2x2 max pool of the layered nets, quicker where no gradient is wanted.

PyTorch's CPU max_pool2d on a map of few channels (LeNet's 6 of 28x28) costs about three
times the elementwise maximum of the four strided quarters of the map, and the probes run the
whole test split through the net at every probe without autograd (`probes.evaluation`). A
maximum is exact, so the two give the same values; with autograd on, the pool is
max_pool2d's own, so that training, and the per-image gradients, send the gradient to the
one input max_pool2d picks among ties (the elementwise maximum would split it).
"""
from __future__ import annotations

import torch
from torch import nn


def quarters_max(x: torch.Tensor) -> torch.Tensor:
    """max_pool2d(x, 2) (floor mode: an odd last row or column is dropped) as the maximum of
    the four strided quarters."""
    height, width = x.shape[-2] // 2 * 2, x.shape[-1] // 2 * 2
    x = x[..., :height, :width]
    return torch.maximum(torch.maximum(x[..., 0::2, 0::2], x[..., 0::2, 1::2]),
                         torch.maximum(x[..., 1::2, 0::2], x[..., 1::2, 1::2]))


class MaxPool2x2(nn.MaxPool2d):
    def __init__(self):
        super().__init__(2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if torch.is_grad_enabled() and x.requires_grad:
            return super().forward(x)
        return quarters_max(x)
