"""Many-to-one regression: one value predicted after the whole sequence.

Targets are float32 [B, 1 + extra]. Column 0 is the value to predict; the loss and the "mse"
metric use only that column. Forecasting tasks put the last observed value in column 1 so that
`metrics` can score the naive last-value predictor from the target alone, without the input.
"""
from __future__ import annotations

import torch

from gradscope.tasks.base import Task


class RegressionTask(Task):
    output_size = 1
    many_to_many = False
    metric_name = "mse"

    def per_sequence_loss(self, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        self.check_output(output, target)
        return (output[:, 0] - target[:, 0]) ** 2

    def metrics(self, output: torch.Tensor, target: torch.Tensor) -> dict[str, float]:
        with torch.no_grad():
            result = {"mse": float(self.loss(output, target))}
            result.update(self.extra_metrics(output, target))
        return result

    def extra_metrics(self, output: torch.Tensor, target: torch.Tensor) -> dict[str, float]:
        return {}


class ForecastTask(RegressionTask):
    """Predict the next value of a series; the baseline repeats the last value seen."""

    input_size = 1

    def extra_metrics(self, output: torch.Tensor, target: torch.Tensor) -> dict[str, float]:
        return {"baseline_mse": float(((target[:, 1] - target[:, 0]) ** 2).mean())}

    @staticmethod
    def make_target(next_value: torch.Tensor, last_value: torch.Tensor) -> torch.Tensor:
        return torch.stack([next_value, last_value], dim=1).to(torch.float32)
