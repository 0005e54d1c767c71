"""The conv layer of LeNet and of the plain and residual CNNs: conv, batch norm (optional), the
nonlinearity, and in a residual block the skip addition.

A residual block adds its input back: output = shortcut(x) + nonlinearity(BN(conv(x))). The
nonlinearity comes before the addition, so the identity path carries the error signal past
every layer untouched; that path is what keeps a deep residual net's first gradients alive
where a plain one's vanish.

Every block after the first keeps the channel count, so a skip never needs a projection (it
would add a weight the lecture does not draw). When the block's stride or padding changes
the map's size, the shortcut is parameter-free: each output position takes the input pixel
under the centre of its convolution window (`aligned_shortcut`): the identity for a "same"
convolution, a centre crop for an unpadded one, ResNet's strided subsampling for a stride.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from gradscope.models.layered import activate
from gradscope.models.plans import ConvPlan


def aligned_shortcut(x: torch.Tensor, size: tuple[int, int], stride: int, kernel: int, padding: int) -> torch.Tensor:
    """The input pixels under the centres of the conv windows: output (i, j) takes input
    (i*S + c, j*S + c) with c = (K - 1) // 2 - P, zero where that falls outside the map (as the
    convolution's own zero padding does)."""
    height, width = size
    centre = (kernel - 1) // 2 - padding
    low = max(0, -centre)
    high_rows = max(0, centre + stride * (height - 1) - (x.shape[-2] - 1))
    high_cols = max(0, centre + stride * (width - 1) - (x.shape[-1] - 1))
    if low or high_rows or high_cols:
        x = F.pad(x, (low, high_cols, low, high_rows))
    start = centre + low
    return x[..., start:start + stride * (height - 1) + 1:stride, start:start + stride * (width - 1) + 1:stride]


class ConvLayer(nn.Module):
    def __init__(self, plan: ConvPlan, nonlinearity: str):
        super().__init__()
        self.name = plan.name
        self.nonlinearity = nonlinearity
        self.residual = plan.residual
        self.kernel, self.stride, self.padding = plan.kernel, plan.stride, plan.padding
        # batch norm's shift makes a conv bias redundant
        self.conv = nn.Conv2d(plan.in_channels, plan.out_channels, plan.kernel, stride=plan.stride,
                              padding=plan.padding, bias=not plan.batch_norm)
        self.norm = nn.BatchNorm2d(plan.out_channels) if plan.batch_norm else None

    @property
    def weight(self) -> nn.Parameter:
        return self.conv.weight

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(activation, output): output adds the shortcut in a residual block."""
        value = self.conv(x)
        if self.norm is not None:
            value = self.norm(value)
        activation = activate(self.nonlinearity, value)
        if not self.residual:
            return activation, activation
        skip = aligned_shortcut(x, activation.shape[-2:], self.stride, self.kernel, self.padding)
        return activation, activation + skip
