"""The command-line options of the run settings, generated from their declarations.

Every setting declared with an option of its own becomes `--name-with-dashes`, typed, in the
help group of its settings group, its tooltip as its help. The clipping pair is the one spelled
differently: `--clip-norm X` and `--clip-value X` (mutually exclusive) set clip_mode and
clip_threshold together, on the command line and in a TOML file alike.
"""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, Iterable

from gradscope.config.declaration import GROUPS, Setting
from gradscope.config.errors import ConfigError
from gradscope.config.run_config import SETTINGS, RunConfig
from gradscope.config.toml import from_clip_keys

CLIP_OPTIONS = ("clip_norm", "clip_value")
_TYPES = {"int": int, "float": float, "str": str}


def add_run_options(parser: argparse.ArgumentParser, names: Iterable[str] | None = None,
                    suffix: str = "") -> None:
    """Options for the settings `names` (default: all), grouped as the window groups them;
    the clipping pair where clip_mode is among them. `suffix` ends every help text."""
    wanted = [SETTINGS[name] for name in (names if names is not None else SETTINGS)]
    for group_name in GROUPS:
        members = [declaration for declaration in wanted if declaration.group == group_name]
        if not members:
            continue
        group = parser.add_argument_group(group_name.lower())
        for declaration in members:
            if declaration.option:
                group.add_argument(declaration.flag, **_argument(declaration, suffix))
            elif declaration.name == "clip_mode":
                clip = group.add_mutually_exclusive_group()
                clip.add_argument("--clip-norm", type=float, metavar="X",
                                  help=_escape(f"clip the global gradient norm to X{suffix}"))
                clip.add_argument("--clip-value", type=float, metavar="X",
                                  help=_escape(f"clip every gradient entry to [-X, X]{suffix}"))


def _argument(declaration: Setting, suffix: str) -> dict[str, Any]:
    help_text = declaration.tip.split(". ")[0].rstrip(".")
    if declaration.choices:
        help_text = f"{' | '.join(declaration.choices)}: {help_text}"
    elif declaration.kind in ("int", "float") and declaration.describe_range():
        help_text += f" ({declaration.describe_range()})"
    options = {"help": _escape(help_text + suffix), "default": None}
    if declaration.kind == "bool":
        options["action"] = "store_true"
    else:
        options["type"] = _TYPES[declaration.kind]
        options["metavar"] = "FILE" if declaration.path else ("|".join(declaration.choices) if declaration.choices
                                                              else declaration.name.upper())
    return options


def settings_from_args(args: argparse.Namespace, names: Iterable[str] | None = None) -> dict[str, Any]:
    """The settings given on the command line (those left out are not in the result), with
    the clipping pair turned into clip_mode and clip_threshold."""
    given = {}
    for name in (names if names is not None else SETTINGS):
        if SETTINGS[name].option and getattr(args, name, None) is not None:
            given[name] = getattr(args, name)
    for option in CLIP_OPTIONS:
        if getattr(args, option, None) is not None:
            given[option] = getattr(args, option)
    return from_clip_keys(given, "the command line")


def absolute_paths(settings: dict[str, Any]) -> dict[str, Any]:
    """File settings made absolute: the session stores the configuration, and an absolute
    path still finds the data when the session is opened from another folder. A value that
    is not text is left for the validation to refuse (a TOML file may say `text = 5`)."""
    return {name: (str(Path(value).expanduser().absolute())
                   if isinstance(value, str) and value and name in SETTINGS and SETTINGS[name].path else value)
            for name, value in settings.items()}


def config_from_args(args: argparse.Namespace) -> RunConfig:
    """Settings from the TOML file (`--config`), then the command line over them."""
    from gradscope.config.toml import load_toml

    settings = load_toml(args.config) if getattr(args, "config", None) else {}
    on_command_line = settings_from_args(args)
    if "clip_mode" in on_command_line:      # the command line's clipping replaces the file's
        settings.pop("clip_mode", None)
        settings.pop("clip_threshold", None)
    settings.update(on_command_line)
    try:
        return RunConfig.from_dict(absolute_paths(settings))
    except ConfigError as exc:
        raise named_as_typed(exc, settings) from None


def named_as_typed(error: ConfigError, settings: dict[str, Any]) -> ConfigError:
    """clip_threshold is not an option anyone typed: name the one they did."""
    mode = settings.get("clip_mode")
    if error.option == "clip_threshold" and mode in ("norm", "value"):
        return ConfigError(f"clip_{mode}", error.problem)
    return error


def _escape(text: str) -> str:
    return text.replace("%", "%%")
