"""The depth probes of a convolutional or dense run: how the error signal and the weight
gradients shrink (or not) from the classifier back to the input, layer by layer.

On the probe batch (images [B, C, H, W], labels [B]), with L_i image i's cross entropy:

| name | shape | meaning |
|---|---|---|
| `layer_grad_norm` | [L] | |dL_i/d(output of layer l)|, averaged over the images |
| `weight_grad_norm` | [L_w] | |dL_i/dW_l| of each conv or dense weight, from the input on, the classifier's last |
| `activation_norm` | [L] | |output of layer l| per image, averaged |
| `dead_fraction` | [L] | the fraction of the layer's nonlinearity units that pass no gradient |
| `filters/layer<k>` | [C_out, C_in, K, K] | conv layer k's weight |

Layers are counted from 0 (the layer named "conv layer 1" is layer0). A layer's output is its
block's, after the nonlinearity and after a residual block's skip addition. L_w = L + 1: every
layer has one weight and the classifier has the last.

A unit is dead when its nonlinearity's derivative is (almost) zero, measured on the
activation, before any skip addition: a ReLU unit whose output is exactly 0, a tanh or
sigmoid unit whose derivative (1 - a^2, a(1 - a)) is below 0.1, as the recurrent probes count
`activation_saturation`.

The feature maps are of a test image, not of the probe batch: `strip` records them.

The probe runs in train mode, so that batch norm normalises with the probe batch's own
statistics as a training step does; `per_image` says what image i's gradient is then.
"""
from __future__ import annotations

import numpy as np
import torch

from gradscope.probes.per_image import per_image_gradients, probe_forward
from gradscope.probes.untouched import measuring

LAYER_GRAD_NORM = "layer_grad_norm"
WEIGHT_GRAD_NORM = "weight_grad_norm"
ACTIVATION_NORM = "activation_norm"
DEAD_FRACTION = "dead_fraction"
FILTERS = "filters/layer{k}"
DERIVATIVE_THRESHOLD = 0.1


def dead_units(nonlinearity: str, activation: torch.Tensor) -> torch.Tensor:
    """True where a unit passes (almost) no gradient back through its nonlinearity."""
    if nonlinearity == "relu":
        return activation == 0
    derivative = 1 - activation * activation if nonlinearity == "tanh" else activation * (1 - activation)
    return derivative < DERIVATIVE_THRESHOLD


def _per_layer(values: list[torch.Tensor]) -> np.ndarray:
    """[L] from L tensors of per-image values [B]: their means over the images."""
    if not values:
        return np.zeros(0, dtype=np.float64)
    return torch.stack(values, dim=1).double().mean(dim=0).cpu().numpy()


def depth_probe(model, images: torch.Tensor, labels: torch.Tensor) -> dict[str, np.ndarray]:
    """Every depth series of `model` on the probe batch; the model is left as it was."""
    with measuring(model, training=True):
        gradients = per_image_gradients(model, images, labels)
        trace = probe_forward(model, images)
    results = {
        LAYER_GRAD_NORM: gradients.layer_grad_norm.mean(dim=0).cpu().numpy(),
        WEIGHT_GRAD_NORM: gradients.weight_grad_norm.mean(dim=0).cpu().numpy(),
        ACTIVATION_NORM: _per_layer([torch.linalg.vector_norm(output.double().flatten(1), dim=1)
                                     for output in trace.outputs]),
        DEAD_FRACTION: _per_layer([dead_units(model.nonlinearity, activation).flatten(1).double().mean(dim=1)
                                   for activation in trace.activations]),
    }
    for k in model.conv_layers():
        results[FILTERS.format(k=k)] = model.layers[k].weight.detach().float().cpu().numpy().copy()
    return results
