"""Checkpoints: everything needed to continue a run exactly from a step.

The weights before the step's update, the optimiser state, the data stream's generator, and
the live settings in force then (they may have changed mid-run), all as plain numpy arrays:
nothing pickled. The live settings are one entry, `settings/live`, their JSON as bytes;
checkpoints written before that hold `settings/lr`, `settings/clip_mode` and
`settings/clip_threshold`, which `live_settings` still reads.
"""
from __future__ import annotations

import numpy as np
import torch

from gradscope.config import CLIP_MODES, ConfigError, LiveSettings, RunConfig
from gradscope.records import Checkpoint
from gradscope.training.optim import load_optimizer_arrays, optimizer_arrays

LIVE_KEY = "settings/live"
LEGACY_KEYS = ("settings/lr", "settings/clip_mode", "settings/clip_threshold")
SETTINGS_PREFIX = "settings/"


def take(step: int, model, optimizer, data: torch.Generator, live: LiveSettings) -> Checkpoint:
    weights = {name: value.detach().cpu().numpy().copy() for name, value in model.state_dict().items()}
    extra = optimizer_arrays(optimizer)
    extra["rng/data"] = data.get_state().numpy().copy()
    extra.update(live_arrays(live))
    return Checkpoint(step=step, weights=weights, optimizer=extra)


def put_back(checkpoint: Checkpoint, model, optimizer, data: torch.Generator) -> None:
    """Load the checkpoint's weights, optimiser state and data stream (the live settings:
    `live_settings`)."""
    model.load_state_dict({k: torch.tensor(np.array(v)) for k, v in checkpoint.weights.items()})
    load_optimizer_arrays(optimizer, {k: v for k, v in checkpoint.optimizer.items()
                                      if not k.startswith(SETTINGS_PREFIX)})
    if "rng/data" in checkpoint.optimizer:
        data.set_state(torch.tensor(np.array(checkpoint.optimizer["rng/data"]), dtype=torch.uint8))


def live_arrays(live: LiveSettings) -> dict[str, np.ndarray]:
    return {LIVE_KEY: np.frombuffer(live.to_json().encode("utf-8"), dtype=np.uint8).copy()}


def live_settings(checkpoint: Checkpoint, config: RunConfig) -> LiveSettings | None:
    """The live settings a checkpoint recorded, checked against `config`; None for one from
    before settings were saved (the run's events say what was in force)."""
    extra = checkpoint.optimizer
    if LIVE_KEY in extra:
        raw = np.asarray(extra[LIVE_KEY])
        if raw.dtype != np.uint8 or raw.ndim != 1:
            raise ConfigError("settings", f"the checkpoint at step {checkpoint.step} holds malformed live settings")
        try:
            text = raw.tobytes().decode("utf-8")
        except UnicodeDecodeError:
            raise ConfigError("settings", f"the checkpoint at step {checkpoint.step} holds unreadable live "
                              "settings") from None
        return LiveSettings.from_json(text, config)
    if not all(key in extra for key in LEGACY_KEYS):
        return None
    values = {name: np.asarray(extra[f"settings/{name}"]) for name in ("lr", "clip_mode", "clip_threshold")}
    if any(value.shape != () for value in values.values()):
        raise ConfigError("settings", f"the checkpoint at step {checkpoint.step} holds malformed settings")
    mode = int(values["clip_mode"])
    if not 0 <= mode < len(CLIP_MODES):
        raise ConfigError("settings", f"the checkpoint at step {checkpoint.step} holds an unknown clipping mode")
    changes = {"lr": float(values["lr"]), "clip_mode": CLIP_MODES[mode], "clip_threshold": float(values["clip_threshold"])}
    return LiveSettings.of(config).replace(LiveSettings.check(config, changes))


def with_live_settings(checkpoint: Checkpoint, live: LiveSettings, step: int | None = None) -> Checkpoint:
    """The checkpoint with `live` as its settings (and at `step`, when given)."""
    extra = {k: v for k, v in checkpoint.optimizer.items() if not k.startswith(SETTINGS_PREFIX)}
    extra.update(live_arrays(live))
    return Checkpoint(step=checkpoint.step if step is None else step, weights=checkpoint.weights, optimizer=extra)
