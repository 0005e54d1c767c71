"""The adding problem (Hochreiter & Schmidhuber 1997).

Channel 0 holds values drawn from U(0, 1); channel 1 marks exactly two positions, one drawn
uniformly from the first half [0, T//2) and one from the second half [T//2, T). The target is
the sum of the two marked values. Keeping one marker in the first half guarantees a dependency
that spans at least a few steps and, on average, about T/2: the gradient has to travel that far.

The constant predictor 1.0 (the mean of the target) scores about 1/6 MSE; a model that has
not learned to use the markers sits there.
"""
from __future__ import annotations

import torch

from gradscope.config import ConfigError
from gradscope.tasks.regression import RegressionTask

#: the classic "solved" criterion: the prediction is within this of the true sum
TOLERANCE = 0.04


class AddingTask(RegressionTask):
    name = "adding"
    description = "sum the two marked values of a sequence of random numbers"
    input_size = 2

    def __init__(self, seq_len: int):
        if seq_len < 2:
            raise ConfigError("seq_len", "the adding problem needs T of at least 2 to hold two markers")
        self.length = seq_len

    def sample(self, batch: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        T = self.length
        values = torch.rand(batch, T, generator=generator)
        first = torch.randint(0, T // 2, (batch,), generator=generator)
        second = torch.randint(T // 2, T, (batch,), generator=generator)
        rows = torch.arange(batch)
        markers = torch.zeros(batch, T)
        markers[rows, first] = 1.0
        markers[rows, second] = 1.0
        x = torch.stack([values, markers], dim=2)
        target = (values[rows, first] + values[rows, second]).unsqueeze(1)
        return x, target

    def extra_metrics(self, output: torch.Tensor, target: torch.Tensor) -> dict[str, float]:
        return {
            "baseline_mse": float(((1.0 - target[:, 0]) ** 2).mean()),
            "accuracy": float(((output[:, 0] - target[:, 0]).abs() < TOLERANCE).float().mean()),
        }
