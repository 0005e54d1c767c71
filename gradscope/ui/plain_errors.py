"""An error in plain words, for a dialog. The main text names the problem as its user would:
"CSV file: /data/prices.csv does not exist", not "gradscope.config.errors.ConfigError: --csv:
…"; what only a developer needs (the exception's class, the traceback) goes into the details.

Errors reach the window two ways: as exceptions the window caught (a file that cannot be
opened, an export that failed), and as text from the training process, where a run's
exception arrives as its formatted traceback (`LabModel.run_failed`). Both come here."""
from __future__ import annotations

import re
import traceback
from dataclasses import dataclass

from gradscope.config import SETTINGS, ConfigError

# the last line of a traceback: "package.module.SomeError: what it says"
EXCEPTION_LINE = re.compile(r"^(?P<name>[A-Za-z_][\w.]*(?:Error|Exception|Interrupt|Exit|Warning)): ?(?P<said>.*)$",
                            re.DOTALL)
OPTION_LEAD = re.compile(r"^--(?P<flag>[a-z][\w-]*): (?P<problem>.*)$", re.DOTALL)
TRACEBACK_HEAD = "Traceback (most recent call last):"


@dataclass(frozen=True)
class PlainError:
    text: str          # the dialog's main text
    details: str = ""  # its detailed text: the class, the traceback; empty when there is no more


def plain_words(problem: BaseException | str) -> PlainError:
    """The problem in plain words, with what was left out of them as the details."""
    if isinstance(problem, BaseException):
        return PlainError(_said(problem), _internals(problem))
    text = str(problem).strip()
    if not text:
        return PlainError("an error that gave no message")
    if TRACEBACK_HEAD in text:
        last = _last_exception(text)
        return PlainError(_option_named(last) if last else text.splitlines()[-1].strip(), text)
    match = EXCEPTION_LINE.match(text)
    if match and "." in match["name"]:     # a class's qualified name leads: internals
        return PlainError(_option_named(match["said"].strip() or match["name"]), text)
    return PlainError(_option_named(text))


def _said(error: BaseException) -> str:
    if isinstance(error, ConfigError):
        return _option_named(str(error))
    if isinstance(error, OSError) and error.strerror:
        where = error.filename if error.filename is not None else ""
        return f"{error.strerror}: {where}" if where else error.strerror
    said = str(error).strip()
    return _option_named(said) if said else _spaced(type(error).__name__)


def _internals(error: BaseException) -> str:
    kind = type(error)
    name = kind.__qualname__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"
    if error.__traceback__ is None:
        return f"{name}: {error}"
    return "".join(traceback.format_exception(kind, error, error.__traceback__)).rstrip()


def _last_exception(text: str) -> str:
    """What the last exception of a traceback said (a chained one prints the last last)."""
    lines = text.rstrip().splitlines()
    for at in range(len(lines) - 1, -1, -1):
        line = lines[at]
        if line[:1].isspace():
            continue                # source lines and the message's own continuation lines
        match = EXCEPTION_LINE.match("\n".join(lines[at:]))
        if match:
            return match["said"].strip() or _spaced(match["name"].rsplit(".", 1)[-1])
    return ""


def _option_named(text: str) -> str:
    """A setting's problem ("--csv: …") under the name the window shows for it ("CSV file: …")."""
    match = OPTION_LEAD.match(text)
    if match is None:
        return text
    declaration = SETTINGS.get(match["flag"].replace("-", "_"))
    return f"{declaration.label}: {match['problem']}" if declaration is not None else text


def _spaced(name: str) -> str:
    """RuntimeError -> "runtime error"."""
    return re.sub(r"(?<!^)(?=[A-Z])", " ", name).lower()
