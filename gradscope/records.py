"""The one data contract: immutable step records, events and checkpoints.

Everything the trainer measures flows as these frozen objects: into the session file, to the
GUI, and back out of a session on replay. Arrays inside them are read-only numpy arrays, so a
record can cross threads without copying or locking.

Series names are declared in `gradscope.series` (`loss`, `grad_norm`, `hidden_grad_norm`, ...).
A record holds every per-step scalar on every step and the probed arrays only on probed steps.
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
    SETTINGS_CHANGED = "settings_changed"     # detail: {name: new value} of live settings
    NOTE = "note"                             # detail: {"text": ...}, from a schedule
    COMPARISON = "comparison"                 # detail: {"runs": [ids], "varies": [names]}
    DIVERGED = "diverged"
    FAILED = "failed"
    WRITE_FAILED = "write_failed"             # detail: {"error", "last_saved_step", "saved"}; the file stops here
    INTERRUPTED = "interrupted"               # detail: {"reason", "last_saved_step", "saved"}; Ctrl-C mid-step

    @property
    def label(self) -> str:
        """How the timeline lists it."""
        return EVENT_LABELS[self.value]


EVENT_LABELS = {
    "run_started": "run started", "state_changed": "state", "settings_changed": "settings changed",
    "note": "note", "comparison": "compared with", "diverged": "DIVERGED", "failed": "failed",
    "write_failed": "NOT SAVED FROM HERE", "interrupted": "interrupted",
}
# kinds written before settings changes were one kind; `legacy_event` reads them as it
LEGACY_SETTING_EVENTS = {"lr_changed": "lr", "clip_threshold_changed": "clip_threshold",
                         "clip_mode_changed": "clip_mode"}


def legacy_event(kind: str, detail: Mapping[str, Any]) -> tuple[str, Mapping[str, Any]]:
    """An event as this version writes it: a version-2 file's lr_changed (detail {old, new})
    becomes settings_changed {"lr": new}; other kinds pass unchanged."""
    name = LEGACY_SETTING_EVENTS.get(kind)
    if name is None:
        return kind, detail
    return EventKind.SETTINGS_CHANGED.value, {name: detail["new"] if "new" in detail else detail.get(name)}


def _immutable(array: np.ndarray) -> bool:
    """Whether nobody can write `array`: it and every array it views are read-only, down to
    memory numpy owns or a bytes object."""
    while isinstance(array, np.ndarray):
        if array.flags.writeable:
            return False
        array = array.base
    return array is None or isinstance(array, bytes)


def _frozen_array(value: Any) -> np.ndarray:
    # a slice of an array already frozen (a replay cuts its blocks out of such arrays) is kept
    # as it is: copying 10,000-step columns on every seek costs more than anything else in it
    array = value if isinstance(value, np.ndarray) and _immutable(value) else np.array(value, copy=True)
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

    def __reduce__(self):            # mapping proxies do not pickle; their dicts do
        return StepRecord, (self.step, dict(self.scalars), dict(self.arrays), self.wall_time)


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

    def __reduce__(self):            # mapping proxies do not pickle; their dicts do
        return Event, (self.step, self.kind, dict(self.detail), self.wall_time)

    def describe(self) -> str:
        detail = ", ".join(f"{key}={value}" for key, value in self.detail.items())
        return f"step {self.step}: {self.kind}" + (f" ({detail})" if detail else "")

    @property
    def label(self) -> str:
        """A short line for a marker or the timeline's list: "lr 0.01, clip threshold 2"."""
        if self.kind == EventKind.SETTINGS_CHANGED.value:
            return ", ".join(f"{_setting_label(name)} {_short(value)}" for name, value in self.detail.items())
        if self.kind == EventKind.NOTE.value:
            return str(self.detail.get("text", ""))
        if self.kind == EventKind.STATE_CHANGED.value:
            return str(self.detail.get("state", ""))
        label = EVENT_LABELS.get(self.kind, self.kind)
        if self.kind == EventKind.DIVERGED.value and self.detail.get("non_finite"):
            return f"{label} ({non_finite_words(self.detail['non_finite'], short=True)})"
        if self.kind in (EventKind.WRITE_FAILED.value, EventKind.INTERRUPTED.value):
            return f"{label} ({self.detail.get('saved', 'nothing')} saved)"
        return label


NON_FINITE_WORDS = {"loss": "loss", "grad_norm": "gradient norm"}
PARAMETER_GRADIENT = "param_grad_norm/"


