"""Analytic step Jacobians ds_t/ds_{t-1} and their products, for every recurrent cell.

Every cell's step Jacobian (over its whole state) has the form

    J = diag(d) + sum_k diag(a_k) W_k                       (RNN, Jordan, GRU; s = h)
    J = [[sum_k diag(alpha_k) W_k, diag(b)],
         [sum_k diag(beta_k)  W_k, diag(f)]]               (LSTM; s = (h, c))

with W_k the square blocks of the recurrent weight matrix (W_hh for a tanh RNN, where the
only coefficient is 1 - h_t^2) and coefficient vectors that come from the saved activations
(derived below from torch's cell equations). Products with J are then one GEMM against the
stacked W_k for all timesteps and sequences at once.

The long-range Jacobian ds_T/ds_t is the product of the step Jacobians accumulated backward
from the last step, kept as (matrix scaled to max |entry| 1, log of the scale): a vanishing
0.5^200 or an exploding 1.5^300 neither sinks into slow denormals nor overflows float32.

Step indices are in processing order: for a reverse direction, step k is position T-1-k.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from gradscope.probes.spectral import (FLOAT32_TOLERANCE, WarmPowerIteration, dense_spectral_norm, gram_spectral_norm,
                                       lanczos_spectral_norm)

_CHUNK = 16  # timesteps whose dense step Jacobians are built in one go
UNSETTLED_BYTES = 64 * 2**20  # products kept for an exact solve before one is run


class StepJacobians:
    """The step Jacobians of one layer and direction for every timestep and probe sequence."""

    def __init__(self, arch: str, parts: dict[str, torch.Tensor], recurrent: dict[str, torch.Tensor],
                 reverse: bool):
        parts = {name: value.detach() for name, value in parts.items()}
        if reverse:
            parts = {name: value.flip(1) for name, value in parts.items()}
        self.arch = arch
        self.reverse = reverse
        some = next(iter(parts.values()))
        self.batch, self.length, self.hidden = some.shape
        self.lstm = arch == "lstm"
        self.size = 2 * self.hidden if self.lstm else self.hidden
        blocks = [value.detach() for value in recurrent.values()]
        self.weights = torch.stack(blocks)                       # [K, H, H]
        self.stacked = self.weights.reshape(-1, self.hidden)     # [K*H, H]
        self.diagonal = None
        self.beta = None
        if arch in ("rnn", "jordan"):
            self.alpha = parts["derivative"].unsqueeze(2)        # [B, T, 1, H]
        elif arch == "gru":
            r, z, n = parts["reset"], parts["update"], parts["candidate"]
            h_prev, h_n = parts["hidden_prev"], parts["recurrent_candidate"]
            # derivatives from the pre-activations (cells.py), exact for saturated units
            through_n = (1 - z) * parts["d_candidate"]
            # h' = (1-z) n + z h, n = tanh(x_n + r (W_hn h + b_hn)); blocks in torch's order r, z, n
            self.alpha = torch.stack([through_n * h_n * parts["d_reset"], (h_prev - n) * parts["d_update"],
                                      through_n * r], dim=2)
            self.diagonal = z
        else:
            i, f, g, o = parts["input"], parts["forget"], parts["candidate"], parts["output"]
            c_prev, tanh_c = parts["cell_prev"], parts["tanh_cell"]
            # c' = f c + i g, h' = o tanh(c'); blocks in torch's order i, f, g, o; derivatives
            # from the pre-activations (cells.py), exact for saturated gates
            self.beta = torch.stack([g * parts["d_input"], c_prev * parts["d_forget"], i * parts["d_candidate"],
                                     torch.zeros_like(o)], dim=2)
            through_cell = o * parts["d_tanh_cell"]
            self.alpha = through_cell.unsqueeze(2) * self.beta
            self.alpha[:, :, 3] = tanh_c * parts["d_output"]
            self.cell_to_hidden = through_cell * f               # dh'/dc = diag(o (1 - tanh^2 c') f)
            self.forget = f                                      # dc'/dc = diag(f)
        self._chunk_start = None
        self._chunk = None
        # the same coefficients with timesteps and sequences flattened, for the batched
        # operators Lanczos runs on (float32 products, float64 recurrence)
        self.flat_alpha, self.flat_beta = self._flat(self.alpha), self._flat(self.beta)
        self.flat_diagonal = self._flat(self.diagonal)
        if self.lstm:
            self.flat_cell_to_hidden, self.flat_forget = self._flat(self.cell_to_hidden), self._flat(self.forget)

    # -- all timesteps at once, as operators on [B*T, n] ----------------------------------------

    def _flat(self, value: torch.Tensor | None) -> torch.Tensor | None:
        return None if value is None else value.reshape(self.batch * self.length, *value.shape[2:])

    def _images(self, vectors: torch.Tensor) -> torch.Tensor:
        """W_k v for every block k: [N, K, H], one GEMM against the stacked blocks."""
        return (vectors @ self.stacked.T).view(vectors.shape[0], -1, self.hidden)

    def _transposed(self, weighted: torch.Tensor) -> torch.Tensor:
        """sum_k W_k^T w_k for w [N, K, H]: one GEMM."""
        return weighted.reshape(weighted.shape[0], -1) @ self.stacked

    def _rows(self, name: str, rows: torch.Tensor | None) -> torch.Tensor | None:
        value = getattr(self, name)
        if value is None or rows is None or rows.numel() == value.shape[0]:
            return value
        return value[rows]

    def matvec(self, vectors: torch.Tensor, rows: torch.Tensor | None = None) -> torch.Tensor:
        """J v for the (timestep, sequence) operators `rows` of the flattened B*T (all if None)."""
        alpha = self._rows("flat_alpha", rows)
        if not self.lstm:
            image = (alpha * self._images(vectors)).sum(1)
            diagonal = self._rows("flat_diagonal", rows)
            return image if diagonal is None else image + diagonal * vectors
        h, c = vectors[:, : self.hidden], vectors[:, self.hidden:]
        images = self._images(h)
        top = (alpha * images).sum(1) + self._rows("flat_cell_to_hidden", rows) * c
        bottom = (self._rows("flat_beta", rows) * images).sum(1) + self._rows("flat_forget", rows) * c
        return torch.cat([top, bottom], dim=-1)

    def rmatvec(self, vectors: torch.Tensor, rows: torch.Tensor | None = None) -> torch.Tensor:
        """J^T u, as `matvec`."""
        alpha = self._rows("flat_alpha", rows)
        if not self.lstm:
            image = self._transposed(alpha * vectors.unsqueeze(1))
            diagonal = self._rows("flat_diagonal", rows)
            return image if diagonal is None else image + diagonal * vectors
        h, c = vectors[:, : self.hidden], vectors[:, self.hidden:]
        top = self._transposed(alpha * h.unsqueeze(1) + self._rows("flat_beta", rows) * c.unsqueeze(1))
        bottom = self._rows("flat_cell_to_hidden", rows) * h + self._rows("flat_forget", rows) * c
        return torch.cat([top, bottom], dim=-1)

    # -- one timestep, as dense blocks, for the products ------------------------------------------

    def _blocks(self, coefficients: torch.Tensor, start: int, stop: int) -> torch.Tensor:
        """sum_k diag(coefficient_k) W_k for steps start..stop-1: [B, stop-start, H, H]."""
        return torch.einsum("btkh,khj->bthj", coefficients[:, start:stop], self.weights)

    def dense_parts(self, step: int):
        """For the LSTM (A, b, C, f) with J = [[A, diag b], [C, diag f]]; else (J, None, None, None)."""
        chunk_start = (step // _CHUNK) * _CHUNK
        if self._chunk_start != chunk_start:
            stop = min(chunk_start + _CHUNK, self.length)
            top = self._blocks(self.alpha, chunk_start, stop)
            if self.diagonal is not None:
                top = top + torch.diag_embed(self.diagonal[:, chunk_start:stop])
            bottom = self._blocks(self.beta, chunk_start, stop) if self.lstm else None
            self._chunk_start, self._chunk = chunk_start, (top, bottom)
        top, bottom = self._chunk
        index = step - chunk_start
        if not self.lstm:
            return top[:, index], None, None, None
        return top[:, index], self.cell_to_hidden[:, step], bottom[:, index], self.forget[:, step]

    def dense(self, step: int) -> torch.Tensor:
        """ds_t/ds_{t-1} as [B, n, n]."""
        a, b, c, f = self.dense_parts(step)
        if not self.lstm:
            return a
        return torch.cat([torch.cat([a, torch.diag_embed(b)], -1), torch.cat([c, torch.diag_embed(f)], -1)], -2)

    def right_multiply(self, product: torch.Tensor, step: int) -> torch.Tensor:
        """product @ ds_t/ds_{t-1}; the LSTM's diagonal blocks halve the work."""
        a, b, c, f = self.dense_parts(step)
        if not self.lstm:
            return torch.bmm(product, a)
        left, right = product[..., : self.hidden], product[..., self.hidden:]
        first = torch.baddbmm(torch.bmm(left, a), right, c)
        second = left * b.unsqueeze(-2) + right * f.unsqueeze(-2)
        return torch.cat([first, second], dim=-1)


