"""`gradscope record --dry-run`: each layer's output shape, worked out before any training.

The shapes come from the run's family (`Family.layer_shapes`): for a convolutional net the
notes' arithmetic, (N + 2P - F)/S + 1 per side, layer by layer, so that a combination that
shrinks a map below 1x1 is refused here, naming the layer and the numbers, with the exit code
of any other setting that makes no sense (2). Nothing is trained and no file is written.
"""
from __future__ import annotations

import json

from gradscope.config import RunConfig


def layer_table(config: RunConfig) -> list[dict]:
    """[{"layer": name, "shape": [...]}, ...] from the input to the output (a ConfigError for a
    refused combination or for data that cannot be read)."""
    from gradscope import tasks
    from gradscope.families import family_of

    task = tasks.build(config)
    shapes = family_of(config.arch).layer_shapes(config, task)
    first = list(getattr(task, "input_shape", (task.length, task.input_size)))
    return [{"layer": "input", "shape": first}] + [{"layer": shape.name, "shape": list(shape.shape)}
                                                    for shape in shapes]


def dry_run(config: RunConfig, as_json: bool = False) -> int:
    table = layer_table(config)
    if as_json:
        print(json.dumps({"arch": config.arch, "task": config.task, "layers": table}))
        return 0
    width = max(len(row["layer"]) for row in table)
    print(f"{config.arch} on {config.task}: each layer's output shape for one "
          f"{'image' if config.family != 'recurrent' else 'sequence'}")
    for row in table:
        print(f"  {row['layer']:<{width}}  {' x '.join(str(side) for side in row['shape'])}")
    return 0
