"""The one data contract: immutable step records, events and checkpoints.

Everything the trainer measures flows as these frozen objects: into the session file, to the
GUI, and back out of a session on replay. Arrays inside them are read-only numpy arrays, so a
record can cross threads without copying or locking.

Series names follow the table in DESIGN.md (`loss`, `grad_norm`, `hidden_grad_norm`, ...). A
record holds every per-step scalar on every step and the probed arrays only on probed steps.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Mapping

import numpy as np


class RunState(str, enum.Enum):
    RUNNING = "running"
    PAUSED = "paused"
    STOPPED = "stopped"
    FINISHED = "finished"
    FAILED = "failed"
    DIVERGED = "diverged"

    @property
    def is_final(self) -> bool:
        return self in (RunState.STOPPED, RunState.FINISHED, RunState.FAILED, RunState.DIVERGED)


class EventKind(str, enum.Enum):
    RUN_STARTED = "run_started"
    STATE_CHANGED = "state_changed"
    CLIP_THRESHOLD_CHANGED = "clip_threshold_changed"
    CLIP_MODE_CHANGED = "clip_mode_changed"
    LR_CHANGED = "lr_changed"
    DIVERGED = "diverged"
    FAILED = "failed"


def _frozen_array(value: Any) -> np.ndarray:
    array = np.array(value, copy=True)
    if array.dtype == np.float16 or array.dtype.kind not in "fiub":
        raise TypeError(f"records hold numeric arrays only, not {array.dtype}")
    array.setflags(write=False)
    return array


def freeze_arrays(arrays: Mapping[str, Any]) -> Mapping[str, np.ndarray]:
    return MappingProxyType({str(name): _frozen_array(value) for name, value in arrays.items()})


@dataclass(frozen=True)
class StepRecord:
    """What one training step measured.

    `scalars` holds per-step numbers (loss, grad_norm, grad_norm_clipped, clipped, lr,
    clip_threshold, metric/<name>, param_grad_norm/<param>, ...). `arrays` holds the probed
    quantities (hidden_grad_norm [T], jacobian_norm [T], gates/<gate> [T, H], ...) and is
    empty on steps that were not probed.
    """

    step: int
    scalars: Mapping[str, float]
    arrays: Mapping[str, np.ndarray] = field(default_factory=lambda: MappingProxyType({}))
    wall_time: float = 0.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "scalars",
                           MappingProxyType({str(k): float(v) for k, v in self.scalars.items()}))
        object.__setattr__(self, "arrays", freeze_arrays(self.arrays))

    @property
    def probed(self) -> bool:
        return bool(self.arrays)


@dataclass(frozen=True)
class Event:
    """Something that happened at a step: a setting changed, the run diverged, a state change."""

    step: int
    kind: str
    detail: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    wall_time: float = 0.0

    def __post_init__(self) -> None:
        kind = self.kind.value if isinstance(self.kind, EventKind) else str(self.kind)
        object.__setattr__(self, "kind", kind)
        object.__setattr__(self, "detail", MappingProxyType(dict(self.detail)))

    def describe(self) -> str:
        detail = ", ".join(f"{key}={value}" for key, value in self.detail.items())
        return f"step {self.step}: {self.kind}" + (f" ({detail})" if detail else "")


@dataclass(frozen=True)
class Checkpoint:
    """The weights (and optimiser state) that computed step `step`, before its update."""

    step: int
    weights: Mapping[str, np.ndarray]
    optimizer: Mapping[str, np.ndarray] = field(default_factory=lambda: MappingProxyType({}))

    def __post_init__(self) -> None:
        object.__setattr__(self, "weights", freeze_arrays(self.weights))
        object.__setattr__(self, "optimizer", freeze_arrays(self.optimizer))
