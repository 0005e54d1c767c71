"""Probes against closed forms, long sequences, degenerate and non-finite models, and the
iterative spectral code paths at larger sizes."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import gradscope.models
import gradscope.tasks
from gradscope.config import RunConfig
from gradscope.models import RecurrentNet
from gradscope.probes.probe import Probe
from rnn_reference import RegressionStub, reference_hidden_grad_norms, reference_jacobian_norms


def orthogonal(n, seed):
    g = torch.Generator().manual_seed(seed)
    q, r = torch.linalg.qr(torch.randn(n, n, generator=g, dtype=torch.float64))
    return q * torch.sign(torch.diagonal(r))


def silent_model(arch, hidden, recurrent=None, inputs=2, outputs=1, **kwargs):
    """A model whose input weights and biases are zero, so the state stays at zero."""
    torch.manual_seed(0)
    model = RecurrentNet(arch, inputs, hidden, outputs, **kwargs)
    with torch.no_grad():
        for name, p in model.core.named_parameters():
            if "weight_ih" in name or "bias" in name:
                p.zero_()
        if recurrent is not None:
            if arch == "jordan":
                model.core.weight_hy_l0.copy_(recurrent)
                model.core.weight_yh_l0.copy_(torch.eye(hidden))
            else:
                model.core.weight_hh_l0.copy_(recurrent)
    return model


def probe(model, length, batch=2, seed=0, inputs=2, outputs=1):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(batch, length, inputs, generator=g)
    y = torch.randn(batch, outputs, generator=g)
    return Probe(model, RegressionStub(), x, y)(), x, y


# -- closed forms --------------------------------------------------------------------------------

@pytest.mark.parametrize("arch", ["rnn", "jordan"])
@pytest.mark.parametrize("rho", [0.5, 0.9, 1.0, 1.5])
@pytest.mark.parametrize("kind", ["identity", "orthogonal"])
@pytest.mark.parametrize("length", [7, 60])
def test_tanh_rnn_at_rest_gives_rho_powers(arch, rho, kind, length):
    H = 6
    matrix = rho * (torch.eye(H, dtype=torch.float64) if kind == "identity" else orthogonal(H, 3))
    model = silent_model(arch, H, matrix.float())
    result, x, y = probe(model, length)
    t = np.arange(length)
    expected = rho ** (length - 1 - t).astype(np.float64)
    np.testing.assert_allclose(result["jacobian_norm"], expected, rtol=1e-5)
    np.testing.assert_allclose(result["step_jacobian_norm"], np.full(length, rho), rtol=1e-6)
    np.testing.assert_array_equal(result["activation_saturation"], np.zeros(length))
    assert result["spectral_radius/W_hh"] == pytest.approx(rho, rel=1e-6)
    assert result["max_singular_value/W_hh"] == pytest.approx(rho, rel=1e-6)
    # the error signal: dL/dh_t = (W^T)^(T-1-t) dL/dh_{T-1}, and W^T is rho times an isometry
    with torch.no_grad():
        out = model(x)
    last = (2 * (out - y) / y.shape[1]) @ model.head.weight        # dL_b/dh_{T-1} per sequence
    norms = torch.linalg.vector_norm(last.double(), dim=-1).mean().item()
    np.testing.assert_allclose(result["hidden_grad_norm"], norms * expected, rtol=1e-4)


@pytest.mark.parametrize("rho", [0.5, 1.5])
@pytest.mark.parametrize("kind", ["identity", "orthogonal"])
def test_long_sequence_keeps_the_log_scale(rho, kind):
    """0.5^299 ~ 1e-90 and 1.5^299 ~ 1e52: neither may underflow nor overflow."""
    H, T = 5, 300
    matrix = rho * (torch.eye(H, dtype=torch.float64) if kind == "identity" else orthogonal(H, 4))
    model = silent_model("rnn", H, matrix.float())
    result, *_ = probe(model, T, batch=2)
    jn = result["jacobian_norm"]
    assert jn.dtype == np.float64
    expected = rho ** (T - 1 - np.arange(T, dtype=np.float64))
    assert np.all(jn > 0) and np.all(np.isfinite(jn))
    # float32 products of an orthogonal matrix drift by about T * eps
    np.testing.assert_allclose(jn, expected, rtol=1e-4 if kind == "orthogonal" else 1e-6)


@pytest.mark.parametrize("forget_logit,output_logit", [(-1.0, 0.5), (2.0, -1.0)])
def test_lstm_at_rest_closed_form(forget_logit, output_logit):
    """W = 0, g = 0: c stays 0, J = [[0, o f I], [0, f I]] each step, so
    ||J^k|| = f^k sqrt(1 + o^2) for k >= 1 and cell_jacobian_norm = f^k."""
    H, T = 4, 300 if forget_logit < 0 else 40
    model = silent_model("lstm", H)
    with torch.no_grad():
        model.core.weight_hh_l0.zero_()
        model.core.bias_ih_l0[H:2 * H] = forget_logit
        model.core.bias_ih_l0[3 * H:] = output_logit
    result, *_ = probe(model, T)
    f = 1 / (1 + np.exp(-forget_logit))
    o = 1 / (1 + np.exp(-output_logit))
    np.testing.assert_allclose(result["gates/forget"], np.full((T, H), f), rtol=1e-6)
    np.testing.assert_allclose(result["gates/output"], np.full((T, H), o), rtol=1e-6)
    # the powers use the float32 gate values the model really computed: (f(1 + 6e-8))^299
    # would otherwise differ by 2e-5 from f^299
    f, o = float(result["gates/forget"][0, 0]), float(result["gates/output"][0, 0])
    k = (T - 1 - np.arange(T)).astype(np.float64)
    expected = f ** k * np.sqrt(1 + o * o)
    expected[-1] = 1.0
    np.testing.assert_allclose(result["jacobian_norm"], expected, rtol=5e-5)
    np.testing.assert_allclose(result["step_jacobian_norm"], np.full(T, f * np.sqrt(1 + o * o)), rtol=1e-6)
    np.testing.assert_allclose(result["cell_jacobian_norm"], f ** k, rtol=1e-9)
    assert result["cell_jacobian_norm"][0] > 0        # about 1e-171 for f = sigmoid(-1)
    np.testing.assert_allclose(result["gates/candidate"], np.zeros((T, H)), atol=0)


def test_gru_at_rest_closed_form():
    """W = 0, n = 0: h stays 0 and J = diag(z), so jacobian_norm = z^(T-1-t)."""
    H, T = 5, 50
    model = silent_model("gru", H)
    with torch.no_grad():
        model.core.weight_hh_l0.zero_()
        model.core.bias_ih_l0[H:2 * H] = 1.5
    result, *_ = probe(model, T)
    z = 1 / (1 + np.exp(-1.5))
    np.testing.assert_allclose(result["jacobian_norm"], z ** (T - 1 - np.arange(T, dtype=np.float64)), rtol=1e-5)
    np.testing.assert_allclose(result["step_jacobian_norm"], np.full(T, z), rtol=1e-6)
    np.testing.assert_allclose(result["gates/update"], np.full((T, H), z), rtol=1e-6)
    np.testing.assert_array_equal(result["gate_saturation/update"], np.zeros(T))
    np.testing.assert_array_equal(result["gate_saturation/reset"], np.zeros(T))


# -- degenerate models -----------------------------------------------------------------------------

def test_dead_relu_rnn_gives_zero_jacobians():
    H, T = 5, 9
    torch.manual_seed(0)
    model = RecurrentNet("rnn", 2, H, 1, nonlinearity="relu")
    with torch.no_grad():
        model.core.bias_ih_l0.fill_(-100.0)
    result, x, y = probe(model, T)
    expected = np.zeros(T)
    expected[-1] = 1.0
    np.testing.assert_array_equal(result["jacobian_norm"], expected)
    np.testing.assert_array_equal(result["step_jacobian_norm"], np.zeros(T))
    np.testing.assert_array_equal(result["activation_saturation"], np.ones(T))
    hidden = result["hidden_grad_norm"]
    assert np.all(hidden[:-1] == 0) and hidden[-1] > 0


def test_fully_saturated_tanh_counts_every_unit():
    H, T = 4, 6
    model = silent_model("rnn", H)
    with torch.no_grad():
        model.core.bias_ih_l0.copy_(torch.tensor([5.0, -5.0, 1.0, 0.0]))   # |h| = 0.9999, 0.9999, 0.76, 0
    result, *_ = probe(model, T)
    np.testing.assert_array_equal(result["activation_saturation"], np.full(T, 0.5))


def test_lstm_gate_saturation_known_fractions():
    H, T = 4, 6
    model = silent_model("lstm", H)
    with torch.no_grad():
        model.core.weight_hh_l0.zero_()
        logits = torch.tensor([4.0, -4.0, 2.0, 0.0])      # sigmoid: 0.982, 0.018, 0.88, 0.5
        for gate in range(4):
            model.core.bias_ih_l0[gate * H:(gate + 1) * H] = logits
    result, *_ = probe(model, T)
    for gate in ("input", "forget", "output"):
        np.testing.assert_array_equal(result[f"gate_saturation/{gate}"], np.full(T, 0.5), err_msg=gate)
    # tanh(4), tanh(-4) beyond 0.95 in magnitude; tanh(2) = 0.964 too; tanh(0) not
    np.testing.assert_array_equal(result["gate_saturation/candidate"], np.full(T, 0.75))


def test_lstm_forget_gate_exactly_zero():
    """A forget gate that underflows to 0 (logit -200 in float32) cuts the cell path:
    prod_{k>t} f_k = 0 for t < T-1 and the empty product 1 at t = T-1. Not NaN."""
    H, T = 3, 8
    torch.manual_seed(1)
    model = RecurrentNet("lstm", 2, H, 1)
    with torch.no_grad():
        model.core.bias_ih_l0[H:2 * H] = -200.0
    result, *_ = probe(model, T)
    assert np.all(result["gates/forget"] == 0)
    expected = np.zeros(T)
    expected[-1] = 1.0
    np.testing.assert_array_equal(result["cell_jacobian_norm"], expected)


# -- non-finite models -----------------------------------------------------------------------------

@pytest.mark.parametrize("arch", ["rnn", "jordan", "lstm", "gru"])
def test_nan_weight_gives_nan_without_raising(arch):
    H, T = 4, 7
    torch.manual_seed(0)
    model = RecurrentNet(arch, 2, H, 1)
    name = "weight_hy_l0" if arch == "jordan" else "weight_hh_l0"
    with torch.no_grad():
        getattr(model.core, name)[0, 0] = float("nan")
    result, *_ = probe(model, T)
    assert np.all(np.isnan(result["jacobian_norm"][:-1]))
    assert np.all(np.isnan(result["step_jacobian_norm"]))
    assert np.all(np.isnan(result["hidden_grad_norm"]))
    first = "W_hh" if arch in ("rnn", "jordan") else ("W_hi" if arch == "lstm" else "W_hr")
    assert np.isnan(result[f"spectral_radius/{first}"])
    assert np.isnan(result[f"max_singular_value/{first}"])


def test_nan_in_upper_layer_leaves_lower_layer_forward_quantities():
    """Layer 0's forward pass and Jacobians do not depend on layer 1's weights; its error
    signal does (it flows back through layer 1)."""
    H, T = 4, 7
    torch.manual_seed(0)
    model = RecurrentNet("lstm", 2, H, 1, layers=2)
    clean, *_ = probe(model, T)
    with torch.no_grad():
        model.core.weight_hh_l1[0, 0] = float("nan")
    result, *_ = probe(model, T)
    for name in ("jacobian_norm/layer0", "step_jacobian_norm/layer0", "cell_jacobian_norm/layer0",
                 "gates/forget/layer0", "spectral_radius/W_hi/layer0"):
        np.testing.assert_array_equal(result[name], clean[name], err_msg=name)
    assert np.all(np.isnan(result["hidden_grad_norm/layer0"]))
    assert np.all(np.isnan(result["step_jacobian_norm"]))
    assert np.isnan(result["spectral_radius/W_hi"])


def test_nan_in_one_gate_block_leaves_other_blocks_spectra():
    """spectral_radius/<W> is per matrix: a NaN in W_hi says nothing about W_hf."""
    H = 4
    torch.manual_seed(0)
    model = RecurrentNet("lstm", 2, H, 1)
    w_hf = model.core.weight_hh_l0[H:2 * H].detach().double().clone()
    with torch.no_grad():
        model.core.weight_hh_l0[0, 0] = float("nan")       # inside W_hi
    result, *_ = probe(model, 5)
    assert np.isnan(result["spectral_radius/W_hi"])
    assert result["spectral_radius/W_hf"] == pytest.approx(float(torch.linalg.eigvals(w_hf).abs().max()), rel=1e-6)
    assert result["max_singular_value/W_hf"] == pytest.approx(float(torch.linalg.matrix_norm(w_hf, ord=2)), rel=1e-6)


# -- the iterative spectral paths at larger sizes ---------------------------------------------------

def _compare_large(model, x, y, rtol=1e-4, hidden_grads=False):
    result = Probe(model, RegressionStub(), x, y)()
    jacobian_norm, step_norm = reference_jacobian_norms(model, x)[(0, 0)]
    pairs = {"jacobian_norm": jacobian_norm, "step_jacobian_norm": step_norm}
    if hidden_grads:
        pairs["hidden_grad_norm"] = reference_hidden_grad_norms(model, RegressionStub(), x, y)[(0, 0)]
    errors = {name: float(np.max(np.abs(result[name] / expected.numpy() - 1))) for name, expected in pairs.items()}
    bad = {name: f"{error:.2e}" for name, error in errors.items() if not error <= rtol}
    assert not bad, f"max relative error above {rtol}: {bad}"


@pytest.mark.parametrize("arch, hidden, length, seed", [("lstm", 48, 30, 11), ("rnn", 96, 40, 12)])
def test_large_models_take_the_iterative_paths(arch, hidden, length, seed):
    torch.manual_seed(seed)
    model = RecurrentNet(arch, 3, hidden, 2)
    g = torch.Generator().manual_seed(seed)
    x, y = torch.randn(2, length, 3, generator=g), torch.randn(2, 2, generator=g)
    _compare_large(model, x, y, hidden_grads=True)


@pytest.mark.parametrize("seed", [0, 3])
def test_orthogonal_init_rnn_hidden64_as_built(seed):
    """gradscope's own orthogonal init at rho = 1: the singular values of the Jacobians
    crowd around 1, where power iteration and Lanczos converge slowly."""
    cfg = RunConfig(arch="rnn", hidden=64, seq_len=40, task="adding", init="orthogonal", rho=1.0, seed=seed)
    task = gradscope.tasks.build(cfg)
    model = gradscope.models.build(cfg, task)
    x, y = task.probe_batch(2, seed)
    _compare_large(model, x, y)


@pytest.mark.parametrize("input_scale,seed", [(0.001, 0), (0.1, 1), (0.3, 2)])
@pytest.mark.parametrize("H", [64, 96])
def test_orthogonal_rnn_clustered_singular_values(H, input_scale, seed):
    """W_hh = Q orthogonal, small inputs, zero biases: every step Jacobian diag(1 - h^2) Q and
    every product has singular values within ~1e-3 of each other. Two sizes, so that both a
    dense and an iterative spectral path are exercised whatever the size threshold between them."""
    T = 40
    torch.manual_seed(seed)
    model = RecurrentNet("rnn", 3, H, 2)
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        model.core.weight_hh_l0.copy_(orthogonal(H, 100 + seed))
        model.core.weight_ih_l0.copy_(torch.randn(H, 3, generator=g) * input_scale)
        model.core.bias_ih_l0.zero_()
        model.core.bias_hh_l0.zero_()
    x, y = torch.randn(2, T, 3, generator=g), torch.randn(2, 2, generator=g)
    _compare_large(model, x, y)
