"""The messages between the window's lab and its training process: frozen, picklable
dataclasses, one per kind. No torch, no Qt: both sides import this module alone.

Commands (lab -> training process) act between two training steps; `ChangeSettings`,
`PauseAt` and `NoteAt` land at exactly their step (the training process schedules them).
Reports (training process -> lab) name the run they are about by its index `run`, counted
from 1 over the process's life; runs started together (a comparison) share a `group`, the
`token` of the command that started them, and differ in `slot`. What crosses is our own processes' data: nothing a user opens travels here.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from gradscope.config import RunConfig
from gradscope.records import Event, StepRecord

# -- commands ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StartRuns:
    """New runs (one, or two or three in lockstep) in the session file, the ones training now
    stopped first; `autorun` False leaves them paused before their first step."""

    configs: tuple[RunConfig, ...]
    autorun: bool = True
    varies: tuple[str, ...] = ()        # for a comparison: the settings its runs differ in
    token: int = 0                      # comes back as the runs' `group`


@dataclass(frozen=True)
class ForkRun:
    """A fork of run `run_id` of `session` at its recorded `step`, as the next live run,
    recorded beside its parent (the session file becomes `session`)."""

    session: str
    run_id: int
    step: int
    changes: Mapping[str, Any] = field(default_factory=dict)   # live settings from `step` on
    steps: int | None = None                                   # the fork's total (None: the parent's)
    autorun: bool = True
    token: int = 0                                             # comes back as the run's `group`


@dataclass(frozen=True)
class Resume:
    pass


@dataclass(frozen=True)
class Pause:
    pass


@dataclass(frozen=True)
class StepOnce:
    """One training step of every run, then paused."""


@dataclass(frozen=True)
class Stop:
    pass


@dataclass(frozen=True)
class Quit:
    """Stop, commit the session file and end the training process."""


@dataclass(frozen=True)
class ChangeSettings:
    """Live settings in force from `step` (None: the next step) in the runs of the group at
    the slots `slots` (None: all of them)."""

    changes: Mapping[str, Any]
    step: int | None = None
    slots: tuple[int, ...] | None = None


@dataclass(frozen=True)
class PauseAt:
    """Pause after step `step`: its records are the last until Resume."""

    step: int


@dataclass(frozen=True)
class RunTo:
    """Go on to step `step` and pause after it; refused (and nothing resumed) when the run has
    begun it already."""

    step: int


@dataclass(frozen=True)
class NoteAt:
    step: int
    text: str


@dataclass(frozen=True)
class UseSession:
    """Record the next runs into `path`; the run training now stops."""

    path: str


# -- reports -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Ready:
    pid: int
    session: str
    cuda: bool


@dataclass(frozen=True)
class RunStarted:
    run: int
    config: RunConfig
    run_id: int | None                      # its id in the session file
    device: str = ""
    device_note: str = ""
    parent: tuple[int, int] | None = None   # (run id, step) of a fork's parent
    session: str | None = None
    group: int = 0
    slot: int = 0


@dataclass(frozen=True)
class Records:
    """What one run produced since its last report, in order."""

    run: int
    records: tuple[StepRecord, ...] = ()
    events: tuple[Event, ...] = ()
    states: tuple[str, ...] = ()


@dataclass(frozen=True)
class RunEnded:
    run: int
    state: str


@dataclass(frozen=True)
class RunFailed:
    """A run (None: the training process itself) raised; `traceback` says where. `group`: the
    token of the start it belongs to (None when the process failed)."""

    run: int | None
    traceback: str
    group: int | None = None


@dataclass(frozen=True)
class Refused:
    """A command the training process could not carry out, and why; `group`: the token of the
    start it refused (None for any other command)."""

    message: str
    group: int | None = None


@dataclass(frozen=True)
class Crashed:
    """Made by the lab's side: the training process ended without saying goodbye."""

    exitcode: int | None


COMMANDS = (StartRuns, ForkRun, Resume, Pause, StepOnce, Stop, Quit, ChangeSettings, PauseAt, RunTo, NoteAt,
            UseSession)
REPORTS = (Ready, RunStarted, Records, RunEnded, RunFailed, Refused, Crashed)
