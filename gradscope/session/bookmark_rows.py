"""A bookmark as a session file holds it: the frozen `Bookmark`, and a row of the bookmark
table vetted into one (what the reader and the writers select, so both vet it the same way)."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

from gradscope.session import schema
from gradscope.session.errors import SessionError


@dataclass(frozen=True)
class Bookmark:
    """A note on one step of one run; `created` is seconds since the epoch."""

    id: int
    run_id: int
    step: int
    note: str
    created: float

    def describe(self) -> str:
        return f"step {self.step}: {self.note}" if self.note else f"step {self.step}"


def bookmark_from_row(row: tuple, error: Callable[[str], SessionError]) -> Bookmark:
    """A Bookmark from (id, run_id, step, note, length(note), created) of a file not trusted.

    `note` is NULL when the query found it longer than the cap, so that a crafted file cannot
    make us hold a huge string; `length(note)` then says how long it claims to be.
    """
    bookmark_id, run_id, step, note, length, created = row
    if type(bookmark_id) is not int or not schema.is_index(run_id):
        raise error(f"has a malformed bookmark id ({bookmark_id!r}, run {run_id!r})")
    what = f"bookmark {bookmark_id}"
    if not schema.is_index(step):
        raise error(f"{what}: the step is not an integer in 0..{schema.MAX_INDEX} ({str(step)[:40]!r})")
    if not isinstance(note, str):
        if type(length) is int and length > schema.MAX_NOTE_CHARS:
            raise error(f"{what}: the note is longer than {schema.MAX_NOTE_CHARS} characters ({length})")
        raise error(f"{what}: the note is not text")
    if type(created) not in (int, float) or not math.isfinite(created):
        raise error(f"{what}: malformed creation time")
    return Bookmark(bookmark_id, run_id, step, note, float(created))


# What the reader and the writers select, so that both vet a row the same way.
SELECT_COLUMNS = "id, run_id, step, CASE WHEN length(note) <= ? THEN note END, length(note), created"
