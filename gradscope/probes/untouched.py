"""A probe measures a model without changing it: not its parameters or their .grad (probes
use torch.autograd.grad and torch.func, which return gradients instead of accumulating
them), not its train/eval mode, not torch's global RNG (the next training batch must not
depend on whether a probe ran). Batch norm's running statistics are kept apart by the probe
itself (`per_image`)."""
from __future__ import annotations

import contextlib

import torch


@contextlib.contextmanager
def measuring(model, training: bool):
    """Run the body with every module of `model` in train (or eval) mode, then put each
    module's own mode back, and torch's CPU RNG state with it."""
    modes = [(module, module.training) for module in model.modules()]
    try:
        with torch.random.fork_rng(devices=[]):
            model.train(training)
            yield
    finally:
        for module, mode in modes:
            module.training = mode
