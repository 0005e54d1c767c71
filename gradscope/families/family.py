"""What an architecture family is: everything that differs between recurrent, convolutional and
dense runs, declared in one place so that the engine asks the family instead of the arch.

A `Family` holds
- `archs`: the `--arch` values it builds, and `images`: whether it reads images (else sequences);
- `settings`: its section of the run configuration (the settings declared with this family in
  `families=`, see `gradscope.config.declaration`), and `check`, its rules between them;
- `build_model(config, task)`: the model, initialised from the config's seed;
- `forward(model, inputs, config)`: the training step's forward pass (the recurrent family's
  truncated BPTT lives there);
- `probe(model, task, inputs, targets, seed)`: a callable that measures the probe series on the
  probe batch with the weights in place, for `gradscope.probes.station`; it is called with the
  live settings named in `probe_settings` as keywords (the image nets' `probe_image`);
- `series`: the registry patterns (`gradscope.series`) its probes record;
- `layer_shapes(config, task)`: each layer's output shape before training (`record --dry-run`);
- `describe(config)`: the model in a few symbols, for a run's label ("RNN H=32 x2 T=50",
  "CNN L=20 residual C=16 3x3").

Importing a family imports no torch: the configuration's validation (which runs in the window's
process) asks the family for its rules, and the model and probe code is imported on first use.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from gradscope.config.run_config import SETTINGS


@dataclass(frozen=True)
class Family:
    name: str
    label: str
    archs: tuple[str, ...]
    images: bool
    series: tuple[str, ...]
    check: Callable[[Any], None]
    build_model: Callable[[Any, Any], Any]
    forward: Callable[[Any, Any, Any], Any]
    probe: Callable[..., Callable[[], dict]]
    layer_shapes: Callable[[Any, Any], list]
    describe: Callable[[Any], str]
    probe_settings: tuple[str, ...] = ()     # the live settings its probe takes, by name


    @property
    def settings(self) -> tuple[str, ...]:
        """The names of the settings in this family's section, in declaration order."""
        return tuple(name for name, declaration in SETTINGS.items() if self.name in declaration.families)


def plain_forward(model, inputs, config):
    """One forward pass of the whole batch: what a feed-forward net's training step takes."""
    return model(inputs)
