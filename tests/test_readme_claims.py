"""What the README says about the options and the window holds: every option of every command
is named in it, and the settings it says the window does not show are the declaration's."""
from __future__ import annotations

import argparse
import re
from pathlib import Path

from gradscope.cli import build_parser
from gradscope.config import SETTINGS

README = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")


def _named(option: str) -> bool:
    return re.search(re.escape(option) + r"(?![\w-])", README) is not None


def test_every_option_of_every_command_is_in_the_readme():
    commands = next(action for action in build_parser()._actions if isinstance(action, argparse._SubParsersAction))
    missing = []
    for name, parser in commands.choices.items():
        for action in parser._actions:
            strings = [string for string in action.option_strings if string not in ("-h", "--help")]
            if strings and action.help != argparse.SUPPRESS and not any(_named(string) for string in strings):
                missing.append(f"{name} {'/'.join(strings)}")
    assert not missing, missing
    for flag in ("--momentum", "--copy-symbols", "--temperature", "--fps", "--frames"):   # once missing
        assert _named(flag)


def test_the_settings_the_window_does_not_show_are_named_as_such():
    hidden = sorted(setting.flag for setting in SETTINGS.values() if not setting.window)
    sentence = re.search(r"the others\s+\(([^)]*)\) are set on the\s+command line", README)
    assert sentence, "the README no longer says which settings the window does not show"
    assert sorted(re.findall(r"`(--[\w-]+)`", sentence.group(1))) == hidden
