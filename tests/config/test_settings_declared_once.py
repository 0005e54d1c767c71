"""Every run setting is declared once, on its RunConfig field, and every place that shows,
parses or checks settings is generated from that declaration: the command line, the TOML
keys, the window's settings tree, the validation, the README's table, the live settings."""
from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import pytest

from gradscope.cli import build_parser
from gradscope.config import (GROUPS, LIVE_SETTINGS, SETTINGS, ConfigError, LiveSettings, RunConfig, load_toml)
from gradscope.config.table import settings_table

README = Path(__file__).parents[2] / "README.md"


def test_every_field_is_declared_with_label_tip_group_and_kind():
    names = [field.name for field in dataclasses.fields(RunConfig)]
    assert list(SETTINGS) == names
    for name, declaration in SETTINGS.items():
        assert declaration.label and declaration.tip.endswith((".", ")")), name
        assert declaration.group in GROUPS and declaration.kind in ("bool", "int", "float", "str"), name
        if declaration.kind in ("int", "float"):
            assert declaration.low is not None or declaration.high is not None, f"{name} has no range"


def _record_options() -> set[str]:
    record = build_parser()._subparsers._group_actions[0].choices["record"]
    return {flag for action in record._actions for flag in action.option_strings}


def test_every_setting_is_an_option_of_record():
    flags = _record_options()
    for name, declaration in SETTINGS.items():
        if declaration.option:
            assert declaration.flag in flags, name
        else:
            assert {"--clip-norm", "--clip-value"} <= flags, name       # the clipping pair sets them


def test_fork_takes_exactly_the_live_settings():
    fork = build_parser()._subparsers._group_actions[0].choices["fork"]
    flags = {flag for action in fork._actions for flag in action.option_strings}
    for name in LIVE_SETTINGS:
        declaration = SETTINGS[name]
        assert (declaration.flag in flags) if declaration.option else ("--clip-norm" in flags), name
    structural = [name for name, d in SETTINGS.items() if not d.live and d.option and name != "steps"]
    assert not any(SETTINGS[name].flag in flags for name in structural)


def _example(name: str):
    declaration = SETTINGS[name]
    if declaration.choices:
        return declaration.choices[-1]
    if declaration.kind == "bool":
        return True
    if declaration.kind == "str":
        return "column" if name == "csv_column" else None
    if declaration.kind == "int":
        return int(declaration.low if declaration.low is not None else 0) + 1
    low = declaration.low if declaration.low is not None else -1.0
    high = declaration.high if declaration.high is not None else low + 2.0
    return (low + min(high, low + 2.0)) / 2


def test_every_setting_is_a_toml_key_with_dashes_or_underscores(tmp_path):
    for name in SETTINGS:
        value = _example(name)
        if value is None or name in ("clip_mode", "clip_threshold"):
            continue
        for key in (name, name.replace("_", "-")):
            path = tmp_path / f"{key}.toml"
            text = f'"{value}"' if isinstance(value, str) else str(value).lower()
            path.write_text(f"{key} = {text}\n")
            assert load_toml(path) == {name: value}, key
    path = tmp_path / "clip.toml"
    path.write_text("clip-norm = 0.5\n")
    assert load_toml(path) == {"clip_mode": "norm", "clip_threshold": 0.5}
    path.write_text("clip-norm = 0.5\nclip-value = 0.1\n")
    with pytest.raises(ConfigError, match="both clip-norm and clip-value"):
        load_toml(path)


def test_the_settings_tree_shows_every_setting_declared_for_the_window(qtbot):
    from types import SimpleNamespace

    from gradscope.lab.events import LabEvents
    from gradscope.ui.controls import ControlPanel

    pytest.importorskip("pytestqt")
    lab = SimpleNamespace(config=RunConfig(), events=LabEvents(), set_setting=lambda name, value: True)
    panel = ControlPanel(lab)
    qtbot.addWidget(panel)
    for name, declaration in SETTINGS.items():
        if declaration.window:
            parameter = panel.parameter(name)
            assert parameter.title() == declaration.label and parameter.opts["tip"] == declaration.tip, name
        else:
            with pytest.raises(KeyError):
                panel.parameter(name)


def test_validation_refuses_what_each_declaration_rules_out():
    base = RunConfig()
    for name, declaration in SETTINGS.items():
        if declaration.choices:
            with pytest.raises(ConfigError) as caught:
                base.replace(**{name: "nonsense"})
            assert caught.value.option == name
        if declaration.kind in ("int", "float"):
            for beyond in (declaration.low, declaration.high):
                if beyond is None:
                    continue
                outside = beyond - 1 if beyond == declaration.low else beyond + 1
                if declaration.kind == "int":
                    outside = int(outside)
                with pytest.raises(ConfigError) as caught:
                    base.replace(**{name: outside})
                assert caught.value.option == name and declaration.label in caught.value.problem
        if declaration.kind == "float":
            for bad in (math.nan, math.inf):
                with pytest.raises(ConfigError):
                    base.replace(**{name: bad})


def test_denormal_and_overflowing_values_are_refused_before_anything_runs():
    for name in ("lr", "clip_threshold", "temperature"):
        with pytest.raises(ConfigError, match="denormal"):
            RunConfig().replace(**{name: 1e-320})
    with pytest.raises(ConfigError, match="forget-bias"):
        RunConfig(arch="lstm", forget_bias=1e308)


def test_the_live_settings_are_one_type_checked_against_the_config():
    config = RunConfig()
    assert set(LiveSettings.of(config).values) == set(LIVE_SETTINGS) >= {"lr", "clip_mode", "clip_threshold"}
    assert LiveSettings.check(config, {"lr": 1}) == {"lr": 1.0}
    with pytest.raises(ConfigError, match="starts a new run"):
        LiveSettings.check(config, {"hidden": 64})
    with pytest.raises(ConfigError):
        LiveSettings.check(config, {"clip_mode": "sometimes"})
    stored = LiveSettings.of(config).replace({"lr": 0.5}).to_json()
    assert LiveSettings.from_json(stored, config)["lr"] == 0.5


def test_the_readme_holds_the_settings_table_as_generated():
    text = README.read_text(encoding="utf-8")
    assert settings_table() in text, "README's settings table is stale: run `python -m gradscope.config.table --write README.md`"
