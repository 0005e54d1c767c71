"""The lecture's claim at step 0, on digit-like 8x8 inputs (pixels in [0, 1], 10 classes): in a
20-layer tanh CNN (16 channels, 3x3, no batch norm, torch's default init) the first conv
weight's gradient is a thousandth of the last conv weight's or less, and with skip
connections it stays within a factor of ten. Measured on the real digits: about 1e-5 and
0.5 (FIELD-NOTES, "CNNs on this CPU"); on these inputs 3e-6 to 7e-6 and 0.6 to 1.0."""
from __future__ import annotations

import pytest
import torch

from gradscope.models.feedforward import cnn
from gradscope.probes.depth import depth_probe
from depth_helpers import flushed_denormals  # noqa: F401  (autouse)


@pytest.mark.parametrize("seed", [0, 1])
def test_plain_vanishes_and_residual_does_not(seed):
    g = torch.Generator().manual_seed(seed)
    images, labels = torch.rand(16, 1, 8, 8, generator=g), torch.randint(0, 10, (16,), generator=g)
    ratios = {}
    for residual in (False, True):
        model = cnn((1, 8, 8), 10, depth=20, channels=16, kernel=3, nonlinearity="tanh", residual=residual,
                    seed=seed)
        weight = depth_probe(model, images, labels)["weight_grad_norm"]
        last_conv = model.conv_layers()[-1]
        ratios[residual] = weight[0] / weight[last_conv]
    assert ratios[False] < 1e-3, ratios
    assert ratios[True] > 1e-1, ratios
