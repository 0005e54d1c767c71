"""Largest singular values of many matrices at once.

`lanczos_spectral_norm` runs Lanczos on J^T J for a whole batch of operators given only as
matrix-vector products. It reaches float32 precision in a few dozen products even when the
top singular values are nearly equal, where power iteration crawls. Convergence is checked
with one vectorised Sturm count per row instead of solving each small tridiagonal again.

`WarmPowerIteration` serves a sequence of slowly changing matrices (the Jacobian products
ds_T/ds_t for t going backward): started from the previous left singular vector it usually
converges in one or two products; what it cannot settle quickly is handed to Lanczos.
"""
from __future__ import annotations

from typing import Callable

import numpy as np
import torch

Matvec = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]

LANCZOS_TOLERANCE = 1e-10     # relative rise of the top Ritz value of J^T J over 8 steps
FLOAT32_TOLERANCE = 1e-8     # the same, when the operator's products are float32
POWER_TOLERANCE = 1e-6        # relative change of a warm power-iteration estimate
POWER_ITERATIONS = 3


def _safe_normalise(vectors: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    norms = torch.linalg.vector_norm(vectors, dim=-1)
    safe = torch.where(norms > 0, norms, torch.ones_like(norms))
    return vectors / safe.unsqueeze(-1), norms


def lanczos_spectral_norm(matvec: Matvec, rmatvec: Matvec, count: int, size: int, *,
                          dtype=torch.float32, device="cpu", seed: int = 0,
                          max_steps: int | None = None, start: torch.Tensor | None = None,
                          tolerance: float = LANCZOS_TOLERANCE) -> torch.Tensor:
    """sigma_max of `count` operators J of size `size`, given v -> J v and u -> J^T u.

    `matvec(v, rows)` and `rmatvec(u, rows)` take vectors [len(rows), size] for the operators
    `rows` (an index tensor into the `count` operators): settled operators drop out of the
    batch, so the slow ones do not make everyone pay.

    Plain three-term Lanczos on J^T J, its recurrence in float64: without reorthogonalisation
    the basis loses orthogonality only after the top Ritz value has converged (Paige), and
    storing no basis keeps the memory traffic to a few vectors. The products run in `dtype`;
    `tolerance` (the allowed rise of the top Ritz value over 8 steps) must sit above that
    dtype's round-off, or a slowly rising Ritz value on a clustered spectrum never settles.
    Returns float64 [count]; NaN where the operator's products are not finite.
    """
    steps_cap = min(size, max_steps or max(size, 8))
    generator = torch.Generator().manual_seed(seed)
    if start is None:
        start = torch.randn(count, size, generator=generator, dtype=torch.float64)
    current = _safe_normalise(start.to(dtype=torch.float64, device=device))[0]
    previous_vector = torch.zeros_like(current)
    alphas = torch.zeros(count, steps_cap, dtype=torch.float64, device=device)
    betas = torch.zeros(count, steps_cap, dtype=torch.float64, device=device)
    finite = torch.ones(count, dtype=torch.bool, device=device)
    ritz = torch.zeros(count, dtype=torch.float64, device=device)
    active = torch.arange(count, device=device)     # operators still iterating
    open_rows = active                               # operators whose top Ritz value is not settled
    beta = torch.zeros(count, dtype=torch.float64, device=device)
    steps_done = 0
    for step in range(steps_cap):
        image = rmatvec(matvec(current.to(dtype), active), active).double()
        if step == 0:
            # a NaN or inf in an operator shows in its first product and would spread from there
            finite = torch.isfinite(image).all(dim=-1)
        if not bool(finite[active].all()):
            image = torch.where(finite[active].unsqueeze(-1), image, torch.zeros_like(image))
        alpha = (image * current).sum(-1)
        image = image - alpha.unsqueeze(-1) * current - beta.unsqueeze(-1) * previous_vector
        alphas[active, step] = alpha
        previous_vector = current
        current, beta = _safe_normalise(image)
        betas[active, step] = beta
        steps_done = step + 1
        if steps_done >= 16 and steps_done % 8 == 0 and steps_done < steps_cap:
            open_rows = _unsettled(alphas, betas, steps_done, ritz, open_rows, finite, tolerance)
            if open_rows.numel() == 0:
                break
            if open_rows.numel() < 0.75 * active.numel():
                keep = torch.isin(active, open_rows)
                active, current, previous_vector, beta = (active[keep], current[keep], previous_vector[keep],
                                                          beta[keep])
    if open_rows.numel():
        ritz[open_rows] = _top_ritz(alphas[open_rows, :steps_done], betas[open_rows, : steps_done - 1])
    sigma = ritz.clamp_min(0).sqrt()
    return torch.where(finite, sigma, torch.full_like(sigma, float("nan")))


def _top_ritz(alphas: torch.Tensor, off: torch.Tensor) -> torch.Tensor:
    tridiagonal = torch.diag_embed(alphas)
    if off.shape[1]:
        tridiagonal = tridiagonal + torch.diag_embed(off, 1) + torch.diag_embed(off, -1)
    return torch.linalg.eigvalsh(tridiagonal)[:, -1]


def _unsettled(alphas, betas, steps, ritz, open_rows, finite, tolerance) -> torch.Tensor:
    """Rows whose top Ritz value may still rise by more than the tolerance.

    A row is settled when no eigenvalue of its tridiagonal lies above its last Ritz value times
    (1 + tolerance): one Sturm count, far cheaper than solving for the new Ritz value.
    """
    diagonal, off = alphas[open_rows, :steps], betas[open_rows, : steps - 1]
    last = ritz[open_rows]
    known = last > 0
    threshold = last * (1 + tolerance) + 1e-300
    above = steps - _count_below(diagonal, off, threshold)
    settled = known & (above == 0) | ~finite[open_rows] | (betas[open_rows, steps - 1] == 0)
    still = open_rows[~settled]
    if still.numel():
        ritz[still] = _top_ritz(alphas[still, :steps], betas[still, : steps - 1])
    return still


def _count_below(diagonal: torch.Tensor, off: torch.Tensor, shift: torch.Tensor) -> torch.Tensor:
    """How many eigenvalues of each tridiagonal lie below `shift` (Sturm count via LDL^T pivots)."""
    tiny = torch.finfo(torch.float64).tiny
    squared = off * off
    pivot = diagonal[:, 0] - shift
    below = (pivot < 0).to(torch.int64)
    for index in range(1, diagonal.shape[1]):
        safe = torch.where(pivot.abs() < tiny, torch.full_like(pivot, -tiny), pivot)
        pivot = diagonal[:, index] - shift - squared[:, index - 1] / safe
        below += pivot < 0
    return below


GRAM_MAX_SIZE = 128  # up to here one batched eigensolve of M^T M beats Lanczos on stored matrices


def gram_spectral_norm(matrices: torch.Tensor) -> torch.Tensor:
    """sigma_max of each matrix in [..., n, n], exactly: the top eigenvalue of M^T M in float64.
    NaN where a matrix holds a NaN or inf."""
    matrices = matrices.double()
    finite = torch.isfinite(matrices).flatten(-2).all(-1)
    cleaned = torch.where(finite[..., None, None], matrices, torch.zeros_like(matrices))
    sigma = torch.linalg.eigvalsh(cleaned.mT @ cleaned)[..., -1].clamp_min(0).sqrt()
    return torch.where(finite, sigma, torch.full_like(sigma, float("nan")))


def dense_spectral_norm(matrices: torch.Tensor, seed: int = 0, start: torch.Tensor | None = None) -> torch.Tensor:
    """sigma_max of each matrix in [N, n, n]: exactly for moderate sizes, else by Lanczos
    (from `start`, right vectors, if given)."""
    if matrices.shape[-1] <= GRAM_MAX_SIZE:
        return gram_spectral_norm(matrices)
    # The products are memory-bound, so the matrices stay float32 (the Lanczos recurrence is
    # float64 regardless) and the stopping test allows for float32 round-off in the products.
    # Row-vector products u^T M read a batch of matrices about three times faster than M v,
    # so keep a transposed copy.
    stacks = {"rows": None, "both": (matrices, matrices.mT.contiguous())}

    def pick(rows: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        # the active set shrinks a few times per solve: copy the survivors once per change
        if stacks["rows"] is not None and rows.numel() != stacks["rows"].numel():
            kept = torch.isin(stacks["rows"], rows)
            stacks["both"] = tuple(stack[kept] for stack in stacks["both"])
        stacks["rows"] = rows
        return stacks["both"]

    return lanczos_spectral_norm(
        lambda v, rows: torch.bmm(v.unsqueeze(1), pick(rows)[1]).squeeze(1),
        lambda u, rows: torch.bmm(u.unsqueeze(1), pick(rows)[0]).squeeze(1),
        matrices.shape[0], matrices.shape[-1], dtype=matrices.dtype, device=matrices.device, seed=seed,
        start=start, tolerance=LANCZOS_TOLERANCE if matrices.dtype == torch.float64 else FLOAT32_TOLERANCE)


class WarmPowerIteration:
    """Power iteration on a sequence of [B, n, n] batches, warm-started from the last answer,
    with a certificate instead of a guess.

    From a unit right vector v, sigma = ||M v|| is a lower bound of sigma_max. With the
    residual eps = ||M^T M v - sigma^2 v|| and the Frobenius mass F^2 = ||M||_F^2, every unit
    x = a v + b y (y orthogonal to v) has ||M x||^2 <= a^2 sigma^2 + 2|ab| eps + b^2 (F^2 - sigma^2),
    so whenever 2 sigma^2 > F^2

        sigma_max^2 <= sigma^2 + eps^2 / (2 sigma^2 - F^2).

    Long products of Jacobians are dominated by one direction and certify at once; short or
    clustered ones (where "the estimate stopped changing" can be off by the cluster's width)
    are reported unsettled and the caller settles them with `dense_spectral_norm`.
    """

    def __init__(self, batch: int, size: int, dtype=torch.float32, device="cpu", seed: int = 0):
        generator = torch.Generator().manual_seed(seed)
        start = torch.randn(batch, size, generator=generator, dtype=torch.float64)
        self.left = _safe_normalise(start.to(dtype=dtype, device=device))[0]
        self.right = self.left

    def __call__(self, matrices: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
        """(sigma estimates, certified) as float64/bool numpy arrays [B].

        Runs once per timestep and its cost is op dispatch, so only the matrix products stay
        in torch; the per-sequence bookkeeping is numpy on a handful of numbers.
        """
        left = self.left
        mass = _numbers(torch.linalg.matrix_norm(matrices)).astype(np.float64) ** 2 * (1 + 1e-5)
        for _ in range(POWER_ITERATIONS):
            right = torch.bmm(left.unsqueeze(1), matrices).squeeze(1)                          # M^T u
            right = right / torch.linalg.vector_norm(right, dim=-1, keepdim=True).clamp_min(1e-30)
            image = torch.bmm(matrices, right.unsqueeze(-1)).squeeze(-1)                       # M v
            back = torch.bmm(image.unsqueeze(1), matrices).squeeze(1)                          # M^T M v
            image_norm = torch.linalg.vector_norm(image, dim=-1)
            sigma2_t = image_norm.square()
            residual = torch.linalg.vector_norm(back - sigma2_t.unsqueeze(-1) * right, dim=-1)
            sigma2 = _numbers(sigma2_t).astype(np.float64)
            residual2 = _numbers(residual).astype(np.float64) ** 2
            margin = 2 * sigma2 - mass
            # sigma^2 + eps^2 / margin <= sigma^2 (1 + 2 tol), with the division multiplied out
            with np.errstate(invalid="ignore"):
                converged = ((margin > 0) & (residual2 <= 2 * POWER_TOLERANCE * sigma2 * margin)) | (mass == 0)
            left = image / image_norm.clamp_min(1e-30).unsqueeze(-1)
            if converged.all() or not (margin > 0).all():
                # either settled, or not dominated by one direction: no iteration will certify it
                break
        usable = (sigma2 > 0) & np.isfinite(sigma2)
        if usable.all():
            self.left = left
        elif usable.any():
            keep = torch.from_numpy(usable).to(left.device).unsqueeze(-1)
            self.left = torch.where(keep, left, self.left)
        self.right = right
        return np.sqrt(sigma2), (converged & usable) | (mass == 0)


def _numbers(tensor: torch.Tensor) -> np.ndarray:
    return tensor.detach().cpu().numpy()
