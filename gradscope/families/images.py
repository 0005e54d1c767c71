"""What the convolutional and dense families share: they classify images, train on whole
batches and record the same probes (`gradscope.probes.classifier`)."""
from __future__ import annotations

from gradscope.config.errors import ConfigError
from gradscope.config.run_config import MAX_IMAGE_SIZE, MIN_IMAGE_SIZE

IMAGE_INITS = ("default", "kaiming", "xavier")
IMAGE_SERIES = ("layer_grad_norm", "weight_grad_norm", "activation_norm", "dead_fraction", "filters/layer{k}",
                "feature_maps/layer{k}", "strip/images", "strip/labels", "strip/probabilities", "strip/probed",
                "test_accuracy", "confusion")
PROBE_SETTINGS = ("probe_image",)   # the strip image whose feature maps are recorded (probes.strip)


def check_image_net(c) -> None:
    """The rules every image net keeps: its own initialisations, and no recurrent-only training."""
    if c.init not in IMAGE_INITS:
        raise ConfigError("init", f"{c.init} is for recurrent nets; {c.arch} takes {', '.join(IMAGE_INITS)}")
    if c.tbptt:
        raise ConfigError("tbptt", f"truncated BPTT cuts a sequence; {c.arch} reads images (use 0)")
    if c.bidirectional:
        raise ConfigError("bidirectional", f"a reverse direction reads a sequence backwards; {c.arch} reads images")
    if c.forget_bias is not None:
        raise ConfigError("forget_bias", "only an LSTM has a forget gate")
    if 0 < c.image_size < MIN_IMAGE_SIZE:
        raise ConfigError("image_size", f"{c.image_size} is out of range: give 0 (the data's own size) or "
                          f"{MIN_IMAGE_SIZE} to {MAX_IMAGE_SIZE} pixels")


def build_planned(plan_of, config, task):
    """The LayeredNet of `plan_of(config, task)`, a refused shape said as a ConfigError."""
    from gradscope.models.feedforward import build_plan

    return build_plan(planned(plan_of, config, task), init=config.init, seed=config.seed)


def planned(plan_of, config, task):
    try:
        return plan_of(config, task)
    except ValueError as exc:
        raise ConfigError(_option_of(config), str(exc)) from None


def _option_of(config) -> str:
    """The option a refused plan is said under: what shrinks the maps, which the user would
    change first (a cnn's maps shrink by its stride, a padding short of the kernel, or
    else by the pools of its depth)."""
    if config.arch == "cnn":
        if config.stride > 1:
            return "stride"
        return "padding" if 2 * config.padding < config.kernel - 1 else "depth"
    return {"mlp": "layers"}.get(config.arch, "image_size")


def probe(model, task, inputs, targets, seed: int = 0):
    from gradscope.probes.classifier import ClassifierProbe

    return ClassifierProbe(model, task, inputs, targets)


def layer_shapes(plan_of, config, task) -> list:
    """The plan's table: its layers, the pools between them and the head (`Plan.table`)."""
    return planned(plan_of, config, task).table()
