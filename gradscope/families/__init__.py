"""Architecture families: recurrent, convolutional (conv) and dense.

    from gradscope.families import FAMILIES, family_of
    family = family_of(config.arch)        # or FAMILIES["conv"]
    family.settings                        # its section of the run configuration
    model = family.build_model(config, task)
    measure = family.probe(model, task, probe_inputs, probe_targets, seed)   # measure() -> series

The engine asks the family of a run's arch for everything that differs between families (see
`family.Family`), and the window is meant to do the same for its panels and layouts, the way
napari maps a layer type to its view. Nothing here imports torch until a model is built or a
probe made.
"""
from __future__ import annotations

from gradscope.config.run_config import ARCH_FAMILIES, IMAGE_TASKS, TASKS
from gradscope.families.conv import CONV
from gradscope.families.dense import DENSE
from gradscope.families.family import Family
from gradscope.families.recurrent import RECURRENT

FAMILIES: dict[str, Family] = {family.name: family for family in (RECURRENT, CONV, DENSE)}

__all__ = ["CONV", "DENSE", "FAMILIES", "Family", "RECURRENT", "family_of", "switched_with"]

# the arch a run takes when its new task needs a net of another family
DEFAULT_ARCH = {False: "rnn", True: "cnn"}


def family_of(arch: str) -> Family:
    """The family that builds `arch` (a KeyError names an unknown one)."""
    try:
        return FAMILIES[ARCH_FAMILIES[arch]]
    except KeyError:
        raise KeyError(f"no family builds the architecture {arch!r}") from None


def switched_with(config, name: str, value) -> dict:
    """What else changes when one setting of `config` becomes `value`, so that a run switched
    from one family to another stays a run: a new arch whose family reads the other kind of
    data brings its family's default task, and a new task the arch cannot read brings an arch
    that can (the window sets one setting at a time, and either change alone would be
    refused). Empty when nothing else needs to change."""
    if name == "arch" and value in ARCH_FAMILIES:
        family = family_of(value)
        if (config.task in IMAGE_TASKS) != family.images:
            return {"task": family.default_task}
    if name == "task" and value in TASKS:
        images = value in IMAGE_TASKS
        if images != family_of(config.arch).images:
            return {"arch": DEFAULT_ARCH[images]}
    return {}
