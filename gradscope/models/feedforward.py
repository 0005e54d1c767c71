"""Building the convolutional and dense models: `lenet`, `cnn`, `mlp`.

Each checks its settings and works out every layer's shape first (`plans`), so a refused
combination fails before anything is allocated, then builds the layers and initialises them
from `seed` (`layer_init`), leaving torch's global RNG as it found it.
"""
from __future__ import annotations

import torch

from gradscope.models.conv import ConvLayer
from gradscope.models.dense import DenseLayer
from gradscope.models.layer_init import initialise
from gradscope.models.layered import Classifier, LayeredNet
from gradscope.models.plans import INITS, Plan, cnn_plan, lenet_plan, mlp_plan


def build_plan(plan: Plan, *, init: str = "default", seed: int = 0) -> LayeredNet:
    """The model a plan describes, its weights drawn from a generator seeded with `seed`."""
    if init not in INITS:
        raise ValueError(f"init must be one of {', '.join(INITS)}, got {init!r}")
    with torch.random.fork_rng(devices=[]):   # module constructors draw from the global RNG
        layers = [ConvLayer(layer, plan.nonlinearity) if layer.kind == "conv" else DenseLayer(layer, plan.nonlinearity)
                  for layer in plan.layers]
        model = LayeredNet(plan, layers, Classifier(plan.head_features, plan.classes, plan.head_reduce))
    initialise(model, init, torch.Generator().manual_seed(seed))
    return model


def lenet(input_shape, classes: int, *, nonlinearity: str = "relu", pool: str = "max", init: str = "default",
          seed: int = 0) -> LayeredNet:
    """LeNet-5's pattern sized from the input (C, H, W): see `plans` for the padding."""
    return build_plan(lenet_plan(input_shape, classes, nonlinearity=nonlinearity, pool=pool), init=init, seed=seed)


def cnn(input_shape, classes: int, *, depth: int = 8, channels: int = 16, kernel: int = 3, stride: int = 1,
        padding: int = 1, pool: str = "none", nonlinearity: str = "relu", batch_norm: bool = False,
        residual: bool = False, init: str = "default", seed: int = 0) -> LayeredNet:
    """A plain or residual CNN of `depth` conv layers: see `plans` for pooling and skips."""
    plan = cnn_plan(input_shape, classes, depth=depth, channels=channels, kernel=kernel, stride=stride,
                    padding=padding, pool=pool, nonlinearity=nonlinearity, batch_norm=batch_norm, residual=residual)
    return build_plan(plan, init=init, seed=seed)


def mlp(input_shape, classes: int, *, hidden_layers: int = 1, width: int = 64, nonlinearity: str = "relu",
        init: str = "default", seed: int = 0) -> LayeredNet:
    """0 to 4 dense layers of `width` units on the flattened image, then the classifier."""
    plan = mlp_plan(input_shape, classes, hidden_layers=hidden_layers, width=width, nonlinearity=nonlinearity)
    return build_plan(plan, init=init, seed=seed)
