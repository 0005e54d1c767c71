"""Each layer's output shape for one input, worked out before any training: the table that
`gradscope record --dry-run` prints and the window's Layers panel shows.

The shapes come from the run's family (`Family.layer_shapes`): for a convolutional net the
notes' arithmetic, (N + 2P - F)/S + 1 per side, layer by layer, so that a combination that
shrinks a map below 1x1 is refused (a ConfigError naming the layer and the numbers) before a
model exists. Nothing here runs a forward pass.
"""
from __future__ import annotations

import math
from functools import lru_cache
from types import SimpleNamespace

from gradscope.config import RunConfig


def layer_table(config: RunConfig) -> list[dict]:
    """[{"layer": name, "shape": [...]}, ...] from the input to the output (a ConfigError for a
    refused combination or for data that cannot be read)."""
    from gradscope.families import family_of

    task = _task_of(config)
    shapes = family_of(config.arch).layer_shapes(config, task)
    first = list(getattr(task, "input_shape", None) or (task.length, task.input_size))
    return [{"layer": "input", "shape": first}] + [{"layer": shape.name, "shape": list(shape.shape)}
                                                    for shape in shapes]


def values_in(shape) -> int:
    """How many numbers an output of `shape` holds (for one input)."""
    return math.prod(shape)


def shape_text(shape) -> str:
    return " x ".join(str(side) for side in shape)


def _task_of(config: RunConfig):
    """The task the shapes are worked out for. An image task is read once per data setting:
    the window asks again at every setting changed, and reading MNIST again would take 0.3 s
    of the GUI thread each time, for the same two numbers."""
    from gradscope import tasks

    if config.task in tasks.IMAGE_TASK_NAMES:
        input_shape, classes = _image_task_shape(config.task, config.images, config.image_size)
        return SimpleNamespace(input_shape=input_shape, output_size=classes)
    return tasks.build(config)


@lru_cache(maxsize=16)
def _image_task_shape(task: str, images, image_size: int) -> tuple[tuple[int, ...], int]:
    from gradscope import tasks

    built = tasks.image_task(task, images, image_size or None)
    return tuple(built.input_shape), built.output_size
