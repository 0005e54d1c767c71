"""What the depth probe tests share: denormals flushed as training and probes run them, and
the brute-force torch.autograd reference every depth series is checked against."""
from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from gradscope.models.denormals import flush_denormals


@pytest.fixture(autouse=True)
def flushed_denormals():
    """Flush denormals for the test (the flag is the thread's), then put the flag back as it was."""
    was = float(torch.tensor([1e-30]) * 1e-10) == 0.0
    flush_denormals()
    yield
    torch.set_flush_denormal(was)


def brute_force(model, images, labels):
    """Per image: the layer outputs' and the weights' gradient norms of its own loss, the
    activations and outputs of the ordinary forward pass (train mode, on a copy)."""
    model = copy.deepcopy(model).train()
    caught = {}

    def catch(index):
        def hook(module, inputs, result):
            activation, output = result
            output.retain_grad()
            caught[index] = (activation, output)
        return hook

    for index, layer in enumerate(model.layers):
        layer.register_forward_hook(catch(index))
    weights = model.weights()
    layer_norms, weight_norms = [], []
    for i in range(images.shape[0]):
        caught.clear()
        for parameter in model.parameters():
            parameter.grad = None
        logits = model(images)
        F.cross_entropy(logits[i:i + 1], labels[i:i + 1]).backward()
        layer_norms.append([float(torch.linalg.vector_norm(caught[k][1].grad.double()))
                            for k in range(len(model.layers))])
        weight_norms.append([float(torch.linalg.vector_norm(w.grad.double())) for w in weights])
    activations = [caught[k][0].detach() for k in range(len(model.layers))]
    outputs = [caught[k][1].detach() for k in range(len(model.layers))]
    return (np.array(layer_norms).reshape(images.shape[0], -1).mean(0), np.array(weight_norms).mean(0),
            activations, outputs)
