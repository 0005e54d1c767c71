"""Gradient clipping, measured: the norm before, the norm after, and whether it fired."""
from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class ClipResult:
    grad_norm: float          # total L2 norm of all parameter gradients before clipping
    grad_norm_clipped: float  # the same after clipping
    clipped: bool


def clip_gradients(parameters: list[torch.nn.Parameter], mode: str, threshold: float) -> ClipResult:
    grads = [p.grad for p in parameters if p.grad is not None]
    if not grads:
        return ClipResult(0.0, 0.0, False)
    before = torch.nn.utils.get_total_norm(grads)
    fired = False
    if mode == "norm":
        fired = bool(before > threshold)
        if fired:
            torch.nn.utils.clip_grads_with_norm_(parameters, threshold, before)
    elif mode == "value":
        fired = any(bool((g.abs() > threshold).any()) for g in grads)
        if fired:
            torch.nn.utils.clip_grad_value_(parameters, threshold)
    after = torch.nn.utils.get_total_norm(grads) if fired else before
    return ClipResult(float(before), float(after), fired)
