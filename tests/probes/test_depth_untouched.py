"""A depth probe or an evaluation leaves the model as it found it: parameters, their .grad,
batch norm's running statistics, every module's train/eval mode, and torch's global RNG."""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from gradscope.models.feedforward import cnn, lenet, mlp
from gradscope.probes.depth import depth_probe
from gradscope.probes.evaluation import classification_metrics

MODELS = {
    "cnn-bn": lambda: cnn((1, 8, 8), 10, depth=3, channels=4, batch_norm=True, residual=True, pool="max"),
    "cnn": lambda: cnn((1, 8, 8), 10, depth=3, channels=4, nonlinearity="tanh"),
    "lenet": lambda: lenet((1, 8, 8), 10),
    "mlp": lambda: mlp((1, 8, 8), 10, hidden_layers=2, width=6),
}


def snapshot(model):
    return ({name: value.detach().clone() for name, value in model.state_dict().items()},
            {name: None if p.grad is None else p.grad.clone() for name, p in model.named_parameters()},
            [module.training for module in model.modules()], torch.get_rng_state())


def assert_same(before, after):
    (state, grads, modes, rng), (state2, grads2, modes2, rng2) = before, after
    for name in state:
        assert torch.equal(state[name], state2[name]), name
    for name in grads:
        assert (grads[name] is None) == (grads2[name] is None), name
        if grads[name] is not None:
            assert torch.equal(grads[name], grads2[name]), name
    assert modes == modes2
    assert torch.equal(rng, rng2)


@pytest.mark.parametrize("arch", MODELS)
@pytest.mark.parametrize("mode", ["train", "eval", "mixed"])
@pytest.mark.parametrize("with_grads", [False, True])
def test_probe_and_evaluation_leave_the_model_alone(arch, mode, with_grads):
    model = MODELS[arch]()
    images, labels = torch.rand(6, 1, 8, 8), torch.randint(0, 10, (6,))
    model.train()
    if with_grads:   # a training step's gradients, still to be applied
        F.cross_entropy(model(images), labels).backward()
    model.train(mode == "train")
    if mode == "mixed":
        model.layers[0].train()
    before = snapshot(model)
    trained = depth_probe(model, images, labels)
    assert_same(before, snapshot(model))
    classification_metrics(model, images, labels, batch_size=4)
    assert_same(before, snapshot(model))
    # the probe means train mode whatever mode it finds the model in
    model.train()
    again = depth_probe(model, images, labels)
    for name in trained:
        assert (trained[name] == again[name]).all(), name


def test_the_probe_works_inside_no_grad():
    model = MODELS["cnn-bn"]()
    images, labels = torch.rand(4, 1, 8, 8), torch.randint(0, 10, (4,))
    expected = depth_probe(model, images, labels)
    with torch.no_grad():
        result = depth_probe(model, images, labels)
    for name in expected:
        assert (expected[name] == result[name]).all(), name
