"""The named layouts of the lab: which panels stand on the stage, the two or three large
plots of the story being told, while the others wait in tabs.

A layout is the lab model's state (`LabModel.layout`), not the window's, so a lesson can
switch it at an exact step and a script can set it without Qt. Panels are named by their
`name` (`gradscope.ui.panels`); a layout lists them in the order they stand, left to right.
The keys 1 to 9 of the window choose the layouts in this order.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Layout:
    name: str               # what View > Layout and the settings say ("through_time")
    title: str              # what the menu and the stage's tab say ("Through time")
    stage: tuple[str, ...]  # the panels on the stage, left to right
    story: str              # what the layout is for, as a tooltip


LAYOUTS = (
    Layout("overview", "Overview", ("timesteps", "grad_norm"),
           "The error signal through time beside the gradient norm and clipping"),
    Layout("through_time", "Through time", ("timesteps", "step_jacobians"),
           "How the error signal fades or grows, and the step Jacobians that make it so"),
    Layout("clipping", "Clipping", ("grad_norm", "loss"),
           "The gradient norm against the threshold you drag, beside the loss it protects"),
    # alone: an LSTM's four gate maps need the stage's whole width
    Layout("gates", "Gates", ("gates",),
           "What the LSTM's and GRU's gates do to the error signal (a vanilla RNN: its saturation)"),
    Layout("training", "Training", ("loss", "task"),
           "The loss and what the task shows of the model's skill"),
)
LAYOUT_NAMES = tuple(layout.name for layout in LAYOUTS)
DEFAULT_LAYOUT = "overview"


def layout_named(name: str) -> Layout:
    for layout in LAYOUTS:
        if layout.name == name:
            return layout
    raise KeyError(f"no layout named {name!r}; the layouts are {', '.join(LAYOUT_NAMES)}")


def layout_after(name: str, offset: int) -> str:
    """The layout `offset` places after `name` (before, when negative), going round."""
    index = LAYOUT_NAMES.index(name) if name in LAYOUT_NAMES else 0
    return LAYOUT_NAMES[(index + offset) % len(LAYOUT_NAMES)]
