"""The live settings: those a running trainer may change between two steps (declared `live`),
as one type that travels, is recorded and is checkpointed the same way wherever it goes.

    LiveSettings.of(config)                      # the values in force
    LiveSettings.check(config, {"lr": 0.01})     # {"lr": 0.01}, or a ConfigError
    settings.to_json() / LiveSettings.from_json(text, config)

A change is recorded as one `settings_changed` event whose detail is `{name: new value}`, sent to
a training process as one message and stored in a checkpoint as one entry.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Mapping

from gradscope.config.errors import ConfigError
from gradscope.config.run_config import SETTINGS, RunConfig

LIVE_SETTINGS = tuple(name for name, declaration in SETTINGS.items() if declaration.live)
# the numeric ones are in every step record too (records hold numbers only)
RECORDED_LIVE_SETTINGS = tuple(name for name in LIVE_SETTINGS if SETTINGS[name].kind == "float")


@dataclass(frozen=True)
class LiveSettings:
    values: Mapping[str, Any]

    def __post_init__(self) -> None:
        object.__setattr__(self, "values", MappingProxyType(dict(self.values)))

    @classmethod
    def of(cls, config: RunConfig) -> LiveSettings:
        return cls({name: getattr(config, name) for name in LIVE_SETTINGS})

    @staticmethod
    def check(config: RunConfig, changes: Mapping[str, Any]) -> dict[str, Any]:
        """`changes` as the trainer would apply them to a run of `config`: every name a live
        setting, every value one the configuration accepts (coerced to its type)."""
        if not isinstance(changes, Mapping):
            raise ConfigError("settings", "a change of settings must be a table of names and values")
        from gradscope.config.values import coerce

        checked = {}
        for name, value in changes.items():
            if name not in LIVE_SETTINGS:
                what = "unknown setting" if name not in SETTINGS else "does not change while a run trains; it starts a new run"
                raise ConfigError(str(name)[:80], f"{what} (live settings: {', '.join(LIVE_SETTINGS)})")
            checked[name] = coerce(SETTINGS[name], value)
        config.replace(**checked)        # every range and rule, with the others in force
        return checked

    def __reduce__(self):            # a mapping proxy does not pickle; its dict does
        return LiveSettings, (dict(self.values),)

    def __getitem__(self, name: str) -> Any:
        return self.values[name]

    def replace(self, changes: Mapping[str, Any]) -> LiveSettings:
        return LiveSettings({**self.values, **changes})

    def changed(self, changes: Mapping[str, Any]) -> dict[str, Any]:
        """Those of `changes` that differ from the values held."""
        return {name: value for name, value in changes.items() if self.values.get(name) != value}

    def applied_to(self, config: RunConfig) -> RunConfig:
        return config.replace(**self.values)

    def to_json(self) -> str:
        return json.dumps(dict(self.values), sort_keys=True)

    @classmethod
    def from_json(cls, text: str, config: RunConfig) -> LiveSettings:
        """Settings read back (from a checkpoint): the names and values checked against
        `config`, those missing (an older file) taken from it."""
        try:
            values = json.loads(text)
        except (ValueError, TypeError, RecursionError) as error:
            raise ConfigError("settings", f"the stored live settings are not valid JSON ({error})") from None
        if not isinstance(values, dict):
            raise ConfigError("settings", "the stored live settings are not a table")
        values = {name: value for name, value in values.items() if name in LIVE_SETTINGS or _refuse(name)}
        if any(isinstance(value, float) and not math.isfinite(value) for value in values.values()):
            raise ConfigError("settings", "a stored live setting is not finite")
        return cls.of(config).replace(LiveSettings.check(config, values))


def _refuse(name: str) -> bool:
    raise ConfigError(str(name)[:80], "is stored as a live setting but is not one")
