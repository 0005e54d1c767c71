"""Models: recurrent networks (Elman, Jordan, LSTM, GRU) with unrolled probe twins."""
from __future__ import annotations

import torch

from gradscope.config import RunConfig
from gradscope.models.recurrent import RecurrentNet, UnrolledPass

__all__ = ["build", "RecurrentNet", "UnrolledPass"]


def build(config: RunConfig, task=None) -> RecurrentNet:
    """The model a configuration describes, initialised deterministically from its seed.

    `task` defaults to `gradscope.tasks.build(config)`; it fixes the input and output sizes.
    """
    from gradscope.models.init import initialise
    from gradscope.tasks import build as build_task

    task = task if task is not None else build_task(config)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)
        model = RecurrentNet(config.arch, task.input_size, config.hidden, task.output_size,
                             layers=config.layers, bidirectional=config.bidirectional,
                             nonlinearity=config.nonlinearity, many_to_many=task.many_to_many)
        generator = torch.Generator().manual_seed(config.seed + 1)
        initialise(model, config, generator)
    return model
