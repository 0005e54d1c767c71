"""How well a classifier does on the test split: its accuracy and its confusion matrix.

Evaluated in eval mode (batch norm with its running statistics, as the trained model will be
used), in inference mode (no autograd, nor its version counters: the same values, measured a
tenth quicker on LeNet's 1,000 test images), a batch of `batch_size` images at a time so that a large test set
needs no more memory than one batch. The confusion matrix counts test images by true class
(rows) and predicted class (columns); the accuracy is its trace over its total.
"""
from __future__ import annotations

import numpy as np
import torch

from gradscope.probes.untouched import measuring

TEST_ACCURACY = "test_accuracy"
CONFUSION = "confusion"


def classification_metrics(model, images: torch.Tensor, labels: torch.Tensor, *, classes: int | None = None,
                           batch_size: int = 256) -> dict[str, np.ndarray]:
    """{"test_accuracy": float64 scalar (NaN for an empty set), "confusion": int64 [classes, classes]}."""
    classes = model.plan.classes if classes is None else classes
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    labels = labels.long()
    if labels.numel() and (int(labels.min()) < 0 or int(labels.max()) >= classes):
        raise ValueError(f"test labels must lie in 0..{classes - 1}, got {int(labels.min())}..{int(labels.max())}")
    counts = torch.zeros(classes * classes, dtype=torch.int64)
    with measuring(model, training=False), torch.inference_mode():
        for start in range(0, images.shape[0], batch_size):
            predicted = model(images[start:start + batch_size]).argmax(dim=1).cpu()
            truth = labels[start:start + batch_size].cpu()
            counts += torch.bincount(truth * classes + predicted, minlength=classes * classes)
    confusion = counts.view(classes, classes).numpy()
    total = confusion.sum()
    accuracy = np.float64(np.trace(confusion) / total) if total else np.float64("nan")
    return {TEST_ACCURACY: accuracy, CONFUSION: confusion}
