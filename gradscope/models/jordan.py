"""The Jordan network: a recurrent layer whose output, not its hidden state, is fed back.

Each layer computes
    h_t = act(W_ih x_t + b_ih + W_hy y_{t-1} + b_hh)
    y_t = W_yh h_t + b_y
and passes y_t both upward and back to itself at t+1 (Jordan's context units). The hidden
state h_t is what the probes differentiate: dh_t/dh_{t-1} = diag(act'(.)) W_hy W_yh.

There is no fused torch module for it, so training runs this loop directly.
"""
from __future__ import annotations

import math

import torch
from torch import nn


class Jordan(nn.Module):
    """Multi-layer, optionally bidirectional Jordan network with the nn.RNN calling convention
    (batch_first): forward(x, y0) -> (outputs [B, T, dirs*H], y_n [layers*dirs, B, H])."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 nonlinearity: str = "tanh", bidirectional: bool = False):
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.nonlinearity = nonlinearity
        self.bidirectional = bidirectional
        dirs = 2 if bidirectional else 1
        bound = 1.0 / math.sqrt(hidden_size)
        for layer in range(num_layers):
            layer_in = input_size if layer == 0 else hidden_size * dirs
            for suffix in [""] + (["_reverse"] if bidirectional else []):
                name = f"l{layer}{suffix}"
                shapes = {
                    f"weight_ih_{name}": (hidden_size, layer_in),
                    f"weight_hy_{name}": (hidden_size, hidden_size),
                    f"weight_yh_{name}": (hidden_size, hidden_size),
                    f"bias_ih_{name}": (hidden_size,),
                    f"bias_hh_{name}": (hidden_size,),
                    f"bias_y_{name}": (hidden_size,),
                }
                for pname, shape in shapes.items():
                    # torch's own RNN default: U(-1/sqrt(H), 1/sqrt(H)) for every tensor
                    self.register_parameter(pname, nn.Parameter(torch.empty(shape).uniform_(-bound, bound)))

    def layer_weights(self, layer: int, reverse: bool) -> dict[str, torch.Tensor]:
        name = f"l{layer}{'_reverse' if reverse else ''}"
        return {key: getattr(self, f"{key}_{name}")
                for key in ("weight_ih", "weight_hy", "weight_yh", "bias_ih", "bias_hh", "bias_y")}

    def forward(self, x: torch.Tensor, y0: torch.Tensor | None = None):
        from gradscope.models.cells import jordan_layer  # the one implementation of the recurrence

        batch = x.shape[0]
        dirs = 2 if self.bidirectional else 1
        if y0 is None:
            y0 = x.new_zeros(self.num_layers * dirs, batch, self.hidden_size)
        finals = []
        layer_input = x
        for layer in range(self.num_layers):
            outputs = []
            for direction in range(dirs):
                trace = jordan_layer(layer_input, self.layer_weights(layer, bool(direction)),
                                     y0[layer * dirs + direction], self.nonlinearity,
                                     reverse=bool(direction), keep_states=False)
                outputs.append(trace.outputs)
                finals.append(trace.final_state)
            layer_input = torch.cat(outputs, dim=-1) if dirs == 2 else outputs[0]
        return layer_input, torch.stack(finals)