def non_finite_words(names, short: bool = False) -> str:
    """What became NaN or infinite, in words, however many parameters did: "loss, gradient
    norm, 6 parameters' gradients" (short), or "the loss, the gradient norm and the gradients
    of 6 parameters". A divergence event names the series (`trainer`: "loss, grad_norm,
    param_grad_norm/core.weight_hh_l0, ..."), eight at most; a file may hold any text there, so
    a name this does not know is kept as it is."""
    names = [name.strip() for name in str(names).split(",") if name.strip()]
    parameters = sum(name.startswith(PARAMETER_GRADIENT) for name in names)
    series = [name for name in names if not name.startswith(PARAMETER_GRADIENT)]
    if short:
        words = [NON_FINITE_WORDS.get(name, name) for name in series]
        if parameters:
            words.append(f"{parameters} parameters' gradients" if parameters > 1 else "1 parameter's gradient")
        return ", ".join(words)
    words = [f"the {NON_FINITE_WORDS[name]}" if name in NON_FINITE_WORDS else name for name in series]
    if parameters:
        words.append(f"the gradients of {parameters} parameters" if parameters > 1 else "the gradient of 1 parameter")
    if len(words) < 2:
        return words[0] if words else "something"      # a file's event may name nothing
    return ", ".join(words[:-1]) + " and " + words[-1]


@dataclass(frozen=True)
class Checkpoint:
    """The weights (and optimiser state) that computed step `step`, before its update."""

    step: int
    weights: Mapping[str, np.ndarray]
    optimizer: Mapping[str, np.ndarray] = field(default_factory=lambda: MappingProxyType({}))

    def __post_init__(self) -> None:
        object.__setattr__(self, "weights", freeze_arrays(self.weights))
        object.__setattr__(self, "optimizer", freeze_arrays(self.optimizer))


@dataclass(frozen=True)
class StepBlock:
    """Consecutive steps of one run as columns: what a replay hands the panels in one piece,
    and what a batch of live records becomes before it reaches them (`from_records`).

    `scalars` maps a name to (the steps that have it, its values there): most scalars come
    with every step, those a probe measures only with probed steps. `probes` maps an array
    series to (its probed steps, its values stacked by step); a replay fills it only with the
    series that are drawn over training. `latest` holds every array of
    the newest probed step in the block (at `latest_step`), for the views of the newest probe.
    """

    steps: np.ndarray
    wall_times: np.ndarray
    scalars: Mapping[str, tuple[np.ndarray, np.ndarray]]
    probe_steps: np.ndarray
    probe_times: np.ndarray
    probes: Mapping[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=lambda: MappingProxyType({}))
    latest: Mapping[str, np.ndarray] = field(default_factory=lambda: MappingProxyType({}))
    latest_step: int | None = None

    def __post_init__(self) -> None:
        for name in ("steps", "wall_times", "probe_steps", "probe_times"):
            object.__setattr__(self, name, _frozen_array(getattr(self, name)))
        for name in ("scalars", "probes"):
            columns = {}
            for key, (steps, values) in getattr(self, name).items():
                steps, values = _frozen_array(steps), _frozen_array(values)
                if steps.shape != values.shape[:1]:
                    raise ValueError(f"StepBlock: {key!r} has {len(steps)} steps but {len(values)} values")
                columns[str(key)] = (steps, values)
            object.__setattr__(self, name, MappingProxyType(columns))
        object.__setattr__(self, "latest", freeze_arrays(self.latest))

    def __len__(self) -> int:
        return len(self.steps)

    @classmethod
    def from_records(cls, records: list[StepRecord]) -> StepBlock:
        scalars: dict[str, tuple[list, list]] = {}
        for record in records:
            for name, value in record.scalars.items():
                steps, values = scalars.setdefault(name, ([], []))
                steps.append(record.step)
                values.append(value)
        probed = [record for record in records if record.probed]
        probes: dict[str, tuple[list, list]] = {}
        for record in probed:
            for name, values in record.arrays.items():
                steps, rows = probes.setdefault(name, ([], []))
                steps.append(record.step)
                rows.append(values)
        return cls(steps=np.array([r.step for r in records], dtype=np.int64),
                   wall_times=np.array([r.wall_time for r in records], dtype=np.float64),
                   scalars={name: (np.array(steps, dtype=np.int64), np.array(values, dtype=np.float64))
                            for name, (steps, values) in scalars.items()},
                   probe_steps=np.array([r.step for r in probed], dtype=np.int64),
                   probe_times=np.array([r.wall_time for r in probed], dtype=np.float64),
                   probes={name: (np.array(steps, dtype=np.int64), _stack(rows)) for name, (steps, rows) in probes.items()},
                   latest=probed[-1].arrays if probed else {},
                   latest_step=probed[-1].step if probed else None)


def _setting_label(name: str) -> str:
    from gradscope.config import SETTINGS

    declaration = SETTINGS.get(name)
    return declaration.short if declaration is not None else str(name)


def _short(value: Any) -> str:
    return f"{value:.3g}" if isinstance(value, float) else str(value)


def _stack(rows: list[np.ndarray]) -> np.ndarray:
    shapes = {row.shape for row in rows}
    if len(shapes) == 1:
        return np.stack(rows)
    # a series whose shape changed between probes (it should not): keep the newest shape only
    newest = rows[-1].shape
    return np.stack([row if row.shape == newest else np.full(newest, np.nan) for row in rows])
