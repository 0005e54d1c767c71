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
