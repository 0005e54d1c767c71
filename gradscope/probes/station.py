"""Where probes are taken: a twin of the model, loaded with a snapshot of the weights of the
step being measured, with the fixed probe batch. Lives in a probe thread or a probe process.
What is measured is the run's family's probe (`gradscope.families`), plus what its task adds
(the char LM's sample, a forecast)."""
from __future__ import annotations

from typing import Mapping

import numpy as np
import torch

from gradscope import models
from gradscope.families import family_of
from gradscope.series import FORECAST_INPUT, FORECAST_PREDICTION, FORECAST_TARGET, SAMPLE_TEXT
from gradscope.tasks.regression import ForecastTask

SAMPLE_LENGTH = 200   # characters the char LM writes at each probe


class ProbeStation:
    def __init__(self, config, task, device, probe_inputs: torch.Tensor, probe_targets: torch.Tensor):
        self.config = config
        self.task = task
        self.device = device
        self.model = models.build(config, task).to(device)
        self.probe = family_of(config.arch).probe(self.model, task, probe_inputs.to(device), probe_targets.to(device),
                                                  seed=config.seed)
        self.probe_inputs, self.probe_targets = probe_inputs, probe_targets
        self.probe_options = family_of(config.arch).probe_settings
        self.settings: dict = {}

    def load(self, weights: Mapping[str, torch.Tensor | np.ndarray], settings: Mapping | None = None) -> None:
        """The weights of the step to measure, and the live settings in force at it (those the
        family's probe reads, such as the probe image, are passed to it)."""
        self.settings = {name: value for name, value in (settings or {}).items() if name in self.probe_options}
        with torch.no_grad():
            for name, target in self.model.state_dict().items():
                value = weights[name]
                # a checkpoint's arrays are read-only: copy them rather than alias them
                target.copy_(value if isinstance(value, torch.Tensor) else torch.from_numpy(np.array(value)))

    def measure(self, step: int) -> dict[str, np.ndarray]:
        results = self.probe(**self.settings)
        if hasattr(self.task, "generate"):
            # the char LM writes a sample at the run's temperature; records hold numbers only,
            # so the text travels as its Unicode code points
            generator = torch.Generator().manual_seed(self.config.seed * 1_000_003 + step)
            text = self.task.generate(self._sample_step, SAMPLE_LENGTH, self.config.temperature, generator)
            results[SAMPLE_TEXT.name()] = np.array([ord(char) for char in text], dtype=np.int32)
        if isinstance(self.task, ForecastTask):
            results.update(self._forecast())
        return results

    def _forecast(self) -> dict[str, np.ndarray]:
        """The first probe sequence, the value that follows it, and the model's forecast of it."""
        with torch.no_grad():
            self.model.eval()
            prediction = self.model(self.probe_inputs[:1].to(self.device))
        return {FORECAST_INPUT.name(): self.probe_inputs[0, :, 0].cpu().numpy().astype(np.float32),
                FORECAST_TARGET.name(): self.probe_targets[:1, 0].cpu().numpy().astype(np.float32),
                FORECAST_PREDICTION.name(): prediction[:1, 0].cpu().numpy().astype(np.float32)}

    def _sample_step(self, inputs: torch.Tensor, state):
        with torch.no_grad():
            return self.model.run(inputs.to(self.device), state)
