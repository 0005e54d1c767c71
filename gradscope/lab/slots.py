"""Run slots: the one to three runs on show, each with its history, its place in a comparison
(its colour and line style) and the label that names what sets it apart.

A slot is the lab's, not a source's: the live source fills a slot from the training process's
reports for one run, the recorded source from a run of the file. The panels draw every slot,
slot k in `SLOT_STYLES[k]`.
"""
from __future__ import annotations

from dataclasses import dataclass

from gradscope.config import RunConfig
from gradscope.lab.history import RunHistory

MAX_SLOTS = 3
# (colour, line style) of slot k, by the theme's names: Okabe-Ito colours that stay apart in the
# common colour blindnesses, and a line style that tells them apart in grey too
SLOT_STYLES = (("blue", "solid"), ("red", "dash"), ("green", "dot"))


@dataclass(eq=False)
class RunSlot:
    index: int                       # 0 to 2: its colour and line style
    config: RunConfig
    history: RunHistory
    label: str = ""                  # what differs from the other slots ("ρ = 0.5"); "" alone
    run: int | None = None           # the live source's run index (None: a recorded run)
    run_id: int | None = None        # its id in the session file
    parent: tuple[int, int] | None = None
    device: str = ""
    state: str = "running"

    @property
    def style(self) -> tuple[str, str]:
        return SLOT_STYLES[self.index % len(SLOT_STYLES)]

    @property
    def name(self) -> str:
        """What the legend and the status bar call it."""
        return self.label or self.history.label
