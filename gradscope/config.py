"""The frozen run configuration: every setting a run needs, validated, with a JSON/TOML round trip.

A `RunConfig` is the whole recipe of a run. It is stored as JSON in the session file, so that
`gradscope.models.build(config)` and `gradscope.tasks.build(config)` can rebuild the model and
the data of any recorded run.
"""
from __future__ import annotations

import dataclasses
import json
import math
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

ARCHITECTURES = ("rnn", "jordan", "lstm", "gru")
TASKS = ("adding", "copy", "recall", "sine", "charlm", "csv")
NONLINEARITIES = ("tanh", "relu")
INITS = ("default", "orthogonal", "identity")
OPTIMIZERS = ("sgd", "momentum", "rmsprop", "adam")
CLIP_MODES = ("none", "norm", "value")
DEVICES = ("cpu", "cuda", "auto")

MAX_HIDDEN = 512
MAX_LAYERS = 3
MAX_SEQ_LEN = 5000
MAX_BATCH = 4096
MAX_STEPS = 10_000_000


class ConfigError(ValueError):
    """A setting that makes no sense; `option` names it the way the command line does."""

    def __init__(self, option: str, problem: str):
        super().__init__(f"--{option.replace('_', '-')}: {problem}")
        self.option = option
        self.problem = problem


@dataclass(frozen=True)
class RunConfig:
    # model
    arch: str = "rnn"
    hidden: int = 32
    layers: int = 1
    bidirectional: bool = False
    nonlinearity: str = "tanh"
    init: str = "default"
    rho: float = 1.0
    forget_bias: float | None = None
    # task
    task: str = "adding"
    seq_len: int = 50
    copy_symbols: int = 8
    text: str | None = None
    csv: str | None = None
    csv_column: str | None = None
    temperature: float = 0.8
    # training
    optimizer: str = "adam"
    lr: float = 1e-3
    momentum: float = 0.9
    batch: int = 32
    seed: int = 0
    device: str = "auto"
    clip_mode: str = "none"
    clip_threshold: float = 1.0
    tbptt: int = 0
    steps: int = 1000
    # probes and recording
    probe_every: int = 0
    probe_batch: int = 1
    checkpoint_every: int = 100

    def __post_init__(self) -> None:
        validate(self)

    # -- conversions -------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunConfig:
        if not isinstance(data, dict):
            raise ConfigError("config", "must be a table of settings")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(unknown[0], "unknown setting")
        coerced = {name: _coerce(name, value) for name, value in data.items()}
        return cls(**coerced)

    @classmethod
    def from_json(cls, text: str) -> RunConfig:
        try:
            data = json.loads(text)
        except (json.JSONDecodeError, TypeError, RecursionError) as exc:
            raise ConfigError("config", f"not valid JSON ({exc})") from None
        return cls.from_dict(data)

    @classmethod
    def from_toml(cls, path: str | Path) -> RunConfig:
        return cls.from_dict(load_toml(path))

    def replace(self, **changes: Any) -> RunConfig:
        return dataclasses.replace(self, **changes)



