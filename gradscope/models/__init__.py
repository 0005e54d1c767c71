"""Models: recurrent networks (Elman, Jordan, LSTM, GRU) with unrolled probe twins, and the
convolutional and dense image nets (LeNet, the plain or residual CNN, the mlp) as `LayeredNet`s.
Which one a configuration describes is its architecture family's business (`gradscope.families`)."""
from __future__ import annotations

from gradscope.config import RunConfig
from gradscope.models.layered import LayeredNet
from gradscope.models.recurrent import RecurrentNet, UnrolledPass

__all__ = ["build", "LayeredNet", "RecurrentNet", "UnrolledPass"]


def build(config: RunConfig, task=None):
    """The model a configuration describes, initialised deterministically from its seed.

    `task` defaults to `gradscope.tasks.build(config)`; it fixes the input and output sizes.
    """
    from gradscope.families import family_of
    from gradscope.tasks import build as build_task

    task = task if task is not None else build_task(config)
    return family_of(config.arch).build_model(config, task)
