"""The convolutional family: LeNet and the deep plain or residual CNN, on image tasks, probed
through depth (`gradscope.probes.depth`) and on the test split."""
from __future__ import annotations

from functools import partial

from gradscope.config.errors import ConfigError
from gradscope.families import images
from gradscope.families.family import Family, plain_forward


def check(c) -> None:
    images.check_image_net(c)
    if c.arch == "cnn" and c.padding >= c.kernel:
        raise ConfigError("padding", f"a padding of {c.padding} with a {c.kernel}x{c.kernel} kernel adds outputs "
                          f"that see nothing but zeros; give at most {c.kernel - 1}")


def plan_of(config, task):
    from gradscope.models.plans import cnn_plan, lenet_plan

    if config.arch == "lenet":
        return lenet_plan(task.input_shape, task.output_size, nonlinearity=config.nonlinearity, pool=config.pool)
    return cnn_plan(task.input_shape, task.output_size, depth=config.depth, channels=config.channels,
                    kernel=config.kernel, stride=config.stride, padding=config.padding, pool=config.pool,
                    nonlinearity=config.nonlinearity, batch_norm=config.batch_norm, residual=config.residual)


def describe(c) -> str:
    if c.arch == "lenet":
        return f"LeNet {c.nonlinearity}" + ("" if c.pool == "none" else f" {c.pool} pool")
    shape = f"{c.kernel}x{c.kernel}" + (f"/{c.stride}" if c.stride > 1 else "")
    extras = "".join(part for part, on in ((" residual", c.residual), (" BN", c.batch_norm)) if on)
    return f"CNN L={c.depth}{extras} C={c.channels} {shape} {c.nonlinearity}"


CONV = Family(
    name="conv", label="convolutional nets", archs=("lenet", "cnn"), images=True, series=images.IMAGE_SERIES,
    check=check, build_model=partial(images.build_planned, plan_of), forward=plain_forward, probe=images.probe,
    layer_shapes=partial(images.layer_shapes, plan_of), describe=describe,
    probe_settings=images.PROBE_SETTINGS)
