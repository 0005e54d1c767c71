"""The rules that tie settings together; each value alone was checked from its declaration.

The rules common to every run are here (a task fits its family, a file task has its file);
each architecture family checks its own section (`gradscope.families`, `Family.check`), so
that what a setting means to a family and what it allows are written in one place.
"""
from __future__ import annotations

from gradscope.config.errors import ConfigError
from gradscope.config.run_config import IMAGE_TASKS, RunConfig


def check_combination(c: RunConfig) -> None:
    from gradscope.families import family_of

    family = family_of(c.arch)
    if c.task in IMAGE_TASKS and not family.images:
        raise ConfigError("task", f"{c.task} is an image task, and {c.arch} is a recurrent net that reads "
                          "sequences; give an image net (--arch lenet, cnn or mlp) or a sequence task "
                          "(adding, copy, recall, sine, charlm, csv)")
    if c.task not in IMAGE_TASKS and family.images:
        raise ConfigError("task", f"{c.task} is a sequence task, and {c.arch} is an image net; give an image "
                          "task (--task digits, mnist or images) or a recurrent net (--arch rnn, jordan, lstm "
                          "or gru)")
    if c.task == "csv" and not c.csv:
        raise ConfigError("csv", "the csv task needs a data file (--csv FILE)")
    if c.task == "images" and not c.images:
        raise ConfigError("images", "the images task needs your images (--images PATH: a folder with a "
                          "sub-folder of PNG or JPEG files per class, or an .npz file)")
    if c.images and c.task != "images":
        raise ConfigError("images", f"--images is for --task images; the {c.task} task brings its own data")
    family.check(c)


def carried_along(c: RunConfig, name: str, value) -> dict:
    """What an architecture or task change takes along so that the two still fit: an image net
    chosen with a sequence task takes the digits, a recurrent net chosen with an image task
    the adding task, and a task the other way round (cnn, rnn). The window's settings change
    one value at a time: without this, neither of the pair could be changed first."""
    from gradscope.families import family_of

    if name == "arch":
        images = family_of(value).images
        if images and c.task not in IMAGE_TASKS:
            return {"task": "digits", **_fitting_choices(c, images=True)}
        if not images and c.task in IMAGE_TASKS:
            return {"task": "adding", "images": None, **_fitting_choices(c, images=False)}
    elif name == "task":
        if value in IMAGE_TASKS and not family_of(c.arch).images:
            return {"arch": "cnn", **_fitting_choices(c, images=True)}
        if value not in IMAGE_TASKS and family_of(c.arch).images:
            return {"arch": "rnn", **_fitting_choices(c, images=False)}
    return {}


def _fitting_choices(c: RunConfig, images: bool) -> dict:
    """The initialisation and nonlinearity kept where the other family takes them, else its
    defaults (an orthogonal W_hh means nothing to a CNN, a sigmoid nothing to an RNN)."""
    from gradscope.families.recurrent import RECURRENT_INITS

    changes = {}
    if images and c.init in RECURRENT_INITS and c.init != "default":
        changes["init"] = "default"
    if not images and c.init not in RECURRENT_INITS:
        changes["init"] = "default"
    if not images and c.nonlinearity != "tanh":
        changes["nonlinearity"] = "tanh"          # sigmoid is no RNN's, relu no LSTM's
    return changes
