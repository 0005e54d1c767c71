"""`gradscope record --dry-run`: each layer's output shape, worked out before any training.

The table is `gradscope.layer_table`'s, the one the window's Layers panel shows: a combination
that shrinks a map below 1x1 is refused there, naming the layer and the numbers, with the exit
code of any other setting that makes no sense (2). Nothing is trained and no file is written.
"""
from __future__ import annotations

import json

from gradscope.config import RunConfig
from gradscope.layer_table import layer_table, shape_text


def dry_run(config: RunConfig, as_json: bool = False) -> int:
    table = layer_table(config)
    if as_json:
        print(json.dumps({"arch": config.arch, "task": config.task, "layers": table}))
        return 0
    width = max(len(row["layer"]) for row in table)
    print(f"{config.arch} on {config.task}: each layer's output shape for one "
          f"{'image' if config.family != 'recurrent' else 'sequence'}")
    for row in table:
        print(f"  {row['layer']:<{width}}  {shape_text(row['shape'])}")
    return 0
