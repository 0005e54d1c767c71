"""The one error a setting that makes no sense raises."""
from __future__ import annotations


class ConfigError(ValueError):
    """A setting that makes no sense; `option` names it the way the command line does."""

    def __init__(self, option: str, problem: str):
        super().__init__(f"--{option.replace('_', '-')}: {problem}")
        self.option = option
        self.problem = problem
