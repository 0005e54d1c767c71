"""The dense family: an mlp of 0 to 4 hidden layers on the flattened image, the "fully
connected" baseline; probed through depth like the convolutional nets (no filters)."""
from __future__ import annotations

from functools import partial

from gradscope.families import images
from gradscope.families.family import Family, plain_forward


def plan_of(config, task):
    from gradscope.models.plans import mlp_plan

    return mlp_plan(task.input_shape, task.output_size, hidden_layers=config.layers, width=config.hidden,
                    nonlinearity=config.nonlinearity)


def describe(c) -> str:
    return f"MLP {c.layers}x{c.hidden} {c.nonlinearity}" if c.layers else "MLP linear"


DENSE = Family(
    name="dense", label="dense nets", archs=("mlp",), images=True,
    series=tuple(name for name in images.IMAGE_SERIES if "/layer" not in name),
    check=images.check_image_net, build_model=partial(images.build_planned, plan_of), forward=plain_forward,
    probe=images.probe, layer_shapes=partial(images.layer_shapes, plan_of), describe=describe,
    probe_settings=images.PROBE_SETTINGS)
