"""Runs compared side by side: two or three configurations that differ in one or more
settings, from the command line's `--compare KEY=V1,V2[,V3]` or the window's Compare.

    comparison = parse_compare(["rho=0.5,1.5"])
    configs = comparison.configs(base)          # [base with rho 0.5, base with rho 1.5]
    difference_labels(configs)                  # ["ρ = 0.5", "ρ = 1.5"]

KEY is a setting as on the command line (`seq-len` or `seq_len`; `clip-norm` and `clip-value`
set the clipping). Several keys vary together, value by value, so each needs as many values.
The runs share everything else: the seed, and so the data and the probe batch.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from gradscope.config.errors import ConfigError
from gradscope.config.run_config import SETTINGS, RunConfig
from gradscope.config.toml import CLIP_KEYS

MIN_RUNS, MAX_RUNS = 2, 3
_TRUE, _FALSE = ("true", "yes", "on", "1"), ("false", "no", "off", "0")


@dataclass(frozen=True)
class Comparison:
    keys: tuple[str, ...]                        # as typed, for messages and the file
    variants: tuple[Mapping[str, Any], ...]      # per run: {field: value}

    def configs(self, base: RunConfig) -> list[RunConfig]:
        """The runs' configurations; a value a setting refuses is a ConfigError naming it."""
        configs = []
        for variant in self.variants:
            try:
                configs.append(base.replace(**variant))
            except ConfigError as error:
                raise ConfigError("compare", f"{_key_of(error.option, self.keys)}: {error.problem}") from None
        for config in configs:
            for name in self.varies:
                declaration = SETTINGS[name]
                if not declaration.read_by(config.arch, config.family):
                    # the runs would be the same run: a setting the architecture does not read
                    readers = declaration.archs or declaration.families
                    raise ConfigError("compare", f"{_key_of(name, self.keys)}: {config.arch} does not read it "
                                      f"(it is a setting of {' and '.join(readers)} nets)")
        return configs

    @property
    def varies(self) -> tuple[str, ...]:
        """The fields that differ between the runs."""
        return tuple(sorted({name for variant in self.variants for name in variant}))


def parse_compare(texts: Iterable[str]) -> Comparison:
    """`KEY=V1,V2[,V3]` for each text; a ConfigError naming --compare for anything else."""
    texts = list(texts)
    columns: list[list[dict[str, Any]]] = []
    keys = []
    for text in texts:
        key, sep, values_text = str(text).partition("=")
        key = key.strip().lstrip("-")
        if not sep or not key:
            raise ConfigError("compare", f"{text!r}: expected KEY=V1,V2[,V3], e.g. arch=rnn,lstm,gru")
        values = [value.strip() for value in values_text.split(",")]
        if len(values) < MIN_RUNS or any(not value for value in values):
            raise ConfigError("compare", f"{key}: give two or three values, separated by commas")
        if len(values) > MAX_RUNS:
            raise ConfigError("compare", f"{key}: at most {MAX_RUNS} runs compare side by side, not {len(values)}")
        keys.append(key)
        columns.append([_variant(key, value) for value in values])
    if not columns:
        raise ConfigError("compare", "nothing to compare")
    counts = {len(column) for column in columns}
    if len(counts) > 1:
        raise ConfigError("compare", f"{', '.join(keys)}: every compared setting needs as many values")
    names = [name for column in columns for name in column[0]]
    if len(names) != len(set(names)):
        raise ConfigError("compare", "a setting is compared twice")
    variants = tuple({name: value for column in columns for name, value in column[run].items()}
                     for run in range(counts.pop()))
    if len({tuple(sorted(variant.items(), key=str)) for variant in variants}) != len(variants):
        raise ConfigError("compare", f"{', '.join(keys)}: two runs would be the same; give values that differ")
    return Comparison(tuple(keys), variants)


def _variant(key: str, text: str) -> dict[str, Any]:
    name = key.replace("-", "_")
    if name in CLIP_KEYS:
        return {"clip_mode": CLIP_KEYS[name], "clip_threshold": _number(name, text, float)}
    declaration = SETTINGS.get(name)
    if declaration is None:
        raise ConfigError("compare", f"unknown setting {key!r}; compare any run setting, as on the command line")
    if not declaration.option and name != "clip_mode":
        raise ConfigError("compare", f"{key}: compare clipping as clip-norm=X,Y or clip-value=X,Y")
    if declaration.kind == "bool":
        lowered = text.lower()
        if lowered not in _TRUE + _FALSE:
            raise ConfigError("compare", f"{key}: {text!r} is not true or false")
        return {name: lowered in _TRUE}
    if declaration.kind in ("int", "float"):
        return {name: _number(name, text, int if declaration.kind == "int" else float)}
    if declaration.optional and text.lower() in ("none", ""):
        return {name: None}
    return {name: text}


def _number(name: str, text: str, kind) -> Any:
    try:
        return kind(text)
    except ValueError:
        raise ConfigError("compare", f"{name.replace('_', '-')}: {text!r} is not a "
                          f"{'whole number' if kind is int else 'number'}") from None


def _key_of(option: str, keys: tuple[str, ...]) -> str:
    for key in keys:
        if key.replace("-", "_") == option or (option in ("clip_mode", "clip_threshold")
                                                and key.replace("-", "_") in CLIP_KEYS):
            return key
    return option.replace("_", "-")


def difference_labels(configs: list[RunConfig]) -> list[str]:
    """A legend entry per run naming only what differs: "ρ = 0.5", "rnn", "H = 64, T = 20"."""
    if len(configs) < 2:
        return [""] * len(configs)
    differing = [name for name in SETTINGS if len({getattr(config, name) for config in configs}) > 1]
    labels = []
    for config in configs:
        parts = []
        for name in differing:
            declaration, value = SETTINGS[name], getattr(config, name)
            if declaration.kind == "bool":
                parts.append(declaration.label if value else f"no {declaration.label}")
            elif declaration.choices:
                parts.append(str(value))
            elif value is None:
                parts.append(f"{declaration.short}: none")
            else:
                shown = f"{value:g}" if isinstance(value, float) else str(value)
                parts.append(f"{declaration.short} = {shown}")
        labels.append(", ".join(parts))
    return labels