@dataclass
class JacobianProfile:
    jacobian_norm: torch.Tensor        # [B, T] float64, position order
    step_jacobian_norm: torch.Tensor   # [B, T] float64, position order


def step_jacobian_norms(steps: StepJacobians, seed: int = 0) -> torch.Tensor:
    """||ds_t/ds_{t-1}||_2 for every step and sequence, [B, T] in processing order."""
    count = steps.batch * steps.length
    sigma = lanczos_spectral_norm(steps.matvec, steps.rmatvec, count, steps.size,
                                  dtype=steps.alpha.dtype, device=steps.alpha.device, seed=seed,
                                  tolerance=FLOAT32_TOLERANCE)
    return sigma.view(steps.batch, steps.length).cpu()


def product_norms(steps: StepJacobians, seed: int = 0) -> torch.Tensor:
    """||ds_last/ds_t||_2 for every step and sequence, [B, T] in processing order."""
    batch, length, size = steps.batch, steps.length, steps.size
    dtype, device = steps.alpha.dtype, steps.alpha.device
    norms = np.empty((batch, length), dtype=np.float64)
    norms[:, length - 1] = 1.0
    product = torch.eye(size, dtype=dtype, device=device).expand(batch, size, size)
    log_scale = np.zeros(batch, dtype=np.float64)
    power = WarmPowerIteration(batch, size, dtype, device, seed)
    # (step, sequences, scaled products, log scales, right vectors) that power iteration left open;
    # settled in batches, so that a run where none certify (orthogonal or identity weights,
    # whose products never become one-directional) holds a bounded number of copies
    unsettled: list[tuple] = []
    batch_limit = max(8, UNSETTLED_BYTES // (size * size * 4))

    def settle() -> None:
        exact = dense_spectral_norm(torch.cat([entry[2] for entry in unsettled]), seed=seed + 1,
                                    start=torch.cat([entry[4] for entry in unsettled])).cpu().numpy()
        offset = 0
        for at, todo, _, scales, _ in unsettled:
            norms[todo, at] = exact[offset:offset + len(todo)] * np.exp(scales)
            offset += len(todo)
        unsettled.clear()

    for step in range(length - 1, 0, -1):
        product = steps.right_multiply(product, step)               # now ds_last/ds_{step-1}, scaled
        estimate, converged = power(product)
        norms[:, step - 1] = estimate * np.exp(log_scale)
        if not converged.all():
            todo = np.flatnonzero(~converged)
            index = torch.from_numpy(todo).to(device)
            unsettled.append((step - 1, todo, product[index].clone(), log_scale[todo].copy(), power.right[index]))
            if sum(len(entry[1]) for entry in unsettled) >= batch_limit:
                settle()
        # keep the product near norm 1, its size in the log scale: a vanishing 0.5^200 neither
        # sinks into slow denormals nor does an exploding 1.5^300 overflow float32
        scale = np.where((estimate > 0) & np.isfinite(estimate), estimate, 1.0)
        product = product / torch.from_numpy(scale).to(device=device, dtype=dtype)[:, None, None]
        log_scale = log_scale + np.log(scale)
    if unsettled:
        settle()
    return torch.from_numpy(norms)


SMALL_STATE = 64


def small_state_norms(steps: StepJacobians) -> tuple[torch.Tensor, torch.Tensor]:
    """Both profiles of a small state exactly: every step Jacobian and every scaled product
    stacked, and the top eigenvalue of each Gram matrix M^T M in float64."""
    length = steps.length
    dense = [steps.dense(step) for step in range(length)]
    size = steps.size
    product = torch.eye(size, dtype=dense[0].dtype, device=dense[0].device).expand(steps.batch, size, size)
    products, log_scales = [product], [torch.zeros(steps.batch, dtype=torch.float64, device=product.device)]
    for step in range(length - 1, 0, -1):
        product = steps.right_multiply(product, step)
        scale = product.abs().flatten(1).amax(dim=1)
        scale = torch.where((scale > 0) & torch.isfinite(scale), scale, torch.ones_like(scale))
        product = product / scale[:, None, None]
        products.append(product)
        log_scales.append(log_scales[-1] + torch.log(scale.double()))
    stacked = torch.stack(dense + products[::-1], dim=1)                   # [B, 2T, n, n]
    norms = gram_spectral_norm(stacked)
    step_norms, product_norms_ = norms[:, :length], norms[:, length:]
    return (product_norms_ * torch.exp(torch.stack(log_scales[::-1], dim=1))).cpu(), step_norms.cpu()


def jacobian_profile(steps: StepJacobians, seed: int = 0) -> JacobianProfile:
    """Spectral norms of ds_T/ds_t and ds_t/ds_{t-1} for every t, per probe sequence, in
    position order (the reverse direction's last step is position 0)."""
    if steps.size <= SMALL_STATE:
        jacobian_norm, step_jacobian_norm = small_state_norms(steps)
    else:
        jacobian_norm = product_norms(steps, seed)
        step_jacobian_norm = step_jacobian_norms(steps, seed + 2)
    if steps.reverse:
        jacobian_norm, step_jacobian_norm = jacobian_norm.flip(1), step_jacobian_norm.flip(1)
    return JacobianProfile(jacobian_norm, step_jacobian_norm)


def cell_jacobian_norm(forget: torch.Tensor, reverse: bool) -> torch.Tensor:
    """||prod_{k after t} diag(f_k)||_2 = the largest per-unit product of forget gates, [B, T].

    Summed in log space so that long products of small gates stay exact instead of underflowing.
    """
    log_forget = torch.log(forget.detach().double())
    if reverse:
        log_forget = log_forget.flip(1)
    # sum over the steps processed after t, without subtracting (a closed gate is -inf)
    suffix = log_forget.flip(1).cumsum(1).flip(1)
    after = torch.cat([suffix[:, 1:], torch.zeros_like(suffix[:, :1])], dim=1)
    norms = torch.exp(after.amax(dim=-1))
    return norms.flip(1) if reverse else norms
