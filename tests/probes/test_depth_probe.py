"""Every depth series against a brute-force torch.autograd computation (DESIGN.md, "The
quantities, precisely"), on small seeded random models of every architecture, nonlinearity
and normalisation, at 8x8 and 28x28.

The reference runs the model's ordinary forward pass, catches each layer's output with a
forward hook (retain_grad), and backpropagates each probe image's own cross entropy on its
own, reading the gradients from .grad: with batch norm, through the statistics of the whole
probe batch in train mode, as `gradscope.probes.per_image` defines image i's gradient.
"""
from __future__ import annotations

import functools

import numpy as np
import pytest
import torch

from gradscope.models.feedforward import cnn, lenet, mlp
from gradscope.probes.depth import depth_probe
from gradscope.probes import per_image
from gradscope.probes.per_image import _norm
from depth_helpers import brute_force, flushed_denormals  # noqa: F401  (autouse)

RTOL = 2e-5

CASES = {
    "lenet-relu-8": lambda: lenet((1, 8, 8), 10, nonlinearity="relu"),
    "lenet-tanh-avg-28": lambda: lenet((1, 28, 28), 10, nonlinearity="tanh", pool="avg"),
    "lenet-sigmoid-8": lambda: lenet((2, 8, 8), 4, nonlinearity="sigmoid", init="xavier"),
    "mlp-0-8": lambda: mlp((1, 8, 8), 10, hidden_layers=0),
    "mlp-2-tanh-28": lambda: mlp((1, 28, 28), 10, hidden_layers=2, width=16, nonlinearity="tanh"),
    "mlp-4-sigmoid-8": lambda: mlp((1, 8, 8), 10, hidden_layers=4, width=12, nonlinearity="sigmoid"),
    "cnn-vanishing-sigmoid-8": lambda: cnn((1, 8, 8), 10, depth=16, channels=2, nonlinearity="sigmoid"),
    "cnn-residual-stride-crop-28": lambda: cnn((1, 28, 28), 10, depth=3, channels=3, kernel=3, stride=2, padding=0,
                                                residual=True, nonlinearity="tanh", init="kaiming"),
    "cnn-residual-bn-avg-28": lambda: cnn((1, 28, 28), 10, depth=3, channels=3, pool="avg", residual=True,
                                           batch_norm=True),
}
for nonlinearity in ("relu", "tanh", "sigmoid"):
    for residual in (False, True):
        for batch_norm in (False, True):
            name = f"cnn-{'residual' if residual else 'plain'}-{nonlinearity}{'-bn' if batch_norm else ''}-8"
            CASES[name] = functools.partial(cnn, (1, 8, 8), 10, depth=3, channels=4, pool="max",
                                            nonlinearity=nonlinearity, residual=residual, batch_norm=batch_norm,
                                            seed=len(CASES))


@functools.lru_cache(maxsize=None)
def measured(case: str):
    """(model, images, labels, probe result); the inputs drawn from a generator per case."""
    model = CASES[case]()
    g = torch.Generator().manual_seed(sorted(CASES).index(case))
    if model.batch_norm:
        # batch norm after training has moved its scale and shift away from (1, 0)
        with torch.no_grad():
            for layer in model.layers:
                if getattr(layer, "norm", None) is not None:
                    layer.norm.weight.copy_(1 + 0.5 * torch.randn(layer.norm.weight.shape, generator=g))
                    layer.norm.bias.copy_(0.3 * torch.randn(layer.norm.bias.shape, generator=g))
    batch = 5
    images = torch.rand((batch,) + model.plan.input_shape, generator=g)
    labels = torch.randint(0, model.plan.classes, (batch,), generator=g)
    return model, images, labels, depth_probe(model, images, labels)


@functools.lru_cache(maxsize=None)
def reference(case):
    model, images, labels, _ = measured(case)
    return brute_force(model, images, labels)


def assert_rel(actual, expected, what, rtol=RTOL):
    actual, expected = np.asarray(actual, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    assert actual.shape == expected.shape, what
    assert np.all(np.isfinite(actual)), what
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=1e-35, err_msg=what)


