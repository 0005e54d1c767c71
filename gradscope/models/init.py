"""Initialisations that set where the recurrent Jacobians start: torch's default, orthogonal
recurrent weights scaled to a spectral radius rho, a scaled identity (IRNN), and the LSTM
forget-gate bias.

With rho * Q (Q orthogonal) every singular value and every eigenvalue modulus of the recurrent
matrix is rho, so a tanh RNN near h = 0 multiplies the error signal by rho per step: the
lecture's 0.5^t and 1.5^t.
"""
from __future__ import annotations

import torch

from gradscope.config import RunConfig
from gradscope.models.recurrent import RecurrentNet
from gradscope.series import GATES


def _scaled_blocks(weight: torch.Tensor, gates: int, kind: str, rho: float, generator: torch.Generator) -> None:
    hidden = weight.shape[1]
    for block in weight.data.chunk(gates, dim=0):
        if kind == "identity":
            block.copy_(rho * torch.eye(hidden))
        else:
            gaussian = torch.randn(hidden, hidden, generator=generator, dtype=torch.float64)
            q, r = torch.linalg.qr(gaussian)
            q = q * torch.sign(torch.diagonal(r))  # Haar-distributed, not biased by QR's sign convention
            block.copy_((rho * q).to(block.dtype))


def initialise(model: RecurrentNet, config: RunConfig, generator: torch.Generator) -> None:
    gates = len(GATES.get(model.arch, ("h",)))
    with torch.no_grad():
        for layer in range(model.layers):
            for direction in range(model.directions):
                weights = model.layer_weights(layer, direction)
                if config.init != "default":
                    if model.arch == "jordan":
                        # the effective recurrence W_hy W_yh becomes rho * Q (or rho * I)
                        _scaled_blocks(weights["weight_hy"], 1, config.init, config.rho, generator)
                        weights["weight_yh"].copy_(torch.eye(model.hidden))
                    else:
                        _scaled_blocks(weights["weight_hh"], gates, config.init, config.rho, generator)
                    if config.init == "identity":
                        # IRNN (Le et al. 2015) starts with zero biases
                        for key, value in weights.items():
                            if key.startswith("bias"):
                                value.zero_()
                if model.arch == "lstm" and config.forget_bias is not None:
                    hidden = model.hidden
                    weights["bias_ih"][hidden:2 * hidden] = config.forget_bias
                    weights["bias_hh"][hidden:2 * hidden] = 0.0
