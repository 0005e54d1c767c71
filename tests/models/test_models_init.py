"""Initialisations (orthogonal, identity, forget bias) and deterministic `build`."""
from __future__ import annotations

import itertools

import pytest
import torch

import gradscope.models
import gradscope.tasks
from gradscope.config import RunConfig
from rnn_reference import layer_params

ARCHS = ("rnn", "jordan", "lstm", "gru")
BLOCKS = {"rnn": 1, "jordan": 1, "lstm": 4, "gru": 3}


def recurrent_blocks(model, layer, direction):
    """The square recurrent blocks, read from the parameters by name."""
    p = layer_params(model, layer, direction)
    if model.arch == "jordan":
        return [p["weight_hy"] @ p["weight_yh"]]
    return list(p["weight_hh"].chunk(BLOCKS[model.arch], 0))


def config(**changes):
    base = dict(task="adding", seq_len=10, hidden=6, layers=2, bidirectional=True, seed=3)
    base.update(changes)
    return RunConfig(**base)


@pytest.mark.parametrize("arch,rho", list(itertools.product(ARCHS, (0.5, 1.0, 1.5))))
def test_orthogonal_init_sets_radius_and_norm(arch, rho):
    model = gradscope.models.build(config(arch=arch, init="orthogonal", rho=rho))
    for layer, direction in itertools.product(range(2), range(2)):
        blocks = recurrent_blocks(model, layer, direction)
        assert len(blocks) == BLOCKS[arch]
        for block in blocks:
            radius = torch.linalg.eigvals(block).abs()
            singular = torch.linalg.svdvals(block)
            # rho * Q: every eigenvalue modulus and every singular value is rho
            torch.testing.assert_close(radius, torch.full_like(radius, rho), rtol=1e-5, atol=0)
            torch.testing.assert_close(singular, torch.full_like(singular, rho), rtol=1e-5, atol=0)
        # and the blocks are not all the same matrix
        if len(blocks) > 1:
            assert not torch.allclose(blocks[0], blocks[1])


def test_orthogonal_init_is_not_identity_and_differs_per_layer():
    model = gradscope.models.build(config(arch="rnn", init="orthogonal", rho=1.0))
    a = recurrent_blocks(model, 0, 0)[0]
    b = recurrent_blocks(model, 1, 0)[0]
    assert not torch.allclose(a, torch.eye(6, dtype=a.dtype), atol=1e-3)
    assert not torch.allclose(a, b, atol=1e-3)


@pytest.mark.parametrize("arch,rho", list(itertools.product(ARCHS, (0.7, 1.2))))
def test_identity_init_is_scaled_identity_with_zero_biases(arch, rho):
    model = gradscope.models.build(config(arch=arch, init="identity", rho=rho))
    eye = torch.eye(6, dtype=torch.float64)
    for layer, direction in itertools.product(range(2), range(2)):
        for block in recurrent_blocks(model, layer, direction):
            torch.testing.assert_close(block, rho * eye, rtol=1e-6, atol=1e-7)
        for name, value in layer_params(model, layer, direction).items():
            if name.startswith("bias"):
                assert torch.count_nonzero(value) == 0, name


@pytest.mark.parametrize("init", ("default", "orthogonal", "identity"))
@pytest.mark.parametrize("forget_bias", (1.0, -2.5))
def test_forget_bias_sets_the_forget_gate_bias(init, forget_bias):
    model = gradscope.models.build(config(arch="lstm", init=init, forget_bias=forget_bias))
    H = 6
    for layer, direction in itertools.product(range(2), range(2)):
        p = layer_params(model, layer, direction)
        total = p["bias_ih"] + p["bias_hh"]
        torch.testing.assert_close(total[H:2 * H], torch.full((H,), forget_bias, dtype=total.dtype))
    # with the bias set, the forget gate at h = 0, x = 0 is sigmoid(forget_bias)
    x = torch.zeros(1, 1, 2)
    trace = model.unrolled(x).traces[(0, 0)]
    torch.testing.assert_close(trace.parts["forget"][0, 0], torch.full((H,), torch.sigmoid(torch.tensor(forget_bias)).item()))


def test_no_forget_bias_leaves_default_biases():
    model = gradscope.models.build(config(arch="lstm"))
    p = layer_params(model, 0, 0)
    # torch's default U(-1/sqrt(H), 1/sqrt(H)): nonzero and small
    assert torch.count_nonzero(p["bias_ih"]) == p["bias_ih"].numel()
    assert float(p["bias_ih"].abs().max()) <= 1 / 6 ** 0.5


@pytest.mark.parametrize("arch", ARCHS)
@pytest.mark.parametrize("init", ("default", "orthogonal", "identity"))
def test_build_is_deterministic(arch, init):
    cfg = config(arch=arch, init=init)
    torch.manual_seed(123)
    first = gradscope.models.build(cfg).state_dict()
    torch.manual_seed(456)   # the global stream must not matter
    second = gradscope.models.build(cfg).state_dict()
    assert list(first) == list(second)
    for name in first:
        assert torch.equal(first[name], second[name]), name
    other = gradscope.models.build(cfg.replace(seed=4)).state_dict()
    if init != "identity":
        assert any(not torch.equal(first[n], other[n]) for n in first)
    else:
        # identity fixes the recurrence, but the input weights and head still follow the seed
        assert any(not torch.equal(first[n], other[n]) for n in first if "ih" in n or "head" in n)


def test_build_does_not_move_the_global_rng():
    torch.manual_seed(7)
    expected = torch.rand(3)
    torch.manual_seed(7)
    gradscope.models.build(config(arch="lstm", init="orthogonal"))
    torch.testing.assert_close(torch.rand(3), expected)


def test_build_uses_task_sizes():
    cfg = config(arch="gru", layers=1, bidirectional=False)
    task = gradscope.tasks.build(cfg)
    model = gradscope.models.build(cfg, task)
    x, target = task.sample(4, torch.Generator().manual_seed(0))
    out = model(x)
    assert out.shape == target.shape
    assert model.head.in_features == 6 and model.head.out_features == task.output_size
