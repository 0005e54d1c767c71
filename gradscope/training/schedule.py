"""A schedule of what happens at exact steps of a run: setting changes, pauses and notes.

    schedule.change(50, clip_threshold=0.5)   # in force from step 50 on (its record included)
    schedule.change(None, lr=0.01)            # at the next step the trainer takes
    schedule.pause_at(137)                    # the run pauses after step 137: its last record is 137
    schedule.note_at(200, "the forget gate opens")

It lives where training runs (the trainer, or the training process of the window), so a change
or a pause lands at exactly its step however late the window sees the records. The trainer
takes each step's entries as it begins the step (`take`); a fork's fast-forward and a lesson
are schedules too. Thread-safe: the window's commands arrive on another thread than the one
that trains.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Due:
    """What a schedule holds for one step: the changes in force from it, the notes made at it,
    and whether the run pauses after it."""

    changes: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    pause: bool = False


class Schedule:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._at: dict[int, Due] = {}
        self._next: dict[str, Any] = {}          # for the next step, whichever it is
        self._taken = -1                          # steps up to this one are under way or done

    def change(self, step: int | None, **changes: Any) -> None:
        """Settings in force from `step` on (None: the next step taken). Callers check them
        first (`LiveSettings.check`); a later change of the same setting at the same step wins."""
        with self._lock:
            target = self._next if step is None else self._due(step).changes
            target.update(changes)

    def add(self, step: int, due: Due) -> None:
        """All of `due` at `step` at once (nothing of it when the step is refused)."""
        with self._lock:
            entry = self._due(step)
            entry.changes.update(due.changes)
            entry.notes.extend(due.notes)
            entry.pause = entry.pause or due.pause

    def pause_at(self, step: int) -> None:
        with self._lock:
            self._due(step).pause = True

    def note_at(self, step: int, text: str) -> None:
        with self._lock:
            self._due(step).notes.append(str(text))

    def take(self, step: int) -> Due:
        """Remove and return what is due at `step`: its scheduled changes with the next-step
        ones over them (made later, so they win), its notes, its pause."""
        with self._lock:
            self._taken = max(self._taken, step)
            due = self._at.pop(step, None) or Due()
            due.changes.update(self._next)
            self._next = {}
            return due

    def pending(self) -> dict[int, Due]:
        """What is still to come, by step (a copy)."""
        with self._lock:
            return {step: Due(dict(due.changes), list(due.notes), due.pause) for step, due in sorted(self._at.items())}

    def _due(self, step: int) -> Due:
        """The entry of a step still to come. Checked under the lock that `take` holds, so an
        entry for a step already taken (under way, or done) is refused, never silently lost."""
        if isinstance(step, bool) or not isinstance(step, int) or step < 0:
            raise ValueError(f"a schedule's step is a whole number of at least 0, not {step!r}")
        if step <= self._taken:
            raise ValueError(f"step {step} is under way or done (the run has begun step {self._taken})")
        return self._at.setdefault(step, Due())
