"""What a convolutional or dense model is, layer by layer, decided before any tensor exists.

A plan is the one description the shape arithmetic, the settings' validation and the model
builder share: each layer's kind, sizes and output shape (by `shapes.window_output`, not by
a forward pass), where pooling happens and what the classifier reads. A combination that
would shrink a map below 1x1 is refused here, naming the layer and the numbers.

The three architectures:

- **lenet**: LeNet-5's pattern, conv 5x5 (6 channels), pool, conv 5x5 (16), pool, dense 120,
  dense 84, classifier. Both convolutions pad by 2 ("same"), so only the pools shrink the map:
  28x28 gives 28, 14, 14, 7 and 8x8 gives 8, 4, 4, 2. LeNet-5's unpadded second conv would take
  an 8x8 digit's 4x4 map below 1x1.
- **cnn**: `depth` conv layers of `channels` channels, every one with the same kernel, stride
  and padding; the first maps the image's channels to `channels`, so it never has a skip. With
  `residual`, every later layer adds its input back (see `conv.aligned_shortcut` for a layer
  whose stride or padding changes the map's size). Pooling (2x2, stride 2) sits between layers,
  never inside one: after layer 1 and after layer ceil(depth/2) (once for depth 2), so that an
  8x8 digit keeps a 2x2 map for the deep half of the net. Then a global average pool and a
  linear classifier.
- **mlp**: 0 to 4 dense layers of `width` units on the flattened image, then the classifier.

Layers are named for people, from 1 ("conv layer 1"); a series' layer axis counts from 0.
"""
from __future__ import annotations

import operator
from dataclasses import dataclass

from gradscope.models.shapes import LayerShape, map_output

ARCHS = ("lenet", "cnn", "mlp")
NONLINEARITIES = ("relu", "tanh", "sigmoid")
POOLS = ("max", "avg", "none")
INITS = ("default", "kaiming", "xavier")
MIN_DEPTH, MAX_DEPTH = 2, 20
MAX_HIDDEN_LAYERS = 4
MAX_CHANNELS = 512
MAX_KERNEL = 11
MAX_STRIDE = 4
MAX_WIDTH = 4096
POOL_WINDOW = 2
LENET_CHANNELS = (6, 16)
LENET_KERNEL, LENET_PADDING = 5, 2
LENET_DENSE = (120, 84)


@dataclass(frozen=True)
class ConvPlan:
    name: str
    in_channels: int
    out_channels: int
    kernel: int
    stride: int
    padding: int
    batch_norm: bool
    residual: bool            # output = shortcut(input) + nonlinearity(conv(input))
    pool: str                 # pooling applied to this layer's output before the next layer
    output: tuple[int, int, int]
    kind = "conv"


@dataclass(frozen=True)
class DensePlan:
    name: str
    in_features: int
    out_features: int
    output: tuple[int]
    kind = "dense"


@dataclass(frozen=True)
class Plan:
    arch: str
    input_shape: tuple[int, int, int]
    classes: int
    nonlinearity: str
    layers: tuple[ConvPlan | DensePlan, ...]
    head_features: int
    head_reduce: str          # "mean": global average pool of a (C, H, W) map; "flatten"

    def shapes(self) -> list[LayerShape]:
        """Each layer's name and output shape, (C, H, W) or (features,), from the arithmetic."""
        return [LayerShape(layer.name, layer.output) for layer in self.layers]

    def table(self) -> list[LayerShape]:
        """What a person reads the net as, before training: each layer's output and, between
        them, each pool's (a conv layer's map halved by the pool after it would otherwise look
        like a mistake in the arithmetic), then the head: the global average pool of a CNN's
        last map and the classifier's scores. `shapes` stays the layers alone: a series' layer
        axis and the probes count those."""
        rows = []
        for layer in self.layers:
            rows.append(LayerShape(layer.name, layer.output))
            if getattr(layer, "pool", "none") != "none":
                channels, height, width = layer.output
                # planned already, so the pool is known to fit: this only repeats the arithmetic
                rows.append(LayerShape(f"{layer.pool} pool after {layer.name}",
                                       (channels, *_pooled(layer.pool, layer.name, height, width))))
        if self.head_reduce == "mean":
            rows.append(LayerShape("global average pool", (self.head_features,)))
        return rows + [LayerShape("classifier", (self.classes,))]

    @property
    def batch_norm(self) -> bool:
        return any(getattr(layer, "batch_norm", False) for layer in self.layers)


def _integer(what: str, value, low: int, high: int) -> int:
    if isinstance(value, bool):
        raise ValueError(f"{what} must be a whole number, got {value!r}")
    try:
        number = operator.index(value)
    except TypeError:
        raise ValueError(f"{what} must be a whole number, got {value!r}") from None
    if not low <= number <= high:
        raise ValueError(f"{what} must be between {low} and {high}, got {number}")
    return number


