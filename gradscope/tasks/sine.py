"""Forecast the next value of a noisy sum of two sines.

Each sequence is  a1 sin(2 pi f1 t + p1) + a2 sin(2 pi f2 t + p2) + noise  at t = 0, 1, ..., T,
with, per sequence and per component, independently:

- frequency f ~ U(0.02, 0.2) cycles per step (periods of 5 to 50 steps, well under Nyquist),
- phase p ~ U(0, 2 pi),
- amplitude a ~ U(0.5, 1.0),
- Gaussian noise of standard deviation 0.05 on every value, the target included.

The first T values are the input, value T the target. Frequencies vary per sequence so that the
model has to infer them from the window instead of memorising one wave. The naive predictor
repeats the last value; beating it means the model has learned the dynamics. The noise floor of
the MSE is 0.05^2 = 0.0025.
"""
from __future__ import annotations

import math

import torch

from gradscope.tasks.regression import ForecastTask

FREQUENCY_RANGE = (0.02, 0.2)
AMPLITUDE_RANGE = (0.5, 1.0)
NOISE_STD = 0.05
COMPONENTS = 2


def _uniform(shape: tuple[int, ...], bounds: tuple[float, float], generator: torch.Generator) -> torch.Tensor:
    low, high = bounds
    return low + (high - low) * torch.rand(shape, generator=generator)


class SineTask(ForecastTask):
    name = "sine"
    description = "forecast the next value of a noisy sum of two sines"

    def __init__(self, seq_len: int):
        self.length = seq_len

    def sample(self, batch: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        T = self.length
        shape = (batch, COMPONENTS, 1)
        frequency = _uniform(shape, FREQUENCY_RANGE, generator)
        phase = _uniform(shape, (0.0, 2 * math.pi), generator)
        amplitude = _uniform(shape, AMPLITUDE_RANGE, generator)
        t = torch.arange(T + 1, dtype=torch.float32)
        clean = (amplitude * torch.sin(2 * math.pi * frequency * t + phase)).sum(dim=1)
        series = clean + NOISE_STD * torch.randn(batch, T + 1, generator=generator)
        x = series[:, :T].unsqueeze(2).contiguous()
        return x, self.make_target(series[:, T], series[:, T - 1])
