"""A feed-forward classifier as an ordered list of layers, each of whose outputs a probe can
capture and differentiate against.

Every layer (a conv or a dense block, `conv.ConvLayer`, `dense.DenseLayer`) returns two
tensors: its activation, the nonlinearity's output, and its output, which is the activation
plus the skip of a residual block (the same tensor elsewhere). The output is what flows on,
through the pooling that may follow the layer, and what the depth probes call the layer's
output; the activation is where a unit is dead or saturated. The classifier (a linear map of
the last layer's flattened or globally averaged output) has a weight but is not a layer: it
has no nonlinearity, and its output is the logits.

`trace` accepts an offset per layer, added to the layer's output: zeros that change nothing
but give autograd a handle on dL/d(output) (`gradscope.probes.depth`).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from gradscope.models.plans import Plan
from gradscope.models.pooling import MaxPool2x2
from gradscope.models.shapes import LayerShape

_ACTIVATIONS = {"relu": torch.relu, "tanh": torch.tanh, "sigmoid": torch.sigmoid}


def activate(nonlinearity: str, value: torch.Tensor) -> torch.Tensor:
    return _ACTIVATIONS[nonlinearity](value)


@dataclass
class Trace:
    logits: torch.Tensor
    activations: list[torch.Tensor]   # each layer's nonlinearity output, before any skip addition
    outputs: list[torch.Tensor]       # each layer's output: after the nonlinearity and the skip addition


class Classifier(nn.Module):
    """The linear read-out: of the flattened input, or of its global average over H and W."""

    def __init__(self, features: int, classes: int, reduce: str):
        super().__init__()
        self.reduce = reduce
        self.linear = nn.Linear(features, classes)

    @property
    def weight(self) -> nn.Parameter:
        return self.linear.weight

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x.mean(dim=(-2, -1)) if self.reduce == "mean" else x.flatten(1))


def _pool(kind: str) -> nn.Module:
    if kind == "max":
        return MaxPool2x2()
    if kind == "avg":
        return nn.AvgPool2d(2)
    return nn.Identity()


class LayeredNet(nn.Module):
    """Layers, the pooling after each, and the classifier, as a plan describes them."""

    def __init__(self, plan: Plan, layers: list[nn.Module], head: Classifier):
        super().__init__()
        self.plan = plan
        self.arch = plan.arch
        self.nonlinearity = plan.nonlinearity
        self.layers = nn.ModuleList(layers)
        self.pools = nn.ModuleList([_pool(getattr(layer, "pool", "none")) for layer in plan.layers])
        self.head = head

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.trace(x).logits

    def trace(self, x: torch.Tensor, offsets: list[torch.Tensor] | None = None) -> Trace:
        activations, outputs = [], []
        for index, (layer, pool) in enumerate(zip(self.layers, self.pools)):
            activation, output = layer(x)
            if offsets is not None:
                output = output + offsets[index]
            activations.append(activation)
            outputs.append(output)
            x = pool(output)
        return Trace(self.head(x), activations, outputs)

    # -- what the probes read --------------------------------------------------------------

    @property
    def batch_norm(self) -> bool:
        return self.plan.batch_norm

    @property
    def layer_names(self) -> list[str]:
        return [layer.name for layer in self.plan.layers]

    def layer_shapes(self) -> list[LayerShape]:
        return self.plan.shapes()

    def conv_layers(self) -> list[int]:
        """The positions (from 0) of the conv layers among the layers."""
        return [index for index, layer in enumerate(self.plan.layers) if layer.kind == "conv"]

    def weights(self) -> list[nn.Parameter]:
        """Each conv or dense layer's weight, from the input on, then the classifier's."""
        return [layer.weight for layer in self.layers] + [self.head.weight]

    def weight_names(self) -> list[str]:
        """The parameter names of `weights()`, as `named_parameters` spells them."""
        ids = {id(weight): position for position, weight in enumerate(self.weights())}
        names = [""] * len(ids)
        for name, parameter in self.named_parameters():
            if id(parameter) in ids:
                names[ids[id(parameter)]] = name
        return names
