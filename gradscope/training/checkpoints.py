"""Checkpoints: everything needed to continue a run exactly from a step.

The weights before the step's update, the optimiser state, the data stream's generator, and
the learning rate and clipping in force then (they may have changed mid-run), all as plain
numpy arrays: nothing pickled.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from gradscope.config import CLIP_MODES
from gradscope.records import Checkpoint
from gradscope.training.optim import load_optimizer_arrays, optimizer_arrays, set_learning_rate


@dataclass
class Settings:
    lr: float
    clip_mode: str
    clip_threshold: float


def take(step: int, model, optimizer, data: torch.Generator, settings: Settings) -> Checkpoint:
    weights = {name: value.detach().cpu().numpy().copy() for name, value in model.state_dict().items()}
    extra = optimizer_arrays(optimizer)
    extra["rng/data"] = data.get_state().numpy().copy()
    extra["settings/lr"] = np.float64(settings.lr)
    extra["settings/clip_threshold"] = np.float64(settings.clip_threshold)
    extra["settings/clip_mode"] = np.int64(CLIP_MODES.index(settings.clip_mode))
    return Checkpoint(step=step, weights=weights, optimizer=extra)


def put_back(checkpoint: Checkpoint, model, optimizer, data: torch.Generator, settings: Settings) -> Settings:
    """Load the checkpoint into model, optimiser and data stream; the settings it recorded
    (or `settings` unchanged for a checkpoint that has none)."""
    model.load_state_dict({k: torch.tensor(np.array(v)) for k, v in checkpoint.weights.items()})
    extra = dict(checkpoint.optimizer)
    load_optimizer_arrays(optimizer, extra)
    if "rng/data" in extra:
        data.set_state(torch.tensor(np.array(extra["rng/data"]), dtype=torch.uint8))
    if "settings/lr" in extra:
        settings = Settings(lr=float(extra["settings/lr"]), clip_mode=CLIP_MODES[int(extra["settings/clip_mode"])],
                            clip_threshold=float(extra["settings/clip_threshold"]))
    set_learning_rate(optimizer, settings.lr)
    return settings
