"""The one exception a session file can raise, so callers need a single `except`."""
from __future__ import annotations

import os


class SessionError(Exception):
    """A session file that cannot be written or read; the message is one line naming the file."""

    def __init__(self, path: str | os.PathLike | None, problem: str):
        self.path = None if path is None else os.fspath(path)
        self.problem = " ".join(str(problem).split())  # one line, whatever sqlite said
        super().__init__(f"{self.path}: {self.problem}" if self.path else self.problem)


class MissingEntryError(SessionError, LookupError):
    """Asked for a run, series, step or checkpoint the session does not hold.

    Also a LookupError, so `except KeyError`-style code written against dicts reads naturally
    with `except LookupError`.
    """
