"""Settings from a TOML file (`--config FILE.toml`): the option names as keys (`seq-len` or
`seq_len`), with clipping spelled as on the command line (`clip-norm = 0.5` or
`clip-value = 0.1`); top-level keys or a `[run]` table. The file is read bounded."""
from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from gradscope.config.errors import ConfigError
from gradscope.config.run_config import SETTINGS

MAX_TOML_BYTES = 1024 * 1024
CLIP_KEYS = {"clip_norm": "norm", "clip_value": "value"}


def load_toml(path: str | Path) -> dict[str, Any]:
    """The settings a TOML file holds, by field name, not yet validated."""
    from gradscope.inputs import read_bounded

    raw = read_bounded(path, "config", MAX_TOML_BYTES)
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError("config", f"{path} is not a valid TOML file ({exc})") from None
    except RecursionError:
        raise ConfigError("config", f"{path} nests its values too deeply to be a settings file") from None
    if set(data) == {"run"} and isinstance(data["run"], dict):
        data = data["run"]
    settings = {}
    for key, value in data.items():
        name = key.replace("-", "_")
        if isinstance(value, (dict, list)):
            raise ConfigError(name if name in SETTINGS or name in CLIP_KEYS else "config",
                              f"{key} in {path} must be a single value, not a {type(value).__name__}")
        settings[name] = value
    return from_clip_keys(settings, str(path))


def from_clip_keys(settings: dict[str, Any], where: str) -> dict[str, Any]:
    """clip_norm / clip_value as clip_mode and clip_threshold; two ways of saying it refused."""
    given = [key for key in CLIP_KEYS if key in settings]
    if len(given) > 1:
        raise ConfigError("clip_value", f"{where} gives both clip-norm and clip-value; clipping is one or the other")
    if given and ("clip_mode" in settings or "clip_threshold" in settings):
        raise ConfigError(given[0], f"{where} gives {given[0].replace('_', '-')} and clip_mode or clip_threshold; "
                          "say it once")
    if given:
        key = given[0]
        settings = dict(settings)
        settings.update(clip_mode=CLIP_KEYS[key], clip_threshold=settings.pop(key))
    return settings
