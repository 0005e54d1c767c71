"""The conv and dense models: their settings' validation, deterministic initialisation, the
residual shortcut, the order of their layers and weights, and the denormal flag."""
from __future__ import annotations

import math

import pytest
import torch

from gradscope.models.conv import aligned_shortcut
from gradscope.models.denormals import flush_denormals
from gradscope.models.feedforward import cnn, lenet, mlp


@pytest.mark.parametrize("build,kwargs,message", [
    (cnn, dict(depth=1), "cnn depth (conv layers) must be between 2 and 20, got 1"),
    (cnn, dict(depth=21), "cnn depth (conv layers) must be between 2 and 20, got 21"),
    (cnn, dict(depth=3.5), "cnn depth (conv layers) must be a whole number, got 3.5"),
    (cnn, dict(channels=0), "cnn channels must be between 1 and 512, got 0"),
    (cnn, dict(kernel=0), "cnn kernel size must be between 1 and 11, got 0"),
    (cnn, dict(stride=0), "cnn stride must be between 1 and 4, got 0"),
    (cnn, dict(kernel=3, padding=3), "cnn padding must be between 0 and 2, got 3"),
    (cnn, dict(pool="median"), "pool must be one of max, avg, none, got 'median'"),
    (cnn, dict(nonlinearity="gelu"), "the nonlinearity must be one of relu, tanh, sigmoid, got 'gelu'"),
    (cnn, dict(init="he"), "init must be one of default, kaiming, xavier, got 'he'"),
    (cnn, dict(batch_norm="yes"), "batch_norm must be true or false, got 'yes'"),
    (cnn, dict(residual=1), "residual must be true or false, got 1"),
    (mlp, dict(hidden_layers=5), "mlp hidden layers must be between 0 and 4, got 5"),
    (mlp, dict(width=0), "mlp width must be between 1 and 4096, got 0"),
    (lenet, dict(pool="sum"), "pool must be one of max, avg, none, got 'sum'"),
])
def test_settings_are_validated_with_clear_messages(build, kwargs, message):
    with pytest.raises(ValueError) as refusal:
        build((1, 8, 8), 10, **kwargs)
    assert str(refusal.value) == message


@pytest.mark.parametrize("input_shape,classes,message", [
    ((8, 8), 10, "the input shape must be (channels, height, width), got (8, 8)"),
    ((1, 0, 8), 10, "input height must be between 1 and 4096, got 0"),
    ((1, 8, 8), 1, "the number of classes must be between 2 and 10000, got 1"),
])
def test_the_input_is_validated(input_shape, classes, message):
    with pytest.raises(ValueError) as refusal:
        mlp(input_shape, classes)
    assert str(refusal.value) == message


MODELS = {
    "lenet": lambda **kw: lenet((1, 8, 8), 10, **kw),
    "cnn": lambda **kw: cnn((1, 8, 8), 10, depth=4, channels=4, batch_norm=True, residual=True, **kw),
    "mlp": lambda **kw: mlp((1, 8, 8), 10, hidden_layers=2, width=8, **kw),
}


@pytest.mark.parametrize("arch", MODELS)
@pytest.mark.parametrize("init", ["default", "kaiming", "xavier"])
def test_initialisation_is_deterministic_and_leaves_the_global_rng(arch, init):
    before = torch.get_rng_state()
    a, b, c = (MODELS[arch](init=init, seed=seed) for seed in (3, 3, 4))
    assert torch.equal(torch.get_rng_state(), before)
    for (name, x), (_, y), (_, z) in zip(a.state_dict().items(), b.state_dict().items(), c.state_dict().items()):
        assert torch.equal(x, y), name
        if name.endswith("weight") and "norm" not in name:
            assert not torch.equal(x, z), name


