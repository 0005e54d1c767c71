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
from gradscope.training.optim import STATE_KEYS, load_optimizer_arrays, optimizer_arrays

LIVE_KEY = "settings/live"
LEGACY_KEYS = ("settings/lr", "settings/clip_mode", "settings/clip_threshold")
SETTINGS_PREFIX = "settings/"


def take(step: int, model, optimizer, data: torch.Generator, live: LiveSettings) -> Checkpoint:
    weights = {name: value.detach().cpu().numpy().copy() for name, value in model.state_dict().items()}
    extra = optimizer_arrays(optimizer)
    extra["rng/data"] = data.get_state().numpy().copy()
    extra.update(live_arrays(live))
    return Checkpoint(step=step, weights=weights, optimizer=extra)


class DamagedCheckpoint(ValueError):
    """A checkpoint that does not fit the model, optimiser or data stream it is put back
    into; the message says what, in one line, and nothing was loaded."""


def put_back(checkpoint: Checkpoint, model, optimizer, data: torch.Generator) -> None:
    """Load the checkpoint's weights, optimiser state and data stream (the live settings:
    `live_settings`). Everything is checked first (`check`), so a damaged checkpoint raises
    DamagedCheckpoint and leaves the model, optimiser and stream as they were."""
    check(checkpoint, model, optimizer, data)
    model.load_state_dict({k: torch.tensor(np.array(v)) for k, v in checkpoint.weights.items()})
    load_optimizer_arrays(optimizer, {k: v for k, v in checkpoint.optimizer.items()
                                      if not k.startswith(SETTINGS_PREFIX)})
    if "rng/data" in checkpoint.optimizer:
        data.set_state(torch.tensor(np.array(checkpoint.optimizer["rng/data"]), dtype=torch.uint8))


def check(checkpoint: Checkpoint, model, optimizer, data: torch.Generator) -> None:
    """DamagedCheckpoint unless every weight, optimiser entry and the stream state has the
    name, shape and kind that this model, optimiser and stream hold: a file may say anything."""
    parameters = [p for group in optimizer.param_groups for p in group["params"]]
    _check(checkpoint, model, parameters, type(optimizer), tuple(data.get_state().shape))


def check_for(checkpoint: Checkpoint, config: RunConfig) -> None:
    """`check` against what a trainer of `config` would hold, building only its model: no
    optimiser (torch's first one imports its compiler, seconds) and no data stream."""
    from gradscope import models
    from gradscope.training.optim import RULES

    model = models.build(config)
    _check(checkpoint, model, list(model.parameters()), RULES[config.optimizer],
           tuple(torch.Generator().get_state().shape))


def _check(checkpoint: Checkpoint, model, parameters: list, rule: type, stream_shape: tuple) -> None:
    at = f"the checkpoint at step {checkpoint.step}"
    expected = model.state_dict()
    names, held = set(expected), set(checkpoint.weights)
    if names != held:
        missing, extra = sorted(names - held), sorted(held - names)
        what = (f"lacks the weight {_named(missing)}" if missing else f"holds a weight {_named(extra)} "
                "this model does not have")
        raise DamagedCheckpoint(f"{at} {what}")
    for name, tensor in expected.items():
        _check_array(checkpoint.weights[name], tuple(tensor.shape), f"{at}: weight {_named([name])}")
    kinds = STATE_KEYS.get(rule, frozenset())
    for name, value in checkpoint.optimizer.items():
        if name.startswith(SETTINGS_PREFIX) or name == "rng/data":
            continue
        parts = name.split("/")
        index = parts[1] if len(parts) == 3 and parts[0] == "optimizer" else ""
        if not (index.isdigit() and int(index) < len(parameters) and parts[2] in kinds):
            raise DamagedCheckpoint(f"{at} holds an optimiser entry {_named([name])} this optimiser does not have")
        shape = () if parts[2] == "step" else tuple(parameters[int(index)].shape)
        _check_array(value, shape, f"{at}: optimiser entry {_named([name])}")
    if "rng/data" in checkpoint.optimizer:
        state = np.asarray(checkpoint.optimizer["rng/data"])
        if state.dtype != np.uint8 or state.shape != stream_shape:
            raise DamagedCheckpoint(f"{at} holds a malformed data stream state")
        probe = torch.Generator()
        try:
            # torch checks the mt19937 state's own consistency; try it on a generator of no use
            probe.set_state(torch.from_numpy(state.copy()))
        except RuntimeError:
            raise DamagedCheckpoint(f"{at} holds a data stream state that is not a generator's") from None


def _check_array(value, shape: tuple, what: str) -> None:
    array = np.asarray(value)
    if array.shape != shape:
        raise DamagedCheckpoint(f"{what} has shape {list(array.shape)}, not {list(shape)}")
    if array.dtype.kind not in "fiu":
        raise DamagedCheckpoint(f"{what} holds {array.dtype} values, not numbers")


def _named(names) -> str:
    return ", ".join(repr(str(name)[:80]) for name in names[:3]) + (" ..." if len(names) > 3 else "")


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
