"""The dense layer of LeNet's top and of the MLP: a linear map of the flattened input and the
nonlinearity. It has no skip, so its activation is its output."""
from __future__ import annotations

import torch
from torch import nn

from gradscope.models.layered import activate
from gradscope.models.plans import DensePlan


class DenseLayer(nn.Module):
    def __init__(self, plan: DensePlan, nonlinearity: str):
        super().__init__()
        self.name = plan.name
        self.nonlinearity = nonlinearity
        self.linear = nn.Linear(plan.in_features, plan.out_features)

    @property
    def weight(self) -> nn.Parameter:
        return self.linear.weight

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        activation = activate(self.nonlinearity, self.linear(x.flatten(1)))
        return activation, activation
