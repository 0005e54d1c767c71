"""An independent, deliberately plain reference for the recurrent models and their probes.

Everything here is written from the torch documentation's cell equations (nn.RNN, nn.LSTM,
nn.GRU) and from the Jordan equations in DESIGN/jordan.py, reading the model's parameters by
their names. Nothing from `gradscope.models.cells` or `gradscope.probes` is used, so that the
tests compare two implementations rather than one implementation with itself.

Everything runs in float64 on copies of the (float32) parameters.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

DTYPE = torch.float64

GATES = {"lstm": ("input", "forget", "candidate", "output"), "gru": ("reset", "update", "candidate")}


# -- parameters by name --------------------------------------------------------------------------

def layer_params(model, layer: int, direction: int, dtype=DTYPE) -> dict[str, torch.Tensor]:
    suffix = f"l{layer}" + ("_reverse" if direction else "")
    names = (("weight_ih", "weight_hy", "weight_yh", "bias_ih", "bias_hh", "bias_y") if model.arch == "jordan"
             else ("weight_ih", "weight_hh", "bias_ih", "bias_hh"))
    return {name: getattr(model.core, f"{name}_{suffix}").detach().to(dtype) for name in names}


def head_params(model, dtype=DTYPE) -> tuple[torch.Tensor, torch.Tensor]:
    return model.head.weight.detach().to(dtype), model.head.bias.detach().to(dtype)


def state_size(arch: str, hidden: int) -> int:
    return 2 * hidden if arch == "lstm" else hidden


# -- one step of each cell, from the torch docs ---------------------------------------------------
#
# `carry` is what the cell hands to its next step: h (rnn, gru), cat(h, c) (lstm), y (jordan).
# Works on unbatched vectors (for jacrev) and on batches alike.

def _act(nonlinearity: str):
    return torch.tanh if nonlinearity == "tanh" else torch.relu


def cell_step(arch: str, nonlinearity: str, p: dict, x_t: torch.Tensor, carry: torch.Tensor):
    """(new carry, extras) where extras['h'] is the probed hidden state h_t."""
    if arch == "rnn":
        pre = x_t @ p["weight_ih"].T + p["bias_ih"] + carry @ p["weight_hh"].T + p["bias_hh"]
        h = _act(nonlinearity)(pre)
        return h, {"h": h, "pre": pre}
    if arch == "jordan":
        pre = x_t @ p["weight_ih"].T + p["bias_ih"] + carry @ p["weight_hy"].T + p["bias_hh"]
        h = _act(nonlinearity)(pre)
        y = h @ p["weight_yh"].T + p["bias_y"]
        return y, {"h": h, "pre": pre}
    if arch == "lstm":
        hidden = p["weight_hh"].shape[1]
        h, c = carry[..., :hidden], carry[..., hidden:]
        w_ii, w_if, w_ig, w_io = p["weight_ih"].chunk(4, 0)
        w_hi, w_hf, w_hg, w_ho = p["weight_hh"].chunk(4, 0)
        b_ii, b_if, b_ig, b_io = p["bias_ih"].chunk(4, 0)
        b_hi, b_hf, b_hg, b_ho = p["bias_hh"].chunk(4, 0)
        i = torch.sigmoid(x_t @ w_ii.T + b_ii + h @ w_hi.T + b_hi)
        f = torch.sigmoid(x_t @ w_if.T + b_if + h @ w_hf.T + b_hf)
        g = torch.tanh(x_t @ w_ig.T + b_ig + h @ w_hg.T + b_hg)
        o = torch.sigmoid(x_t @ w_io.T + b_io + h @ w_ho.T + b_ho)
        c_new = f * c + i * g
        h_new = o * torch.tanh(c_new)
        return torch.cat([h_new, c_new], dim=-1), {"h": h_new, "c": c_new, "input": i, "forget": f,
                                                   "candidate": g, "output": o}
    if arch == "gru":
        w_ir, w_iz, w_in = p["weight_ih"].chunk(3, 0)
        w_hr, w_hz, w_hn = p["weight_hh"].chunk(3, 0)
        b_ir, b_iz, b_in = p["bias_ih"].chunk(3, 0)
        b_hr, b_hz, b_hn = p["bias_hh"].chunk(3, 0)
        h = carry
        r = torch.sigmoid(x_t @ w_ir.T + b_ir + h @ w_hr.T + b_hr)
        z = torch.sigmoid(x_t @ w_iz.T + b_iz + h @ w_hz.T + b_hz)
        n = torch.tanh(x_t @ w_in.T + b_in + r * (h @ w_hn.T + b_hn))
        h_new = (1 - z) * n + z * h
        return h_new, {"h": h_new, "reset": r, "update": z, "candidate": n}
    raise ValueError(arch)


def zero_carry(arch: str, hidden: int, batch: int, dtype=DTYPE) -> torch.Tensor:
    return torch.zeros(batch, state_size(arch, hidden), dtype=dtype)


# -- a whole forward pass -------------------------------------------------------------------------

@dataclass
class RefTrace:
    layer_input: torch.Tensor                       # [B, T, in] what this layer read
    carries_before: list = field(default_factory=list)   # position order: the carry entering position t
    hidden: list = field(default_factory=list)           # position order: h_t (graph nodes)
    extras: dict = field(default_factory=dict)           # name -> [B, T, H], position order
    outputs: torch.Tensor | None = None                  # [B, T, H] passed upward
    final_carry: torch.Tensor | None = None


@dataclass
class RefPass:
    output: torch.Tensor
    traces: dict


def reference_forward(model, x: torch.Tensor, dtype=DTYPE, retain: bool = False) -> RefPass:
    arch, hidden = model.arch, model.hidden
    dirs = model.directions
    nonlinearity = model.nonlinearity
    layer_input = x.to(dtype)
    batch, length = x.shape[0], x.shape[1]
    traces = {}
    for layer in range(model.layers):
        outputs = []
        for direction in range(dirs):
            p = layer_params(model, layer, direction, dtype)
            trace = RefTrace(layer_input=layer_input.detach())
            # parameters are detached copies: a leaf initial state puts the h_t on a graph
            carry = zero_carry(arch, hidden, batch, dtype).requires_grad_(retain)
            positions = range(length - 1, -1, -1) if direction else range(length)
            carries, hs, extras, outs = {}, {}, {}, {}
            for t in positions:
                carries[t] = carry
                carry, ex = cell_step(arch, nonlinearity, p, layer_input[:, t], carry)
                if retain:
                    ex["h"].retain_grad()
                hs[t] = ex["h"]
                extras[t] = ex
                # a Jordan layer passes y upward, the others h
                outs[t] = carry if arch == "jordan" else ex["h"]
            trace.carries_before = [carries[t] for t in range(length)]
            trace.hidden = [hs[t] for t in range(length)]
            trace.extras = {name: torch.stack([extras[t][name] for t in range(length)], 1)
                            for name in extras[0] if name != "h"}
            trace.outputs = torch.stack([outs[t] for t in range(length)], 1)
            trace.final_carry = carry
            traces[(layer, direction)] = trace
            outputs.append(trace.outputs)
        layer_input = torch.cat(outputs, -1)
    weight, bias = head_params(model, dtype)
    if model.many_to_many:
        output = layer_input @ weight.T + bias
    else:
        last = layer_input[:, -1, :hidden]
        if dirs == 2:
            last = torch.cat([last, layer_input[:, 0, hidden:]], -1)
        output = last @ weight.T + bias
    return RefPass(output=output, traces=traces)


# -- brute-force step Jacobians and their products ------------------------------------------------

def step_jacobians(model, trace: RefTrace, layer: int, direction: int) -> torch.Tensor:
    """ds_t/ds_prev for every sequence and position, [B, T, n, n] in position order (prev is t-1
    for the forward direction, t+1 for the reverse one; the zero initial state at the ends)."""
    arch, nonlinearity = model.arch, model.nonlinearity
    p = layer_params(model, layer, direction)
    x = trace.layer_input
    carries = torch.stack([c.detach() for c in trace.carries_before], 1)   # [B, T, carry]
    batch, length = x.shape[:2]

    if arch == "jordan":
        # the probed state is h; h_t depends on h_prev through y_prev = W_yh h_prev + b_y
        def step(carry, x_t):
            return cell_step(arch, nonlinearity, p, x_t, carry)[1]["h"]
        jac = torch.func.vmap(torch.func.jacrev(step))(carries.reshape(batch * length, -1),
                                                       x.reshape(batch * length, -1))
        jac = jac @ p["weight_yh"]
    else:
        def step(carry, x_t):
            return cell_step(arch, nonlinearity, p, x_t, carry)[0]
        jac = torch.func.vmap(torch.func.jacrev(step))(carries.reshape(batch * length, -1),
                                                       x.reshape(batch * length, -1))
    n = jac.shape[-1]
    return jac.reshape(batch, length, n, n)


def long_range_products(jacobians: torch.Tensor, reverse: bool) -> torch.Tensor:
    """ds_last/ds_t for every t, [B, T, n, n], position order; 'last' is position 0 in reverse."""
    batch, length, n, _ = jacobians.shape
    products = torch.empty_like(jacobians)
    eye = torch.eye(n, dtype=jacobians.dtype).expand(batch, n, n)
    if not reverse:
        products[:, length - 1] = eye
        for t in range(length - 2, -1, -1):
            products[:, t] = products[:, t + 1] @ jacobians[:, t + 1]
    else:
        products[:, 0] = eye
        for t in range(1, length):
            products[:, t] = products[:, t - 1] @ jacobians[:, t - 1]
    return products


def spectral_norm(matrices: torch.Tensor) -> torch.Tensor:
    return torch.linalg.matrix_norm(matrices, ord=2)


def reference_jacobian_norms(model, x: torch.Tensor) -> dict:
    """{(layer, direction): (jacobian_norm [T], step_jacobian_norm [T])} averaged over the batch."""
    ref = reference_forward(model, x)
    results = {}
    for (layer, direction), trace in ref.traces.items():
        jac = step_jacobians(model, trace, layer, direction)
        products = long_range_products(jac, reverse=bool(direction))
        results[(layer, direction)] = (spectral_norm(products).mean(0), spectral_norm(jac).mean(0))
    return results


# -- brute-force hidden gradients ------------------------------------------------------------------

def reference_hidden_grad_norms(model, task, x: torch.Tensor, y: torch.Tensor) -> dict:
    """{(layer, direction): [T]} = mean_b ||dL_b/dh_t^(b)||, each sequence on its own."""
    per_sequence = {}
    for b in range(x.shape[0]):
        ref = reference_forward(model, x[b:b + 1], retain=True)
        loss = task.loss(ref.output, y[b:b + 1])
        loss.backward()
        for key, trace in ref.traces.items():
            norms = torch.stack([h.grad[0].norm() if h.grad is not None else torch.zeros((), dtype=DTYPE)
                                 for h in trace.hidden])
            per_sequence.setdefault(key, []).append(norms)
    return {key: torch.stack(values).mean(0) for key, values in per_sequence.items()}


# -- task stubs ----------------------------------------------------------------------------------

class RegressionStub:
    """Many-to-one regression: MSE, the mean over the batch of per-sequence means."""

    many_to_many = False

    def loss(self, output, target):
        return ((output - target.to(output.dtype)) ** 2).mean()


class SequenceCEStub:
    """Many-to-many classification: CE averaged over positions, then over the batch."""

    many_to_many = True

    def loss(self, output, target):
        return F.cross_entropy(output.reshape(-1, output.shape[-1]), target.reshape(-1))


def suffix(layer: int, direction: int, layers: int) -> str:
    """DESIGN.md 'Layers', written out again independently."""
    if layer == layers - 1 and direction == 0:
        return ""
    return f"/layer{layer}" + ("/reverse" if direction else "")
