"""One probe: every probed quantity of the series registry (`gradscope.series`) on the fixed
probe batch, for every layer and direction, from the training weights.

The unrolled twin of the model runs the probe batch forward; autograd gives the total error
signal dL/dh_t at every step (the fused modules only expose the direct term); the step
Jacobians are built analytically from the saved activations and multiplied backward.
"""
from __future__ import annotations

import numpy as np
import torch

from gradscope.probes.gates import activation_saturation, gate_series
from gradscope.probes.jacobians import StepJacobians, cell_jacobian_norm, jacobian_profile
from gradscope.probes.weights import weight_spectra
from gradscope.series import (ACTIVATION_SATURATION, CELL_JACOBIAN_NORM, HIDDEN_GRAD_NORM, JACOBIAN_NORM,
                              STEP_JACOBIAN_NORM, layer_suffix)


def _batch_mean(per_sequence: torch.Tensor) -> np.ndarray:
    return per_sequence.double().mean(dim=0).cpu().numpy()


class Probe:
    """Measures a model on a fixed probe batch; call it with the current weights in place."""

    def __init__(self, model, task, probe_inputs: torch.Tensor, probe_targets: torch.Tensor, seed: int = 0):
        self.model = model
        self.task = task
        self.inputs = probe_inputs
        self.targets = probe_targets
        self.seed = seed

    def __call__(self) -> dict[str, np.ndarray]:
        model = self.model
        batch = self.inputs.shape[0]
        with torch.enable_grad():
            unrolled = model.unrolled(self.inputs)
            # the sum of per-sequence losses, so each sequence's dL/dh_t is its own error signal
            loss = self.task.loss(unrolled.output, self.targets) * batch
            keys = list(unrolled.traces)
            states = [state for key in keys for state in unrolled.traces[key].states]
            grads = torch.autograd.grad(loss, states, allow_unused=True)
        results: dict[str, np.ndarray] = {}
        offset = 0
        for layer, direction in keys:
            trace = unrolled.traces[(layer, direction)]
            length = len(trace.states)
            layer_grads = [g if g is not None else torch.zeros_like(s)
                           for g, s in zip(grads[offset:offset + length], trace.states)]
            offset += length
            suffix = layer_suffix(layer, direction, model.layers)
            # float64: a vanishing gradient's components near 1e-19 square below float32's range
            hidden_grad = torch.stack([g.detach() for g in layer_grads], dim=1).double()
            results[HIDDEN_GRAD_NORM.name() + suffix] = _batch_mean(torch.linalg.vector_norm(hidden_grad, dim=-1))
            steps = StepJacobians(model.arch, trace.parts, model.recurrent_matrices(layer, direction),
                                  reverse=bool(direction))
            profile = jacobian_profile(steps, seed=self.seed)
            results[JACOBIAN_NORM.name() + suffix] = _batch_mean(profile.jacobian_norm)
            results[STEP_JACOBIAN_NORM.name() + suffix] = _batch_mean(profile.step_jacobian_norm)
            if model.arch in ("lstm", "gru"):
                results.update(gate_series(model.arch, trace.parts, suffix))
            else:
                results[ACTIVATION_SATURATION.name() + suffix] = activation_saturation(
                    model.nonlinearity, trace.parts["derivative"])
            if model.arch == "lstm":
                results[CELL_JACOBIAN_NORM.name() + suffix] = _batch_mean(
                    cell_jacobian_norm(trace.parts["forget"], reverse=bool(direction)))
        results.update(weight_spectra(model))
        return results
