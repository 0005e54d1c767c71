"""How a run configuration is stored: JSON with a version, one loader per version.

Version 1 (gradscope before the architecture families) is a flat JSON object of the
recurrent settings; it carries no version key. Version 2 is

    {"config_version": 2, "family": "conv", "common": {...}, "sections": {"recurrent": {...},
     "conv": {...}, "dense": {...}}}

the common fields and each family's section, every section kept so that the configuration
read back is the one written (a fork or a comparison may switch the architecture). A setting
two families share sits in both sections with one value. The file's own family is named
for a reader that only looks. Anything newer than this gradscope knows is refused by name.
"""
from __future__ import annotations

import json
from typing import Any

from gradscope.config.declaration import FAMILY_NAMES
from gradscope.config.errors import ConfigError
from gradscope.config.run_config import RunConfig

CONFIG_VERSION = 2
VERSION_KEY = "config_version"


def stored_json(config: RunConfig) -> str:
    stored = {VERSION_KEY: CONFIG_VERSION, "family": config.family, "common": config.common(),
              "sections": {family: config.section(family) for family in FAMILY_NAMES}}
    return json.dumps(stored, sort_keys=True)


def load_stored(text: str) -> RunConfig:
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, TypeError, RecursionError) as exc:
        raise ConfigError("config", f"not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise ConfigError("config", "must be a table of settings")
    version = data.get(VERSION_KEY, 1)
    loader = LOADERS.get(version) if isinstance(version, int) and not isinstance(version, bool) else None
    if loader is None:
        raise ConfigError("config", f"is stored in version {str(version)[:20]}, which this gradscope does not "
                          f"know (it reads 1 to {CONFIG_VERSION}); a newer gradscope wrote it")
    return loader(data)


def _load_version_1(data: dict[str, Any]) -> RunConfig:
    """The flat settings of a recurrent run, as gradscope wrote them before families."""
    return RunConfig.from_dict(data)


def _load_version_2(data: dict[str, Any]) -> RunConfig:
    common, sections = data.get("common"), data.get("sections")
    if not isinstance(common, dict) or not isinstance(sections, dict):
        raise ConfigError("config", "version 2 needs a table of common settings and a table of sections")
    settings = dict(common)
    for family, section in sections.items():
        if family not in FAMILY_NAMES or not isinstance(section, dict):
            raise ConfigError("config", f"holds an unknown section {str(family)[:40]!r}")
        for name, value in section.items():
            if name in settings and settings[name] != value:
                raise ConfigError(str(name)[:80], "has two different values in two sections")
            settings[name] = value
    return RunConfig.from_dict(settings)


LOADERS = {1: _load_version_1, 2: _load_version_2}
