"""Gate activations and saturation.

A gate that sits near 0 or 1 passes (or blocks) the error signal almost unchanged and has a
vanishing derivative; the fraction of saturated units says how much of the layer is stuck.
"""
from __future__ import annotations

import numpy as np
import torch

from gradscope.series import GATE, GATE_SATURATION, GATES

SATURATION_LOW, SATURATION_HIGH = 0.05, 0.95


def saturation(values: torch.Tensor, bounded_by_one: bool) -> torch.Tensor:
    """Fraction of saturated units per position, [B, T] -> averaged later.

    A sigmoid gate is saturated below 0.05 or above 0.95. The tanh candidate ranges over
    (-1, 1), so the same rule would call every unit near 0 saturated; it counts as saturated
    when |value| > 0.95, where its derivative 1 - g^2 is below 0.1.
    """
    if bounded_by_one:
        stuck = (values < SATURATION_LOW) | (values > SATURATION_HIGH)
    else:
        stuck = values.abs() > SATURATION_HIGH
    return stuck.double().mean(dim=-1)


def gate_series(arch: str, parts: dict[str, torch.Tensor], suffix: str) -> dict[str, np.ndarray]:
    results = {}
    for gate in GATES[arch]:
        values = parts[gate].detach()
        results[GATE.name(gate=gate) + suffix] = values[0].float().cpu().numpy()
        sigmoid = gate != "candidate"
        results[GATE_SATURATION.name(gate=gate) + suffix] = saturation(values, sigmoid).mean(0).cpu().numpy()
    return results


def activation_saturation(nonlinearity: str, derivative: torch.Tensor) -> np.ndarray:
    """For gateless cells: the fraction of units whose activation derivative is below 0.1
    (|h| > 0.949 for tanh), or is 0 (a dead ReLU unit)."""
    stuck = derivative.detach() < 0.1 if nonlinearity == "tanh" else derivative.detach() == 0
    return stuck.double().mean(dim=-1).mean(0).cpu().numpy()
