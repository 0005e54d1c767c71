"""Unrolled probe versions of every recurrent layer.

Each function computes, step by step, exactly what the fused torch module computes from the
same weights, but keeps what the probes need: every hidden state as a graph node (so autograd
can give the total dL/dh_t), the gate activations, and the pieces of the analytic step
Jacobians. Positions are always in sequence order, also for the reverse direction.

The input projection W_ih x_t is done for all t in one matmul and the sequence is split with
unbind(1): indexing x[:, t] inside the loop makes the backward pass quadratic in T.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch


@dataclass
class LayerTrace:
    """One layer and direction of an unrolled forward pass."""

    outputs: torch.Tensor                       # [B, T, H] what the layer passes upward
    final_state: torch.Tensor | tuple           # as the fused module returns it (h_n, or (h_n, c_n))
    states: list[torch.Tensor] = field(default_factory=list)   # h_t in position order, graph-connected
    parts: dict[str, torch.Tensor] = field(default_factory=dict)  # [B, T, H] pieces, position order


def tanh_derivative(pre: torch.Tensor) -> torch.Tensor:
    """sech^2(pre), exact where 1 - tanh(pre)^2 would round to 0 in float32 (|pre| > ~9)."""
    return torch.cosh(pre).reciprocal().square()


def sigmoid_derivative(pre: torch.Tensor) -> torch.Tensor:
    """sigma(pre) sigma(-pre), exact where sigma (1 - sigma) would lose 1 - sigma to rounding."""
    return torch.sigmoid(pre) * torch.sigmoid(-pre)


def _activation_derivative(pre: torch.Tensor, nonlinearity: str) -> torch.Tensor:
    return tanh_derivative(pre) if nonlinearity == "tanh" else (pre > 0).to(pre.dtype)


def _order(length: int, reverse: bool) -> range:
    return range(length - 1, -1, -1) if reverse else range(length)


def _in_position_order(values: list, reverse: bool) -> list:
    return values[::-1] if reverse else values


def _stack(values: list[torch.Tensor], reverse: bool) -> torch.Tensor:
    return torch.stack(_in_position_order(values, reverse), dim=1)


def rnn_layer(x, weights, h0, nonlinearity="tanh", reverse=False, keep_states=True) -> LayerTrace:
    """Elman: h_t = act(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)."""
    act = torch.tanh if nonlinearity == "tanh" else torch.relu
    projected = torch.nn.functional.linear(x, weights["weight_ih"], weights["bias_ih"]).unbind(1)
    w_hh, b_hh = weights["weight_hh"], weights["bias_hh"]
    h = h0
    states, derivatives = [], []
    for t in _order(len(projected), reverse):
        pre = projected[t] + torch.nn.functional.linear(h, w_hh, b_hh)
        h = act(pre)
        states.append(h)
        if keep_states:
            derivatives.append(_activation_derivative(pre, nonlinearity))
    trace = LayerTrace(outputs=_stack(states, reverse), final_state=h)
    if keep_states:
        trace.states = _in_position_order(states, reverse)
        trace.parts["derivative"] = _stack(derivatives, reverse)
    return trace


def jordan_layer(x, weights, y0, nonlinearity="tanh", reverse=False, keep_states=True) -> LayerTrace:
    """Jordan: h_t = act(W_ih x_t + b_ih + W_hy y_{t-1} + b_hh), y_t = W_yh h_t + b_y."""
    act = torch.tanh if nonlinearity == "tanh" else torch.relu
    projected = torch.nn.functional.linear(x, weights["weight_ih"], weights["bias_ih"]).unbind(1)
    w_hy, b_hh = weights["weight_hy"], weights["bias_hh"]
    w_yh, b_y = weights["weight_yh"], weights["bias_y"]
    y = y0
    states, outputs, derivatives = [], [], []
    for t in _order(len(projected), reverse):
        pre = projected[t] + torch.nn.functional.linear(y, w_hy, b_hh)
        h = act(pre)
        y = torch.nn.functional.linear(h, w_yh, b_y)
        states.append(h)
        outputs.append(y)
        if keep_states:
            derivatives.append(_activation_derivative(pre, nonlinearity))
    trace = LayerTrace(outputs=_stack(outputs, reverse), final_state=y)
    if keep_states:
        trace.states = _in_position_order(states, reverse)
        trace.parts["derivative"] = _stack(derivatives, reverse)
    return trace


def lstm_layer(x, weights, state0, reverse=False, keep_states=True) -> LayerTrace:
    """torch.nn.LSTM's cell, gate order i, f, g, o; the state is (h, c)."""
    projected = torch.nn.functional.linear(x, weights["weight_ih"], weights["bias_ih"]).unbind(1)
    w_hh, b_hh = weights["weight_hh"], weights["bias_hh"]
    h, c = state0
    names = ("input", "forget", "candidate", "output", "cell_prev", "tanh_cell",
             "d_input", "d_forget", "d_candidate", "d_output", "d_tanh_cell")
    collected: dict[str, list] = {name: [] for name in names}
    states = []
    for t in _order(len(projected), reverse):
        gates = projected[t] + torch.nn.functional.linear(h, w_hh, b_hh)
        pre_i, pre_f, pre_g, pre_o = gates.chunk(4, dim=-1)
        i, f, g, o = torch.sigmoid(pre_i), torch.sigmoid(pre_f), torch.tanh(pre_g), torch.sigmoid(pre_o)
        c_prev = c
        c = f * c_prev + i * g
        tanh_c = torch.tanh(c)
        h = o * tanh_c
        states.append(h)
        if keep_states:
            values = (i, f, g, o, c_prev, tanh_c, sigmoid_derivative(pre_i), sigmoid_derivative(pre_f),
                      tanh_derivative(pre_g), sigmoid_derivative(pre_o), tanh_derivative(c))
            for name, value in zip(names, values):
                collected[name].append(value)
    trace = LayerTrace(outputs=_stack(states, reverse), final_state=(h, c))
    if keep_states:
        trace.states = _in_position_order(states, reverse)
        trace.parts = {name: _stack(values, reverse) for name, values in collected.items()}
    return trace


