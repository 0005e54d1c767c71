"""Gradient clipping, measured: the norm before, the norm after, and whether it fired."""
from __future__ import annotations

from dataclasses import dataclass

import math

import torch


@dataclass(frozen=True)
class ClipResult:
    grad_norm: float          # total L2 norm of all parameter gradients before clipping
    grad_norm_clipped: float  # the same after clipping
    clipped: bool


def gradient_norms(parameters: dict[str, torch.nn.Parameter]) -> dict[str, float]:
    """The L2 norm of each parameter's gradient, in float64: the squares of a vanishing
    gradient's entries (~1e-19) fall below float32's range and would read as zero."""
    return {name: float(torch.linalg.vector_norm(p.grad.double()))
            for name, p in parameters.items() if p.grad is not None}


def clip_gradients(parameters: list[torch.nn.Parameter], mode: str, threshold: float,
                   norms: list[float] | None = None) -> ClipResult:
    """Clip in place; `norms` are the per-parameter gradient norms when already known."""
    grads = [p.grad for p in parameters if p.grad is not None]
    if not grads:
        return ClipResult(0.0, 0.0, False)
    if norms is None:
        norms = [float(torch.linalg.vector_norm(g.double())) for g in grads]
    before = torch.tensor(math.sqrt(math.fsum(n * n for n in norms)), dtype=torch.float64)
    fired = False
    if mode == "norm":
        fired = bool(before > threshold)
        if fired:
            torch.nn.utils.clip_grads_with_norm_(parameters, threshold, before)
    elif mode == "value":
        fired = any(bool((g.abs() > threshold).any()) for g in grads)
        if fired:
            torch.nn.utils.clip_grad_value_(parameters, threshold)
    if fired:
        after = torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g.double()) for g in grads]))
    else:
        after = before
    return ClipResult(float(before), float(after), fired)
