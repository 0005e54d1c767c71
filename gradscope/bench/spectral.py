"""The full per-timestep spectral profile against the naive way.

Naive: for every step, torch.autograd.functional.jacobian of the cell map s_{t-1} -> s_t,
products accumulated in float64, and torch.linalg.matrix_norm(ord=2) of every step Jacobian
and every product. Ours: analytic step Jacobians, backward products, Lanczos and warm power
iteration (gradscope.probes.jacobians). Both for one sequence of an LSTM, and both must give
the same numbers.
"""
from __future__ import annotations

import time

import numpy as np
import torch

from gradscope.models.recurrent import RecurrentNet
from gradscope.probes.jacobians import StepJacobians, jacobian_profile


def _naive(model: RecurrentNet, inputs: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    hidden = model.hidden
    weights = model.layer_weights(0, 0)
    trace = model.unrolled(inputs).traces[(0, 0)]
    h_prev = torch.cat([torch.zeros(1, hidden), torch.stack(trace.states, 1)[0, :-1].detach()])
    c_prev = trace.parts["cell_prev"][0].detach()
    steps = []
    for t in range(inputs.shape[1]):
        x_t = inputs[0, t]

        def cell(state, x_t=x_t):
            h, c = state[:hidden], state[hidden:]
            gates = (weights["weight_ih"] @ x_t + weights["bias_ih"] + weights["weight_hh"] @ h + weights["bias_hh"])
            i, f, g, o = gates.chunk(4)
            c_new = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
            return torch.cat([torch.sigmoid(o) * torch.tanh(c_new), c_new])

        state = torch.cat([h_prev[t], c_prev[t]]).detach()
        steps.append(torch.autograd.functional.jacobian(cell, state).double())
    step_norms = torch.linalg.matrix_norm(torch.stack(steps), ord=2)
    length = len(steps)
    product = torch.eye(2 * hidden, dtype=torch.float64)
    products = [product]
    for t in range(length - 1, 0, -1):
        product = product @ steps[t]
        products.append(product)
    product_norms = torch.linalg.matrix_norm(torch.stack(products[::-1]), ord=2)
    return product_norms.numpy(), step_norms.numpy()


def _ours(model: RecurrentNet, inputs: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    with torch.no_grad():
        trace = model.unrolled(inputs).traces[(0, 0)]
    steps = StepJacobians("lstm", trace.parts, model.recurrent_matrices(0, 0), reverse=False)
    profile = jacobian_profile(steps)
    return profile.jacobian_norm[0].numpy(), profile.step_jacobian_norm[0].numpy()


def measure(quick: bool, say) -> dict:
    hidden, length = (16, 20) if quick else (128, 200)
    say(f"bench: spectral profile LSTM H={hidden} T={length} ...")
    torch.manual_seed(0)
    model = RecurrentNet("lstm", 2, hidden, 1)
    inputs = torch.randn(1, length, 2)
    _ours(model, inputs)
    began = time.perf_counter()
    repeats = 3
    for _ in range(repeats):
        ours = _ours(model, inputs)
    ours_seconds = (time.perf_counter() - began) / repeats
    began = time.perf_counter()
    naive = _naive(model, inputs)
    naive_seconds = time.perf_counter() - began
    differences = [np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-300)) for a, b in zip(ours, naive)]
    return {
        "model": f"LSTM H={hidden} T={length}, one sequence",
        "speedup": round(naive_seconds / ours_seconds, 1),
        "ours_s": round(ours_seconds, 4),
        "naive_s": round(naive_seconds, 3),
        "max_relative_difference": float(max(differences)),
    }
