"""The batched spectral-norm routines of gradscope/probes/spectral.py on plain matrices."""
from __future__ import annotations

import pytest
import torch

from gradscope.probes.spectral import WarmPowerIteration, dense_spectral_norm


def _batch(n, count, spread, seed):
    """count matrices diag(d) Q with Q orthogonal and d in [1 - spread, 1]: singular values d."""
    g = torch.Generator().manual_seed(seed)
    q, _ = torch.linalg.qr(torch.randn(count, n, n, generator=g, dtype=torch.float64))
    d = 1 - spread * torch.rand(count, n, generator=g, dtype=torch.float64)
    return d.unsqueeze(-1) * q


@pytest.mark.parametrize("n", [3, 8, 40, 130])
def test_dense_spectral_norm_generic_matrices(n):
    g = torch.Generator().manual_seed(n)
    matrices = torch.randn(12, n, n, generator=g, dtype=torch.float64)
    expected = torch.linalg.matrix_norm(matrices, ord=2)
    # Gaussian matrices' top two singular values sit ~n^(-2/3) apart: float32 precision is the bar
    torch.testing.assert_close(dense_spectral_norm(matrices), expected, rtol=1e-6, atol=0)


def test_lanczos_handles_zero_nan_and_rank_one():
    n = 6
    g = torch.Generator().manual_seed(0)
    u, v = torch.randn(n, generator=g, dtype=torch.float64), torch.randn(n, generator=g, dtype=torch.float64)
    matrices = torch.stack([torch.zeros(n, n, dtype=torch.float64), torch.outer(u, v),
                            torch.full((n, n), float("nan"), dtype=torch.float64)])
    sigma = dense_spectral_norm(matrices)
    assert sigma[0] == 0
    assert sigma[1] == pytest.approx(float(u.norm() * v.norm()), rel=1e-10)
    assert torch.isnan(sigma[2])


@pytest.mark.parametrize("n", [32, 64])
def test_lanczos_clustered_singular_values(n):
    """Singular values spread over [0.9, 1]: the top one is only ~1e-3 above the next.
    The probes promise float32 precision; rel 1e-4 is the loosest reading of that."""
    matrices = _batch(n, 20, 0.1, seed=0)
    expected = torch.linalg.matrix_norm(matrices, ord=2)
    got = dense_spectral_norm(matrices)
    error = float((got / expected - 1).abs().max())
    assert error <= 1e-4, f"max relative error {error:.2e}"


def test_warm_power_iteration_convergence_flag_is_trustworthy():
    """Each estimate is ||M v|| for a unit v, so never above sigma_max; whatever it reports as
    converged (and so never hands to Lanczos) must be within float32 precision.

    Half the batch has a clustered top (singular values ~2e-4 apart), where "the estimate
    stopped changing" is no proof; half has one dominant direction, like a long Jacobian
    product, which it should settle. Called repeatedly, as product_norms does."""
    n, count = 16, 16
    clustered = _batch(n, count // 2, 0.003, seed=1)
    g = torch.Generator().manual_seed(2)
    q, _ = torch.linalg.qr(torch.randn(count // 2, n, n, generator=g, dtype=torch.float64))
    d = 0.2 * torch.rand(count // 2, n, generator=g, dtype=torch.float64)
    d[:, 0] = 1.0
    dominant = d.unsqueeze(-1) * q
    matrices = torch.cat([clustered, dominant])
    expected = torch.linalg.matrix_norm(matrices, ord=2)
    power = WarmPowerIteration(count, n, torch.float64, "cpu", seed=0)
    worst, claimed = 0.0, torch.zeros(count, dtype=torch.bool)
    for _ in range(30):
        estimate, converged = (torch.as_tensor(a) for a in power(matrices))   # numpy [B] arrays
        assert bool((estimate <= expected * (1 + 1e-12)).all())
        if bool(converged.any()):
            claimed |= converged
            worst = max(worst, float((estimate / expected - 1).abs()[converged].max()))
    assert bool(claimed[count // 2:].any()), "never settles even a dominant direction"
    assert worst <= 1e-4, f"reported converged but off by {worst:.2e}"
