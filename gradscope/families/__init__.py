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

from gradscope.config.run_config import ARCH_FAMILIES
from gradscope.families.conv import CONV
from gradscope.families.dense import DENSE
from gradscope.families.family import Family
from gradscope.families.recurrent import RECURRENT

FAMILIES: dict[str, Family] = {family.name: family for family in (RECURRENT, CONV, DENSE)}

__all__ = ["CONV", "DENSE", "FAMILIES", "Family", "RECURRENT", "family_of"]


def family_of(arch: str) -> Family:
    """The family that builds `arch` (a KeyError names an unknown one)."""
    try:
        return FAMILIES[ARCH_FAMILIES[arch]]
    except KeyError:
        raise KeyError(f"no family builds the architecture {arch!r}") from None

