"""Single values checked against their declaration: the kind, the choices, the range, and
numbers that are finite and not denormal (a learning rate of 1e-320 passes `> 0` but no float
arithmetic the trainer does keeps it)."""
from __future__ import annotations

import math
import struct
import sys
from typing import Any

from gradscope.config.declaration import Setting
from gradscope.config.errors import ConfigError

SMALLEST_NORMAL = sys.float_info.min      # 2.2e-308: below it a float loses precision


def coerce(declaration: Setting, value: Any) -> Any:
    """A JSON, TOML or command-line value of the right kind as the field's type; anything else
    is refused with a message naming the option."""
    name, kind = declaration.name, declaration.kind
    if value is None:
        if declaration.optional:
            return None
        raise ConfigError(name, "must be given")
    if kind == "bool":
        if isinstance(value, bool):
            return value
        raise ConfigError(name, f"must be true or false, not {_shown(value)}")
    if kind == "int":
        if isinstance(value, int) and not isinstance(value, bool):
            if abs(value) > 2**63:
                raise ConfigError(name, "is too large for a whole number")
            return value
        if not isinstance(value, float) or not math.isfinite(value) or value != int(value):
            raise ConfigError(name, f"must be a whole number, not {_shown(value)}")
        return int(value)
    if kind == "float":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(name, f"must be a number, not {_shown(value)}")
        try:
            return float(value)
        except OverflowError:
            raise ConfigError(name, "is too large for a number") from None
    if not isinstance(value, str):
        raise ConfigError(name, f"must be text, not {_shown(value)}")
    return value


def check_value(declaration: Setting, value: Any) -> None:
    """Refuse a value (already of the field's type) that its declaration does not allow."""
    name, kind = declaration.name, declaration.kind
    if value is None and declaration.optional:
        return
    if kind == "bool":
        if not isinstance(value, bool):
            raise ConfigError(name, f"must be true or false, not {_shown(value)}")
        return
    if kind == "str":
        if not isinstance(value, str):
            raise ConfigError(name, f"must be text, not {_shown(value)}")
        if declaration.choices and value not in declaration.choices:
            raise ConfigError(name, f"unknown value {_shown(value)}; choose one of {', '.join(declaration.choices)}")
        if "\x00" in value or len(value) > 4096:
            raise ConfigError(name, "is not a usable text (too long, or it holds a NUL)")
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (kind == "int" and not isinstance(value, int)):
        raise ConfigError(name, f"must be a {'whole number' if kind == 'int' else 'number'}, not {_shown(value)}")
    if kind == "float":
        if not math.isfinite(value):
            raise ConfigError(name, f"must be a finite number, not {value!r}")
        if _denormal(float(value)):
            zero = "0 or " if declaration.in_range(0.0) else ""
            raise ConfigError(name, f"is a denormal float, too small to compute with; use {zero}a value of "
                              f"at least {SMALLEST_NORMAL:.1e}")
    if not declaration.in_range(value):
        raise ConfigError(name, f"{value!r} is out of range: {declaration.label} must be "
                          f"{declaration.describe_range()}")


def _denormal(value: float) -> bool:
    """Read from the float's bits: where torch has set the CPU to flush denormals to zero (as
    the trainer does), arithmetic on one, a comparison included, already sees 0."""
    bits = struct.unpack("<Q", struct.pack("<d", value))[0]
    return (bits >> 52) & 0x7FF == 0 and bits & ((1 << 52) - 1) != 0


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