@pytest.mark.parametrize("case", CASES)
def test_series_names_and_shapes(case):
    model, *_, result = measured(case)
    layers = len(model.layers)
    convs = model.conv_layers()
    expected = {"layer_grad_norm", "weight_grad_norm", "activation_norm", "dead_fraction"}
    expected |= {f"filters/layer{k}" for k in convs}
    assert set(result) == expected
    for name in ("layer_grad_norm", "activation_norm", "dead_fraction"):
        assert result[name].shape == (layers,) and result[name].dtype == np.float64, name
    assert result["weight_grad_norm"].shape == (layers + 1,)
    for k in convs:
        assert result[f"filters/layer{k}"].dtype == np.float32


@pytest.mark.parametrize("case", CASES)
def test_gradient_norms_match_bruteforce(case):
    *_, result = measured(case)
    layer_norms, weight_norms, *_ = reference(case)
    assert weight_norms.min() > 0
    assert_rel(result["layer_grad_norm"], layer_norms, "layer_grad_norm")
    assert_rel(result["weight_grad_norm"], weight_norms, "weight_grad_norm")


def test_the_agreement_holds_where_float32_squares_underflow():
    """A deep plain sigmoid net's first gradients are near 1e-16, their components' squares
    below float32's range: the norms are measured in float64 there."""
    *_, result = measured("cnn-vanishing-sigmoid-8")
    assert result["weight_grad_norm"][0] < 1e-15
    assert result["layer_grad_norm"][0] < 1e-14


def test_norms_of_tiny_and_huge_rows():
    rows = torch.tensor([[3e-25, 4e-25], [3e25, 4e25], [3.0, 4.0], [float("inf"), 0.0]])
    np.testing.assert_allclose(_norm(rows).numpy(), [5e-25, 5e25, 5.0, float("inf")], rtol=1e-7)


@pytest.mark.parametrize("case", CASES)
def test_filters_are_the_weights(case):
    model, *_, result = measured(case)
    for k in model.conv_layers():
        np.testing.assert_array_equal(result[f"filters/layer{k}"], model.layers[k].conv.weight.detach().numpy())


@pytest.mark.parametrize("case", CASES)
def test_activation_norm_and_dead_fraction(case):
    model, *_, result = measured(case)
    *_, activations, outputs = reference(case)
    norms = [torch.linalg.vector_norm(o.double().flatten(1), dim=1).mean() for o in outputs]
    assert_rel(result["activation_norm"], np.array([float(n) for n in norms]), "activation_norm", rtol=1e-6)
    for k, activation in enumerate(activations):
        a = activation.double()
        if model.nonlinearity == "relu":
            strict = loose = activation == 0
        else:
            derivative = 1 - a * a if model.nonlinearity == "tanh" else a * (1 - a)
            # a unit within float32's error of the threshold may count either way
            strict, loose = derivative < 0.1 - 1e-6, derivative < 0.1 + 1e-6
        low = float(strict.double().flatten(1).mean(1).mean())
        high = float(loose.double().flatten(1).mean(1).mean())
        assert low - 1e-12 <= result["dead_fraction"][k] <= high + 1e-12, (case, k)


def test_dead_fraction_sees_dead_and_saturated_units():
    relu = cnn((1, 8, 8), 10, depth=2, channels=4)
    tanh = cnn((1, 8, 8), 10, depth=2, channels=4, nonlinearity="tanh")
    with torch.no_grad():
        relu.layers[0].conv.bias.fill_(-100.0)    # every unit of the first layer dead
        tanh.layers[0].conv.bias.fill_(5.0)       # every unit saturated: 1 - tanh(5)^2 < 0.1
        tanh.layers[1].conv.weight.zero_()
        tanh.layers[1].conv.bias.zero_()          # none: tanh(0) has derivative 1
    images, labels = torch.rand(3, 1, 8, 8), torch.tensor([0, 1, 2])
    assert depth_probe(relu, images, labels)["dead_fraction"][0] == 1.0
    np.testing.assert_array_equal(depth_probe(tanh, images, labels)["dead_fraction"], [1.0, 0.0])


@pytest.mark.parametrize("case", ["lenet-tanh-avg-28", "cnn-residual-relu-bn-8", "mlp-0-8"])
def test_chunks_of_images_give_the_same_numbers(case, monkeypatch):
    """A model too large for CHUNK_BYTES is measured a few images at a time."""
    model, images, labels, result = measured(case)
    monkeypatch.setattr(per_image, "CHUNK_BYTES", 1)   # one image at a time
    chunked = depth_probe(model, images, labels)
    for name in ("layer_grad_norm", "weight_grad_norm"):
        assert_rel(chunked[name], result[name], name, rtol=1e-6)
