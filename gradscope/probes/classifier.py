"""One probe of an image classifier (the convolutional and dense families): the depth series on
the fixed probe batch (`depth.depth_probe`), the test strip's predictions and the probe image's
feature maps (`strip.strip_probe`), and the test split's accuracy and confusion matrix
(`evaluation.classification_metrics`), all with the probed step's weights in place."""
from __future__ import annotations

import numpy as np
import torch

from gradscope.probes.depth import depth_probe
from gradscope.probes.evaluation import classification_metrics
from gradscope.probes.strip import strip_probe


class ClassifierProbe:
    """Measures a LayeredNet; call it with the current weights in place."""

    def __init__(self, model, task, probe_inputs: torch.Tensor, probe_targets: torch.Tensor):
        self.model = model
        self.task = task
        self.inputs = probe_inputs
        self.targets = probe_targets
        device = probe_inputs.device
        test_images, test_labels = task.test_split()
        self.test_images, self.test_labels = test_images.to(device), test_labels.to(device)
        strip_images, strip_labels = task.strip()
        self.strip_images, self.strip_labels = strip_images.to(device), strip_labels.to(device)

    def __call__(self, probe_image: int = 0) -> dict[str, np.ndarray]:
        """`probe_image`: the strip image whose feature maps are recorded (the live setting)."""
        results = depth_probe(self.model, self.inputs, self.targets)
        results.update(strip_probe(self.model, self.strip_images, self.strip_labels, probe_image))
        results.update(classification_metrics(self.model, self.test_images, self.test_labels,
                                              classes=self.task.output_size))
        return results
