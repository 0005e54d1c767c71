"""Spectral radius and largest singular value of each recurrent weight matrix.

A tanh RNN can only keep its error signal alive for long when the largest singular value of
W_hh is near or above 1 (the lecture's bound ||dh_t/dh_k|| <= (sigma_max * max tanh')^(t-k)).
"""
from __future__ import annotations

import numpy as np
import torch

from gradscope.series import MAX_SINGULAR_VALUE, SPECTRAL_RADIUS, layer_suffix


def weight_spectra(model) -> dict[str, np.ndarray]:
    results: dict[str, np.ndarray] = {}
    for layer in range(model.layers):
        for direction in range(model.directions):
            matrices = model.recurrent_matrices(layer, direction)
            stacked = torch.stack([m.detach() for m in matrices.values()]).double()
            finite = torch.isfinite(stacked).flatten(1).all(-1)
            # a NaN in one gate's block must not hide the spectra of the others
            cleaned = torch.where(finite[:, None, None], stacked, torch.zeros_like(stacked))
            nan = torch.full((len(matrices),), float("nan"), dtype=torch.float64)
            radius = torch.where(finite, torch.linalg.eigvals(cleaned).abs().amax(dim=-1), nan)
            singular = torch.where(finite, torch.linalg.eigvalsh(cleaned.mT @ cleaned)[..., -1].clamp_min(0).sqrt(), nan)
            suffix = layer_suffix(layer, direction, model.layers)
            for index, name in enumerate(matrices):
                results[SPECTRAL_RADIUS.name(matrix=name) + suffix] = np.float64(radius[index].item())
                results[MAX_SINGULAR_VALUE.name(matrix=name) + suffix] = np.float64(singular[index].item())
    return results
