"""The layered nets' 2x2 max pool: without autograd the quarters' maximum, with it
max_pool2d's own; the values are the same either way, bit for bit."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from gradscope.models.pooling import MaxPool2x2, quarters_max


def test_quarters_max_is_max_pool2d_exactly():
    generator = torch.Generator().manual_seed(0)
    for shape in ((5, 6, 28, 28), (3, 16, 14, 14), (2, 4, 7, 7), (2, 3, 9, 6)):
        x = torch.relu(torch.randn(shape, generator=generator))        # ReLU: many ties at 0
        x[0, 0, 0, 0] = float("nan")
        ours, theirs = quarters_max(x), F.max_pool2d(x, 2)
        assert torch.equal(ours.isnan(), theirs.isnan()), shape
        assert torch.equal(ours.nan_to_num(), theirs.nan_to_num()), shape


def test_max_pool_keeps_max_pool2d_gradient_with_autograd():
    pool = MaxPool2x2()
    x = torch.zeros(2, 3, 4, 4)          # all ties: max_pool2d sends each gradient to one input
    x[:, :, 1, 1] = 1.0
    leaf = x.clone().requires_grad_()
    pool(leaf).sum().backward()
    reference = x.clone().requires_grad_()
    F.max_pool2d(reference, 2).sum().backward()
    assert torch.equal(leaf.grad, reference.grad)
    with torch.no_grad():
        assert torch.equal(pool(x), F.max_pool2d(x, 2))