def gru_layer(x, weights, h0, reverse=False, keep_states=True) -> LayerTrace:
    """torch.nn.GRU's cell, gate order r, z, n: n = tanh(W_in x + b_in + r * (W_hn h + b_hn))."""
    projected = torch.nn.functional.linear(x, weights["weight_ih"], weights["bias_ih"]).unbind(1)
    w_hh, b_hh = weights["weight_hh"], weights["bias_hh"]
    h = h0
    names = ("reset", "update", "candidate", "hidden_prev", "recurrent_candidate",
             "d_reset", "d_update", "d_candidate")
    collected: dict[str, list] = {name: [] for name in names}
    states = []
    for t in _order(len(projected), reverse):
        x_r, x_z, x_n = projected[t].chunk(3, dim=-1)
        h_r, h_z, h_n = torch.nn.functional.linear(h, w_hh, b_hh).chunk(3, dim=-1)
        pre_r, pre_z = x_r + h_r, x_z + h_z
        r = torch.sigmoid(pre_r)
        z = torch.sigmoid(pre_z)
        pre_n = x_n + r * h_n
        n = torch.tanh(pre_n)
        h_prev = h
        h = (1 - z) * n + z * h_prev
        states.append(h)
        if keep_states:
            values = (r, z, n, h_prev, h_n, sigmoid_derivative(pre_r), sigmoid_derivative(pre_z),
                      tanh_derivative(pre_n))
            for name, value in zip(names, values):
                collected[name].append(value)
    trace = LayerTrace(outputs=_stack(states, reverse), final_state=h)
    if keep_states:
        trace.states = _in_position_order(states, reverse)
        trace.parts = {name: _stack(values, reverse) for name, values in collected.items()}
    return trace
