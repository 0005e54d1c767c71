"""The recurrent model: a fused torch core for training and an unrolled twin for the probes.

`RecurrentNet.forward` runs nn.RNN / nn.LSTM / nn.GRU (or the Jordan loop, which has no fused
module). `RecurrentNet.unrolled` computes the same function from the same weights, layer by
layer and step by step with the cells in `cells.py`, and returns what the probes measure.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from gradscope.models import cells
from gradscope.models.jordan import Jordan
from gradscope.series import GATES

_FUSED = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}


@dataclass
class UnrolledPass:
    output: torch.Tensor                                   # what forward() returns
    traces: dict[tuple[int, int], cells.LayerTrace]        # (layer, direction) -> trace


class RecurrentNet(nn.Module):
    def __init__(self, arch: str, input_size: int, hidden: int, output_size: int, *,
                 layers: int = 1, bidirectional: bool = False, nonlinearity: str = "tanh",
                 many_to_many: bool = False):
        super().__init__()
        self.arch = arch
        self.hidden = hidden
        self.layers = layers
        self.directions = 2 if bidirectional else 1
        self.nonlinearity = nonlinearity
        self.many_to_many = many_to_many
        if arch == "jordan":
            self.core = Jordan(input_size, hidden, layers, nonlinearity, bidirectional)
        elif arch == "rnn":
            self.core = nn.RNN(input_size, hidden, layers, nonlinearity=nonlinearity,
                               batch_first=True, bidirectional=bidirectional)
        else:
            self.core = _FUSED[arch](input_size, hidden, layers, batch_first=True,
                                     bidirectional=bidirectional)
        self.head = nn.Linear(hidden * self.directions, output_size)

    # -- the training path ---------------------------------------------------------------------

    def forward(self, x: torch.Tensor, state=None) -> torch.Tensor:
        return self.run(x, state)[0]

    def run(self, x: torch.Tensor, state=None):
        """(output, final state); the state can be fed back for truncated BPTT or sampling."""
        sequence, final = self.core(x, state)
        return self.readout(sequence), final

    def readout(self, sequence: torch.Tensor) -> torch.Tensor:
        if self.many_to_many:
            return self.head(sequence)
        # many-to-one reads each direction's last processed position
        last = sequence[:, -1, : self.hidden]
        if self.directions == 2:
            last = torch.cat([last, sequence[:, 0, self.hidden:]], dim=-1)
        return self.head(last)

    # -- the probe path ------------------------------------------------------------------------

    def layer_weights(self, layer: int, direction: int) -> dict[str, torch.Tensor]:
        if self.arch == "jordan":
            return self.core.layer_weights(layer, bool(direction))
        suffix = f"l{layer}" + ("_reverse" if direction else "")
        return {key: getattr(self.core, f"{key}_{suffix}")
                for key in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")}

    def recurrent_matrices(self, layer: int, direction: int) -> dict[str, torch.Tensor]:
        """The square recurrent weight matrices, one per gate (W_hh for rnn, W_hy W_yh for jordan)."""
        weights = self.layer_weights(layer, direction)
        if self.arch == "jordan":
            return {"W_hh": weights["weight_hy"] @ weights["weight_yh"]}
        if self.arch == "rnn":
            return {"W_hh": weights["weight_hh"]}
        blocks = weights["weight_hh"].chunk(len(GATES[self.arch]), dim=0)
        letters = {"input": "i", "forget": "f", "candidate": "g" if self.arch == "lstm" else "n",
                   "output": "o", "reset": "r", "update": "z"}
        return {f"W_h{letters[gate]}": block for gate, block in zip(GATES[self.arch], blocks)}

    def initial_state(self, batch: int, like: torch.Tensor, state=None):
        """The per-(layer, direction) initial states in the fused module's layout."""
        shape = (self.layers * self.directions, batch, self.hidden)
        if self.arch == "lstm":
            h0, c0 = state if state is not None else (like.new_zeros(shape), like.new_zeros(shape))
            return [(h0[k], c0[k]) for k in range(shape[0])]
        h0 = state if state is not None else like.new_zeros(shape)
        return [h0[k] for k in range(shape[0])]

    def unrolled(self, x: torch.Tensor, state=None, keep_states: bool = True) -> UnrolledPass:
        initial = self.initial_state(x.shape[0], x, state)
        traces: dict[tuple[int, int], cells.LayerTrace] = {}
        layer_input = x
        for layer in range(self.layers):
            outputs = []
            for direction in range(self.directions):
                weights = self.layer_weights(layer, direction)
                start = initial[layer * self.directions + direction]
                reverse = bool(direction)
                if self.arch == "rnn":
                    trace = cells.rnn_layer(layer_input, weights, start, self.nonlinearity, reverse, keep_states)
                elif self.arch == "jordan":
                    trace = cells.jordan_layer(layer_input, weights, start, self.nonlinearity, reverse, keep_states)
                elif self.arch == "lstm":
                    trace = cells.lstm_layer(layer_input, weights, start, reverse, keep_states)
                else:
                    trace = cells.gru_layer(layer_input, weights, start, reverse, keep_states)
                traces[(layer, direction)] = trace
                outputs.append(trace.outputs)
            layer_input = torch.cat(outputs, dim=-1) if self.directions == 2 else outputs[0]
        return UnrolledPass(output=self.readout(layer_input), traces=traces)
