"""Optimisers by name, and their state as flat named numpy arrays for checkpoints.

A checkpoint must restore the optimiser exactly (momentum buffers, Adam moments, step
counts) so that a fork from a checkpoint reproduces its parent; nothing may be pickled, so
the state dict is flattened to `optimizer/<param index>/<key>` arrays.
"""
from __future__ import annotations

import numpy as np
import torch

from gradscope.config import LiveSettings, RunConfig


RULES = {"sgd": torch.optim.SGD, "momentum": torch.optim.SGD, "rmsprop": torch.optim.RMSprop, "adam": torch.optim.Adam}
# the live settings each update rule takes from the configuration, at the start and whenever
# one changes between two steps (plain SGD has no momentum to change, Adam's are its betas)
LIVE_HYPERPARAMETERS = {"sgd": ("lr", "weight_decay"), "momentum": ("lr", "momentum", "weight_decay"),
                        "rmsprop": ("lr", "weight_decay"), "adam": ("lr", "weight_decay")}
# what each rule keeps per parameter, as `optimizer_arrays` names it ("step" is a scalar, the
# rest have their parameter's shape): a checkpoint entry of another name is damage
STATE_KEYS = {torch.optim.SGD: frozenset({"momentum_buffer"}),
              torch.optim.RMSprop: frozenset({"step", "square_avg", "momentum_buffer", "grad_avg"}),
              torch.optim.Adam: frozenset({"step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"})}


def build_optimizer(config: RunConfig, parameters) -> torch.optim.Optimizer:
    """The update rule `config.optimizer`, its hyperparameters the live settings in force."""
    live = LiveSettings.of(config)
    return RULES[config.optimizer](list(parameters), **{name: live[name]
                                                        for name in LIVE_HYPERPARAMETERS[config.optimizer]})


def apply_live_settings(optimizer: torch.optim.Optimizer, kind: str, live) -> None:
    """Put the live settings in force into the optimiser's parameter groups."""
    for name in LIVE_HYPERPARAMETERS[kind]:
        for group in optimizer.param_groups:
            group[name] = live[name]


def optimizer_arrays(optimizer: torch.optim.Optimizer) -> dict[str, np.ndarray]:
    arrays: dict[str, np.ndarray] = {}
    for index, state in optimizer.state_dict()["state"].items():
        for key, value in state.items():
            tensor = value if isinstance(value, torch.Tensor) else torch.tensor(value)
            arrays[f"optimizer/{index}/{key}"] = tensor.detach().cpu().numpy().copy()
    return arrays


def load_optimizer_arrays(optimizer: torch.optim.Optimizer, arrays: dict[str, np.ndarray]) -> None:
    """The state `optimizer_arrays` flattened, put back (entries of other kinds are ignored)."""
    state_dict = optimizer.state_dict()
    device = next((p.device for group in optimizer.param_groups for p in group["params"]), "cpu")
    restored: dict[int, dict[str, torch.Tensor]] = {}
    for name, value in arrays.items():
        parts = name.split("/")
        if len(parts) != 3 or parts[0] != "optimizer":
            continue
        index, key = int(parts[1]), parts[2]
        tensor = torch.tensor(np.array(value))
        # Adam keeps its step count on the CPU; moments live with the parameters
        restored.setdefault(index, {})[key] = tensor if key == "step" else tensor.to(device)
    state_dict["state"] = restored
    optimizer.load_state_dict(state_dict)