def _choice(what: str, value, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise ValueError(f"{what} must be one of {', '.join(choices)}, got {value!r}")
    return value


def _flag(what: str, value) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"{what} must be true or false, got {value!r}")
    return value


def _input(input_shape, classes) -> tuple[tuple[int, int, int], int]:
    try:
        channels, height, width = input_shape
    except (TypeError, ValueError):
        raise ValueError(f"the input shape must be (channels, height, width), got {input_shape!r}") from None
    shape = (_integer("input channels", channels, 1, MAX_CHANNELS), _integer("input height", height, 1, 4096),
             _integer("input width", width, 1, 4096))
    return shape, _integer("the number of classes", classes, 2, 10_000)


def _pooled(pool: str, name: str, height: int, width: int) -> tuple[int, int]:
    if pool == "none":
        return height, width
    return map_output(height, width, POOL_WINDOW, POOL_WINDOW, 0, f"{pool} pool after {name}")


def _dense_layers(first: int, widths) -> list[DensePlan]:
    layers, features = [], first
    for index, width in enumerate(widths, start=1):
        layers.append(DensePlan(f"dense layer {index}", features, width, (width,)))
        features = width
    return layers


def lenet_plan(input_shape, classes, *, nonlinearity: str = "relu", pool: str = "max") -> Plan:
    shape, classes = _input(input_shape, classes)
    nonlinearity = _choice("the nonlinearity", nonlinearity, NONLINEARITIES)
    pool = _choice("pool", pool, POOLS)
    channels, height, width = shape
    layers: list[ConvPlan | DensePlan] = []
    for index, out_channels in enumerate(LENET_CHANNELS, start=1):
        name = f"conv layer {index}"
        height, width = map_output(height, width, LENET_KERNEL, 1, LENET_PADDING, name)
        layers.append(ConvPlan(name, channels, out_channels, LENET_KERNEL, 1, LENET_PADDING, False, False, pool,
                               (out_channels, height, width)))
        height, width = _pooled(pool, name, height, width)
        channels = out_channels
    layers += _dense_layers(channels * height * width, LENET_DENSE)
    return Plan("lenet", shape, classes, nonlinearity, tuple(layers), LENET_DENSE[-1], "flatten")


def cnn_plan(input_shape, classes, *, depth: int = 8, channels: int = 16, kernel: int = 3, stride: int = 1,
             padding: int = 1, pool: str = "none", nonlinearity: str = "relu", batch_norm: bool = False,
             residual: bool = False) -> Plan:
    shape, classes = _input(input_shape, classes)
    depth = _integer("cnn depth (conv layers)", depth, MIN_DEPTH, MAX_DEPTH)
    channels = _integer("cnn channels", channels, 1, MAX_CHANNELS)
    kernel = _integer("cnn kernel size", kernel, 1, MAX_KERNEL)
    stride = _integer("cnn stride", stride, 1, MAX_STRIDE)
    # a pad of K or more would add outputs that see nothing but zeros
    padding = _integer("cnn padding", padding, 0, kernel - 1)
    pool = _choice("pool", pool, POOLS)
    nonlinearity = _choice("the nonlinearity", nonlinearity, NONLINEARITIES)
    batch_norm, residual = _flag("batch_norm", batch_norm), _flag("residual", residual)
    pooled_after = set() if pool == "none" else {1, (depth + 1) // 2}
    in_channels, height, width = shape
    layers = []
    for index in range(1, depth + 1):
        name = f"conv layer {index}"
        height, width = map_output(height, width, kernel, stride, padding, name)
        layer_pool = pool if index in pooled_after else "none"
        layers.append(ConvPlan(name, in_channels, channels, kernel, stride, padding, batch_norm,
                               residual and index > 1, layer_pool, (channels, height, width)))
        height, width = _pooled(layer_pool, name, height, width)
        in_channels = channels
    return Plan("cnn", shape, classes, nonlinearity, tuple(layers), channels, "mean")


def mlp_plan(input_shape, classes, *, hidden_layers: int = 1, width: int = 64, nonlinearity: str = "relu") -> Plan:
    shape, classes = _input(input_shape, classes)
    hidden_layers = _integer("mlp hidden layers", hidden_layers, 0, MAX_HIDDEN_LAYERS)
    width = _integer("mlp width", width, 1, MAX_WIDTH)
    nonlinearity = _choice("the nonlinearity", nonlinearity, NONLINEARITIES)
    features = shape[0] * shape[1] * shape[2]
    layers = _dense_layers(features, [width] * hidden_layers)
    return Plan("mlp", shape, classes, nonlinearity, tuple(layers), width if hidden_layers else features, "flatten")
