"""How a run setting is declared: once, on its `RunConfig` field, with everything every place
that shows, parses or checks it needs.

    hidden: int = setting(32, "hidden size H", group="Model", low=2, high=512, unit="units",
                          symbol="H", tip="H, the size of the hidden state ...")

The command line (`gradscope.config.options`), the TOML keys (`gradscope.config.toml`), the
window's settings tree (`gradscope.ui.controls`), the README's option table and the validation
of single values (`gradscope.config.values`) are all generated from these declarations; a rule
that ties two settings together lives in `RunConfig`'s own validation.

A `live` setting may change between two training steps of a running trainer (the learning
rate, the clipping); every other one describes a new run.

A setting's `families` say which architecture families read it (`gradscope.families`): none
declared means every family does (a common field: the task, the optimiser, the seed). The
settings a family reads are its section of the configuration; the others leave its runs alone.
A setting's `archs` narrow that to some of its families' architectures: a CNN's depth and
kernel are not LeNet's, whose shape is fixed.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

GROUPS = ("Task", "Model", "Training", "Clipping", "Probes and recording")
FAMILY_NAMES = ("recurrent", "conv", "dense")

KEY = "setting"        # the key of a field's metadata that holds its Setting


@dataclass(frozen=True)
class Setting:
    """What gradscope knows about one run setting besides its type and default."""

    label: str                       # what the window and the error messages call it
    tip: str                         # what it does to the gradients: tooltip, --help, README
    group: str                       # one of GROUPS
    choices: tuple[str, ...] = ()    # the values a text setting takes
    low: float | None = None         # the range, low <= value <= high (an end may be open)
    high: float | None = None
    low_open: bool = False           # value > low instead of >=
    high_open: bool = False          # value < high instead of <=
    unit: str = ""                   # what the number counts ("steps", "units")
    live: bool = False               # applies to a running trainer from its next step
    symbol: str = ""                 # the short name a legend uses ("ρ", "H"); default: the label
    window: bool = True              # shown in the window's settings tree
    path: bool = False               # a file path, stored absolute so a session finds its data
    option: bool = True              # an option of its own; False: set through another one
                                     # (the clipping pair --clip-norm X / --clip-value X)
    name: str = ""                   # the field's name, filled in by `declared`
    kind: str = ""                   # bool, int, float or str, filled in by `declared`
    optional: bool = False           # None is a value (no file, no forget-gate bias)
    families: tuple[str, ...] = ()   # the families that read it (FAMILY_NAMES); (): every one
    archs: tuple[str, ...] = ()      # of those families' architectures, the ones that read it; (): all

    def read_by(self, arch: str, family: str) -> bool:
        """Whether a run of `arch` (of `family`) reads this setting."""
        return (not self.families or family in self.families) and (not self.archs or arch in self.archs)

    @property
    def flag(self) -> str:
        """The command-line option: --seq-len for seq_len."""
        return "--" + self.name.replace("_", "-")

    @property
    def short(self) -> str:
        return self.symbol or self.label

    def describe_range(self) -> str:
        """The range in words, for messages and help: "between 2 and 512", "above 0"."""
        low, high = self.low, self.high
        if low is not None and high is not None and not (self.low_open or self.high_open):
            return f"between {_number(low)} and {_number(high)}"
        parts = []
        if low is not None:
            parts.append(f"{'above' if self.low_open else 'at least'} {_number(low)}")
        if high is not None:
            parts.append(f"{'below' if self.high_open else 'at most'} {_number(high)}")
        return " and ".join(parts)

    def in_range(self, value: float) -> bool:
        if self.low is not None and (value <= self.low if self.low_open else value < self.low):
            return False
        if self.high is not None and (value >= self.high if self.high_open else value > self.high):
            return False
        return True


def setting(default: Any, label: str, *, tip: str, group: str, **details: Any) -> Any:
    """A RunConfig field with its declaration (see `Setting` for the details)."""
    if group not in GROUPS:
        raise ValueError(f"unknown settings group {group!r}")
    if not set(details.get("families", ())) <= set(FAMILY_NAMES):
        raise ValueError(f"unknown families {details['families']!r}")
    return dataclasses.field(default=default, metadata={KEY: Setting(label=label, tip=tip, group=group, **details)})


def declared(config_class) -> dict[str, Setting]:
    """Every setting of `config_class` in declaration order, each with its name and kind."""
    found = {}
    for item in dataclasses.fields(config_class):
        declaration = item.metadata.get(KEY)
        if declaration is None:
            raise TypeError(f"{config_class.__name__}.{item.name} has no declaration: declare it with setting()")
        text = str(item.type)
        kind = next(kind for kind in ("bool", "int", "float", "str") if text.startswith(kind))
        found[item.name] = dataclasses.replace(declaration, name=item.name, kind=kind, optional="None" in text)
    return found


def _number(value: float) -> str:
    return f"{value:,}" if float(value).is_integer() and abs(value) >= 1000 else f"{value:g}"