def test_initialisations_have_their_scales():
    g = dict(depth=2, channels=64, kernel=5, nonlinearity="tanh")
    fan_in = 64 * 25

    def conv(init, **changes):
        layer = cnn((1, 8, 8), 10, init=init, **dict(g, **changes)).layers[1].conv
        return layer.weight.detach(), layer.bias.detach()

    weight, bias = conv("default")
    # torch's default: uniform within 1/sqrt(fan_in), weights and biases alike
    assert float(weight.abs().max()) <= 1 / math.sqrt(fan_in)
    assert float(weight.std()) == pytest.approx(1 / math.sqrt(3 * fan_in), rel=0.05)
    assert float(bias.abs().max()) <= 1 / math.sqrt(fan_in)
    weight, bias = conv("kaiming")
    assert float(weight.std()) == pytest.approx((5 / 3) / math.sqrt(fan_in), rel=0.05)
    assert torch.count_nonzero(bias) == 0
    weight, _ = conv("kaiming", nonlinearity="relu")
    assert float(weight.std()) == pytest.approx(math.sqrt(2 / fan_in), rel=0.05)
    weight, bias = conv("xavier")
    bound = math.sqrt(6 / (fan_in + 64 * 25))
    assert float(weight.abs().max()) <= bound
    assert float(weight.std()) == pytest.approx(bound / math.sqrt(3), rel=0.05)
    assert torch.count_nonzero(bias) == 0


def test_layers_and_weights_are_ordered_from_the_input():
    model = lenet((1, 28, 28), 10)
    assert model.layer_names == ["conv layer 1", "conv layer 2", "dense layer 1", "dense layer 2"]
    assert model.conv_layers() == [0, 1]
    assert [tuple(w.shape) for w in model.weights()] == [(6, 1, 5, 5), (16, 6, 5, 5), (120, 784), (84, 120), (10, 84)]
    assert model.weight_names() == ["layers.0.conv.weight", "layers.1.conv.weight", "layers.2.linear.weight",
                                    "layers.3.linear.weight", "head.linear.weight"]
    deep = cnn((1, 8, 8), 10, depth=5, channels=3)
    assert len(deep.layers) == 5 and len(deep.weights()) == 6 and deep.conv_layers() == [0, 1, 2, 3, 4]
    assert [w.shape[0] for w in mlp((1, 8, 8), 10, hidden_layers=3, width=7).weights()] == [7, 7, 7, 10]


def test_only_the_layers_after_the_first_have_skips():
    model = cnn((3, 8, 8), 10, depth=4, channels=5, residual=True)
    assert [layer.residual for layer in model.layers] == [False, True, True, True]
    assert not any(layer.residual for layer in cnn((3, 8, 8), 10, depth=4, residual=False).layers)


def test_a_same_convolution_adds_its_input_back_unchanged():
    model = cnn((1, 8, 8), 10, depth=3, channels=4, residual=True, nonlinearity="tanh")
    x = torch.randn(2, 4, 8, 8)
    with torch.no_grad():
        activation, output = model.layers[1](x)
    torch.testing.assert_close(output - activation, x, rtol=0, atol=1e-6)


def test_the_aligned_shortcut_crops_subsamples_and_pads():
    x = torch.arange(36.0).view(1, 1, 6, 6)
    # unpadded 3x3: the centre crop
    assert torch.equal(aligned_shortcut(x, (4, 4), 1, 3, 0), x[..., 1:5, 1:5])
    # "same" 3x3 at stride 2: every other pixel, ResNet's subsampling
    assert torch.equal(aligned_shortcut(x, (3, 3), 2, 3, 1), x[..., ::2, ::2])
    # padded beyond "same": the map grows, zeros around it
    grown = aligned_shortcut(x, (8, 8), 1, 3, 2)
    assert torch.equal(grown[..., 1:7, 1:7], x) and float(grown.abs().sum()) == float(x.sum())
    # an even kernel: window centres sit at (K - 1) // 2 - P
    assert torch.equal(aligned_shortcut(x, (5, 5), 1, 2, 0), x[..., :5, :5])


def test_flush_denormals_flushes_float32_denormals():
    tiny = torch.tensor([1e-30], dtype=torch.float32)
    try:
        assert flush_denormals() is True
        assert float(tiny * 1e-10) == 0.0
    finally:
        torch.set_flush_denormal(False)
    assert float(tiny * 1e-10) != 0.0
