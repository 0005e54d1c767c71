"""The shapes a plan states before training are the shapes torch produces, and a combination
that shrinks a map below 1x1 is refused with the layer and the numbers.

The reference here applies torch's own conv2d and max_pool2d with the rules the plans'
docstring states (every conv the same K, S, P; 2x2 pools after layer 1 and after layer
ceil(depth/2)); torch refuses an output below 1x1 with a RuntimeError of its own.
"""
from __future__ import annotations

import math
import re

import pytest
import torch
import torch.nn.functional as F

from gradscope.models.feedforward import cnn, lenet, mlp
from gradscope.models.plans import cnn_plan, lenet_plan, mlp_plan

REFUSAL = re.compile(r"^(max pool after |avg pool after )?conv layer (\d+): "
                     r"\((\d+) \+ 2\*(\d+) - (\d+)\)/(\d+) \+ 1 = (-?\d+), below 1x1$")
INPUTS = [(1, 8, 8), (1, 28, 28), (3, 5, 7), (2, 12, 3)]


def torch_cnn_shapes(input_shape, depth, kernel, stride, padding, pool, channels=2):
    x = torch.zeros(1, *input_shape)
    shapes = []
    pooled_after = set() if pool == "none" else {1, math.ceil(depth / 2)}
    for index in range(1, depth + 1):
        x = F.conv2d(x, torch.zeros(channels, x.shape[1], kernel, kernel), stride=stride, padding=padding)
        shapes.append(tuple(x.shape[1:]))
        if index in pooled_after:
            x = F.max_pool2d(x, 2)
    return shapes


def random_configs(count=160, seed=0):
    g = torch.Generator().manual_seed(seed)

    def pick(n):
        return int(torch.randint(0, n, (1,), generator=g))
    for _ in range(count):
        kernel = 1 + pick(5)
        yield dict(input_shape=INPUTS[pick(len(INPUTS))], depth=2 + pick(19), kernel=kernel, stride=1 + pick(3),
                   padding=pick(kernel), pool=("max", "avg", "none")[pick(3)], residual=bool(pick(2)),
                   batch_norm=bool(pick(2)))


def test_cnn_shapes_equal_torch_for_many_configurations():
    valid = refused = 0
    for config in random_configs():
        geometry = {key: config[key] for key in ("input_shape", "depth", "kernel", "stride", "padding", "pool")}
        try:
            expected = torch_cnn_shapes(**geometry)
        except RuntimeError:
            expected = None
        kwargs = dict(config, channels=2)
        del kwargs["input_shape"]
        if expected is None:
            with pytest.raises(ValueError) as refusal:
                cnn_plan(config["input_shape"], 10, **kwargs)
            match = REFUSAL.match(str(refusal.value))
            assert match, str(refusal.value)
            size, pad, window, step, out = map(int, match.groups()[2:])
            assert (size + 2 * pad - window) // step + 1 == out < 1
            refused += 1
            continue
        plan = cnn_plan(config["input_shape"], 10, **kwargs)
        assert [shape.shape for shape in plan.shapes()] == expected, config
        model = cnn(config["input_shape"], 10, **kwargs)
        with torch.no_grad():
            trace = model.trace(torch.zeros(2, *config["input_shape"]))
        assert [tuple(output.shape[1:]) for output in trace.outputs] == expected, config
        assert trace.logits.shape == (2, 10)
        valid += 1
    assert valid > 40 and refused > 20   # both branches are exercised


def test_the_refusal_names_the_layer_and_the_numbers():
    with pytest.raises(ValueError, match=re.escape("conv layer 4: (2 + 2*0 - 3)/1 + 1 = 0, below 1x1")):
        cnn((1, 8, 8), 10, depth=7, kernel=3, padding=0)
    with pytest.raises(ValueError, match=re.escape("max pool after conv layer 2: (1 + 2*0 - 2)/2 + 1 = 0")):
        lenet((1, 3, 3), 10)


@pytest.mark.parametrize("input_shape", [(1, 8, 8), (1, 28, 28), (3, 32, 32), (1, 4, 4), (2, 5, 9)])
@pytest.mark.parametrize("pool", ["max", "avg", "none"])
def test_lenet_shapes_equal_a_forward_pass(input_shape, pool):
    plan = lenet_plan(input_shape, 10, pool=pool)
    model = lenet(input_shape, 10, pool=pool)
    with torch.no_grad():
        trace = model.trace(torch.zeros(2, *input_shape))
    assert [shape.shape for shape in plan.shapes()] == [tuple(o.shape[1:]) for o in trace.outputs]
    assert [shape.name for shape in plan.shapes()] == ["conv layer 1", "conv layer 2", "dense layer 1", "dense layer 2"]
    # "same" 5x5 convolutions: only the pools shrink the map
    halve = (lambda n: n // 2) if pool != "none" else (lambda n: n)
    assert plan.shapes()[1].shape == (16, halve(input_shape[1]), halve(input_shape[2]))


def test_lenet_on_8x8_and_28x28():
    assert [s.shape for s in lenet_plan((1, 8, 8), 10).shapes()] == [(6, 8, 8), (16, 4, 4), (120,), (84,)]
    assert [s.shape for s in lenet_plan((1, 28, 28), 10).shapes()] == [(6, 28, 28), (16, 14, 14), (120,), (84,)]
    assert lenet((1, 28, 28), 10).layers[2].linear.in_features == 16 * 7 * 7


@pytest.mark.parametrize("hidden_layers", [0, 1, 4])
@pytest.mark.parametrize("input_shape", [(1, 8, 8), (1, 28, 28)])
def test_mlp_shapes_equal_a_forward_pass(hidden_layers, input_shape):
    plan = mlp_plan(input_shape, 7, hidden_layers=hidden_layers, width=5)
    with torch.no_grad():
        trace = mlp(input_shape, 7, hidden_layers=hidden_layers, width=5).trace(torch.zeros(3, *input_shape))
    assert [s.shape for s in plan.shapes()] == [tuple(o.shape[1:]) for o in trace.outputs] == [(5,)] * hidden_layers
    assert trace.logits.shape == (3, 7)
