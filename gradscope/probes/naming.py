"""Series names for stacked and bidirectional models (DESIGN.md, "Layers")."""
from __future__ import annotations


def layer_suffix(layer: int, direction: int, layers: int) -> str:
    """'' for the last layer's forward direction, else '/layer<k>' or '/layer<k>/reverse'."""
    if layer == layers - 1 and direction == 0:
        return ""
    return f"/layer{layer}" + ("/reverse" if direction else "")

