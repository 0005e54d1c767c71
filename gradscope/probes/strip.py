"""The test strip: a few held-out images, one of each class, that the Images panel shows and
the user picks the probe image from.

At every probe, with the probed step's weights and in eval mode (batch norm with its running
statistics, as the test accuracy is scored), without autograd:

| name | shape | meaning |
|---|---|---|
| `strip/images` | [N, C, H, W] | the strip's images (a session shows them without the data) |
| `strip/labels` | [N] | each strip image's true class |
| `strip/probabilities` | [N, classes] | the softmax of the net's logits for each strip image |
| `strip/probed` | [N] | 1 for the strip image the feature maps are of, 0 for the others |
| `feature_maps/layer<k>` | [C, H, W] | conv layer k's output for that image |

Which image is probed is the live setting `probe_image`: a click in the window changes it
between two steps, as a lesson's schedule can, and the next probe records that image's maps.
The strip holds the first test image of each class in class order, at most STRIP_SIZE.
"""
from __future__ import annotations

import numpy as np
import torch

from gradscope.probes.untouched import measuring

STRIP_SIZE = 10
STRIP_IMAGES = "strip/images"
STRIP_LABELS = "strip/labels"
STRIP_PROBABILITIES = "strip/probabilities"
STRIP_PROBED = "strip/probed"
FEATURE_MAPS = "feature_maps/layer{k}"


def strip_indices(labels: np.ndarray | torch.Tensor, size: int = STRIP_SIZE) -> np.ndarray:
    """Indices into `labels`: the first image of each class present, in class order, at most `size`."""
    labels = np.asarray(labels)
    classes, first = np.unique(labels, return_index=True)
    return first[np.argsort(classes, kind="stable")][:size].astype(np.int64)


def strip_probe(model, images: torch.Tensor, labels: torch.Tensor, probe_image: int = 0) -> dict[str, np.ndarray]:
    """The strip's series (the module's table) for the strip `images` [N, C, H, W] and their
    `labels` [N]; `probe_image` out of the strip's range is taken as its nearest end."""
    chosen = min(max(int(probe_image), 0), images.shape[0] - 1)
    with measuring(model, training=False), torch.no_grad():
        trace = model.trace(images)
        probabilities = torch.softmax(trace.logits.double(), dim=1)
    results = {
        STRIP_IMAGES: images.float().cpu().numpy().copy(),
        STRIP_LABELS: labels.long().cpu().numpy().copy(),
        STRIP_PROBABILITIES: probabilities.float().cpu().numpy(),
        STRIP_PROBED: (np.arange(images.shape[0]) == chosen).astype(np.float32),
    }
    for k in model.conv_layers():
        results[FEATURE_MAPS.format(k=k)] = trace.outputs[k][chosen].float().cpu().numpy().copy()
    return results
