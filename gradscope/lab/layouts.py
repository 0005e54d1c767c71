"""The named layouts of the lab: which panels stand on the stage, the two or three large
plots of the story being told, while the others wait in tabs.

A layout is the lab model's state (`LabModel.layout`), not the window's, so a lesson can
switch it at an exact step and a script can set it without Qt. Panels are named by their
`name` (`gradscope.ui.panels`); a layout lists them in the order they stand, left to right.

Each layout is for one kind of run: "sequence" (the recurrent family) or "image" (the
convolutional and dense families, `gradscope.families`). The window shows the layouts and
panels of the kind of the runs on show, and the keys 1 to 9 choose that kind's layouts in
this order; when runs of the other kind come on show, the lab moves to that kind's first
layout (`LabModel.match_layout`).
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Layout:
    name: str               # what View > Layout and the settings say ("through_time")
    title: str              # what the menu and the stage's tab say ("Through time")
    stage: tuple[str, ...]  # the panels on the stage, left to right
    story: str              # what the layout is for, as a tooltip
    kind: str = "sequence"  # the runs it is for: "sequence" or "image"


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
    Layout("depth", "Depth", ("depth", "grad_norm"),
           "The error signal through depth, plain against residual, beside the gradient norm", kind="image"),
    Layout("filters", "Filters", ("filters", "accuracy"),
           "What the conv layers learned and see, beside how well the net classifies", kind="image"),
    Layout("images", "Images", ("images", "filters"),
           "A test image you pick, as each conv layer sees it, and the net's verdict, beside the filters",
           kind="image"),
    Layout("accuracy", "Accuracy", ("loss", "accuracy"),
           "The loss beside the accuracy and the test split's confusion", kind="image"),
    # before Run, what the settings make of the net; during training, each conv layer's row
    # beside its gradient
    Layout("layers", "Layers", ("layers", "depth"),
           "Each layer's output shape, worked out before training, beside the error signal through depth",
           kind="image"),
)
LAYOUT_NAMES = tuple(layout.name for layout in LAYOUTS)
KINDS = ("sequence", "image")
DEFAULT_LAYOUT = "overview"


def layouts_for(kind: str) -> tuple[Layout, ...]:
    return tuple(layout for layout in LAYOUTS if layout.kind == kind)


def layout_named(name: str) -> Layout:
    for layout in LAYOUTS:
        if layout.name == name:
            return layout
    raise KeyError(f"no layout named {name!r}; the layouts are {', '.join(LAYOUT_NAMES)}")


def layout_after(name: str, offset: int) -> str:
    """The layout `offset` places after `name` (before, when negative) among its kind's,
    going round."""
    kind = layout_named(name).kind if name in LAYOUT_NAMES else "sequence"
    names = [layout.name for layout in layouts_for(kind)]
    index = names.index(name) if name in names else 0
    return names[(index + offset) % len(names)]


def kind_of(arch: str) -> str:
    """The kind of run an architecture makes: "image" for the convolutional and dense families."""
    from gradscope.families import family_of

    return "image" if family_of(arch).images else "sequence"
