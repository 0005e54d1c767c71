"""Initialisations of the conv and dense weights, drawn from a seeded generator so that a run
starts from the same weights wherever it is built, without touching torch's global RNG.

- default: torch's own (kaiming_uniform_ with a = sqrt(5), biases uniform in +-1/sqrt(fan_in)),
  reproduced here with the generator. It is not He init: its weights have variance
  1/(3 fan_in), a third of what keeps a ReLU net's signal alive, so a deep plain ReLU net
  vanishes with it (FIELD-NOTES: 5e-8 at 20 layers).
- kaiming: He et al. (2015), normal with std gain/sqrt(fan_in), the gain of the net's
  nonlinearity (sqrt 2 for ReLU, 5/3 for tanh, 1 for sigmoid and the linear classifier);
  biases zero.
- xavier: Glorot and Bengio (2010), uniform with variance 2/(fan_in + fan_out); biases zero.

Batch norm starts as the identity map (scale 1, shift 0), as torch's does.
"""
from __future__ import annotations

import math

import torch
from torch import nn

from gradscope.models.plans import INITS


def _initialise_weight(module: nn.Module, init: str, nonlinearity: str, generator: torch.Generator) -> None:
    weight, bias = module.weight, module.bias
    fan_in = weight[0].numel()
    if init == "default":
        nn.init.kaiming_uniform_(weight, a=math.sqrt(5), generator=generator)
        if bias is not None:
            bound = 1 / math.sqrt(fan_in)
            nn.init.uniform_(bias, -bound, bound, generator=generator)
        return
    if init == "kaiming":
        nn.init.kaiming_normal_(weight, mode="fan_in", nonlinearity=nonlinearity, generator=generator)
    else:
        nn.init.xavier_uniform_(weight, gain=1.0, generator=generator)
    if bias is not None:
        nn.init.zeros_(bias)


def initialise(model, init: str, generator: torch.Generator) -> None:
    """Every conv and linear weight of a LayeredNet, from the input on, then its batch norms."""
    if init not in INITS:
        raise ValueError(f"init must be one of {', '.join(INITS)}, got {init!r}")
    with torch.no_grad():
        for layer in model.layers:
            module = layer.conv if hasattr(layer, "conv") else layer.linear
            _initialise_weight(module, init, model.nonlinearity, generator)
            if getattr(layer, "norm", None) is not None:
                layer.norm.reset_parameters()
        _initialise_weight(model.head.linear, init, "linear", generator)