def load_toml(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError("config", f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError("config", f"{path} is not a valid TOML file ({exc})") from None
    # accept either top-level keys or a [run] table
    if set(data) == {"run"} and isinstance(data["run"], dict):
        data = data["run"]
    return {key.replace("-", "_"): value for key, value in data.items()}


_FIELD_TYPES = {f.name: f.type for f in fields(RunConfig)}


def _coerce(name: str, value: Any) -> Any:
    """Accept JSON/TOML values of the right kind; refuse the rest with a message naming the option."""
    kind = _FIELD_TYPES[name]
    optional = "None" in kind
    if value is None:
        if optional:
            return None
        raise ConfigError(name, "must be given")
    if kind.startswith("bool"):
        if isinstance(value, bool):
            return value
        raise ConfigError(name, f"must be true or false, not {value!r}")
    if kind.startswith("int"):
        if (isinstance(value, bool) or not isinstance(value, (int, float))
                or not math.isfinite(value) or value != int(value)):
            raise ConfigError(name, f"must be a whole number, not {value!r}")
        return int(value)
    if kind.startswith("float"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(name, f"must be a number, not {value!r}")
        return float(value)
    if not isinstance(value, str):
        raise ConfigError(name, f"must be text, not {value!r}")
    return value


def _choice(name: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ConfigError(name, f"unknown value {value!r}; choose one of {', '.join(allowed)}")


def _in_range(name: str, value: float, low: float, high: float, what: str = "") -> None:
    if not (low <= value <= high):
        raise ConfigError(name, f"{value!r} is out of range; {what or f'must be between {low} and {high}'}")


def _finite_positive(name: str, value: float, allow_zero: bool = False) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ConfigError(name, f"must be a finite number, not {value!r}")
    if value < 0 or (value == 0 and not allow_zero):
        raise ConfigError(name, f"must be {'zero or ' if allow_zero else ''}positive, not {value!r}")


def validate(config: RunConfig) -> None:
    c = config
    _choice("arch", c.arch, ARCHITECTURES)
    _choice("task", c.task, TASKS)
    _choice("nonlinearity", c.nonlinearity, NONLINEARITIES)
    _choice("init", c.init, INITS)
    _choice("optimizer", c.optimizer, OPTIMIZERS)
    _choice("clip_mode", c.clip_mode, CLIP_MODES)
    _choice("device", c.device, DEVICES)
    for name in ("hidden", "layers", "seq_len", "batch", "steps", "seed", "copy_symbols",
                 "tbptt", "probe_every", "probe_batch", "checkpoint_every"):
        value = getattr(c, name)
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(name, f"must be a whole number, not {value!r}")
    _in_range("hidden", c.hidden, 2, MAX_HIDDEN, f"the hidden size must be between 2 and {MAX_HIDDEN}")
    _in_range("layers", c.layers, 1, MAX_LAYERS, f"use 1 to {MAX_LAYERS} stacked layers")
    _in_range("seq_len", c.seq_len, 1, MAX_SEQ_LEN, f"the sequence length T must be between 1 and {MAX_SEQ_LEN}")
    _in_range("batch", c.batch, 1, MAX_BATCH, f"the batch size must be between 1 and {MAX_BATCH}")
    _in_range("steps", c.steps, 1, MAX_STEPS, f"the number of steps must be between 1 and {MAX_STEPS}")
    _in_range("seed", c.seed, 0, 2**63 - 1, "the seed must be zero or positive")
    _in_range("copy_symbols", c.copy_symbols, 1, 64, "the copy task takes 1 to 64 symbols")
    _in_range("tbptt", c.tbptt, 0, MAX_SEQ_LEN, "the truncation window must be 0 (full BPTT) or positive")
    _in_range("probe_every", c.probe_every, 0, MAX_STEPS, "the probe cadence must be 0 (automatic) or positive")
    _in_range("probe_batch", c.probe_batch, 1, 64, "the probe batch takes 1 to 64 sequences")
    _in_range("checkpoint_every", c.checkpoint_every, 1, MAX_STEPS, "checkpoints need a positive interval")
    _finite_positive("lr", c.lr)
    if c.lr > 10:
        raise ConfigError("lr", f"{c.lr!r} is far too large; use a learning rate up to 10")
    _finite_positive("rho", c.rho, allow_zero=True)
    _finite_positive("momentum", c.momentum, allow_zero=True)
    if c.momentum >= 1:
        raise ConfigError("momentum", "must be below 1")
    _finite_positive("temperature", c.temperature)
    _finite_positive("clip_threshold", c.clip_threshold)
    if c.forget_bias is not None and not math.isfinite(c.forget_bias):
        raise ConfigError("forget_bias", "must be a finite number")
    if c.forget_bias is not None and c.arch != "lstm":
        raise ConfigError("forget_bias", "only an LSTM has a forget gate")
    if c.nonlinearity == "relu" and c.arch not in ("rnn", "jordan"):
        raise ConfigError("nonlinearity", f"{c.arch} has fixed nonlinearities; relu applies to rnn and jordan")
    if c.tbptt and c.bidirectional:
        raise ConfigError("tbptt", "truncated BPTT needs the whole future for the reverse direction; "
                          "turn off --bidirectional or use full BPTT (0)")
    if c.bidirectional and c.task == "charlm":
        raise ConfigError("bidirectional", "a language model must not see the characters it predicts; "
                          "the reverse direction would read them")
    if c.task == "csv" and not c.csv:
        raise ConfigError("csv", "the csv task needs a data file (--csv FILE)")
