"""Every probed number against a brute-force float64 computation (DESIGN.md, "The quantities,
precisely"), on seeded random small models of every architecture, depth, direction and head.

The reference (tests/models/rnn_reference.py) steps its own cells, written from the torch
documentation, takes each step Jacobian ds_t/ds_prev with torch.func.jacrev, multiplies them,
and backpropagates each probe sequence's own loss on its own.
"""
from __future__ import annotations

import functools
import itertools

import numpy as np
import pytest
import torch

from gradscope.models import RecurrentNet
from gradscope.probes.probe import Probe
from rnn_reference import (GATES, RegressionStub, SequenceCEStub, reference_forward,
                           reference_hidden_grad_norms, reference_jacobian_norms, suffix)

ARCHS = [("rnn", "tanh"), ("rnn", "relu"), ("jordan", "tanh"), ("lstm", "tanh"), ("gru", "tanh")]
CASES = [(arch, nonlin, layers, bidir, m2m)
         for (arch, nonlin), layers, bidir, m2m in itertools.product(ARCHS, (1, 2), (False, True), (False, True))]
RTOL = 1e-4
# "f32": the training dtype with moderate weights, to float32 precision (rel 1e-4).
# "f64": the same probes on a float64 copy of a model with large weights (deep saturation,
#        vanishing and exploding products), where the arithmetic is no excuse: rel 1e-6.
REGIMES = {"f32": 1e-4, "f64": 1e-6}


def ident(case):
    arch, nonlin, layers, bidir, m2m = case
    return f"{arch}-{nonlin}-L{layers}-{'bi' if bidir else 'uni'}-{'m2m' if m2m else 'm2o'}"


@functools.lru_cache(maxsize=None)
def measured(case, regime="f32"):
    """(model, x, y, task, probe result) for one case; built once, shared by the tests."""
    arch, nonlin, layers, bidir, m2m = case
    seed = CASES.index(case)
    g = torch.Generator().manual_seed(500 + seed)
    hidden = int(torch.randint(3, 9, (1,), generator=g))
    length = int(torch.randint(5, 13, (1,), generator=g))
    batch = int(torch.randint(2, 4, (1,), generator=g))
    inputs = int(torch.randint(2, 4, (1,), generator=g))
    outputs = 3 if m2m else 2
    torch.manual_seed(seed)
    model = RecurrentNet(arch, inputs, hidden, outputs, layers=layers, bidirectional=bidir,
                         nonlinearity=nonlin, many_to_many=m2m)
    # larger than torch's default so that gates saturate; float32 keeps rel 1e-4 up to about 0.6
    scale = (0.4, 0.6)[seed % 2] if regime == "f32" else 1.0
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * scale)
    x = torch.randn(batch, length, inputs, generator=g)
    if regime == "f64":
        model = model.double()
        x = x.double()
    if m2m:
        task, y = SequenceCEStub(), torch.randint(0, outputs, (batch, length), generator=g)
    else:
        task, y = RegressionStub(), torch.randn(batch, outputs, generator=g, dtype=x.dtype)
    result = Probe(model, task, x, y, seed=0)()
    return model, x, y, task, result


@functools.lru_cache(maxsize=None)
def reference_jac(case, regime="f32"):
    model, x, *_ = measured(case, regime)
    return reference_jacobian_norms(model, x)


def keys_of(case):
    _, _, layers, bidir, _ = case
    return [(l, d) for l in range(layers) for d in range(2 if bidir else 1)]


def assert_rel(actual, expected, rtol=RTOL, what=""):
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected.detach().numpy() if torch.is_tensor(expected) else expected, dtype=np.float64)
    assert actual.shape == expected.shape, what
    assert np.all(np.isfinite(actual)), what
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=1e-30, err_msg=what)


@pytest.mark.parametrize("case", CASES, ids=ident)
def test_series_names(case):
    arch, nonlin, layers, bidir, m2m = case
    model, x, *_, result = measured(case)
    T, H = x.shape[1], model.hidden
    expected = set()
    for layer, direction in keys_of(case):
        s = suffix(layer, direction, layers)
        series = ["hidden_grad_norm", "jacobian_norm", "step_jacobian_norm"]
        if arch in GATES:
            series += [f"gates/{g}" for g in GATES[arch]] + [f"gate_saturation/{g}" for g in GATES[arch]]
        else:
            series += ["activation_saturation"]
        if arch == "lstm":
            series += ["cell_jacobian_norm"]
        expected |= {name + s for name in series}
        blocks = {"rnn": ["W_hh"], "jordan": ["W_hh"], "lstm": ["W_hi", "W_hf", "W_hg", "W_ho"],
                  "gru": ["W_hr", "W_hz", "W_hn"]}[arch]
        expected |= {f"{kind}/{b}{s}" for kind in ("spectral_radius", "max_singular_value") for b in blocks}
    assert set(result) == expected
    for name, value in result.items():
        assert isinstance(value, np.ndarray) or np.isscalar(value), name
        if name.startswith("gates/"):
            assert value.shape == (T, H), name
        elif name.startswith(("spectral_radius", "max_singular_value")):
            assert np.shape(value) == (), name
        else:
            assert value.shape == (T,), name


@pytest.mark.parametrize("case", CASES, ids=ident)
@pytest.mark.parametrize("regime", REGIMES)
def test_jacobian_norm_matches_bruteforce(case, regime):
    *_, result = measured(case, regime)
    reference = reference_jac(case, regime)
    for layer, direction in keys_of(case):
        s = suffix(layer, direction, case[2])
        expected = reference[(layer, direction)][0]
        # the "last" step is T-1 forward and 0 in reverse, where the Jacobian is the identity
        assert result["jacobian_norm" + s][-1 if direction == 0 else 0] == pytest.approx(1.0, rel=1e-6)
        assert result["jacobian_norm" + s].dtype == np.float64
        assert_rel(result["jacobian_norm" + s], expected, rtol=REGIMES[regime], what="jacobian_norm" + s)


@pytest.mark.parametrize("case", CASES, ids=ident)
@pytest.mark.parametrize("regime", REGIMES)
def test_step_jacobian_norm_matches_bruteforce(case, regime):
    *_, result = measured(case, regime)
    reference = reference_jac(case, regime)
    for layer, direction in keys_of(case):
        s = suffix(layer, direction, case[2])
        assert_rel(result["step_jacobian_norm" + s], reference[(layer, direction)][1],
                   rtol=REGIMES[regime], what="step_jacobian_norm" + s)


@pytest.mark.parametrize("case", CASES, ids=ident)
@pytest.mark.parametrize("regime", REGIMES)
def test_hidden_grad_norm_matches_bruteforce(case, regime):
    model, x, y, task, result = measured(case, regime)
    reference = reference_hidden_grad_norms(model, task, x, y)
    for layer, direction in keys_of(case):
        s = suffix(layer, direction, case[2])
        expected = reference[(layer, direction)]
        assert float(expected.max()) > 0
        assert_rel(result["hidden_grad_norm" + s], expected, rtol=REGIMES[regime], what="hidden_grad_norm" + s)


def _saturation_bounds(values: torch.Tensor, sigmoid: bool, margin=1e-5):
    """(strict, loose) fraction per position averaged over units and sequences, so that a unit
    within `margin` of a threshold may count either way (float32 against float64)."""
    def frac(stuck):
        return stuck.double().mean(-1).mean(0).numpy()
    if sigmoid:
        strict = (values < 0.05 - margin) | (values > 0.95 + margin)
        loose = (values < 0.05 + margin) | (values > 0.95 - margin)
    else:
        strict = values.abs() > 0.95 + margin
        loose = values.abs() > 0.95 - margin
    return frac(strict), frac(loose)


@pytest.mark.parametrize("case", [c for c in CASES if c[0] in GATES], ids=ident)
@pytest.mark.parametrize("regime", REGIMES)
def test_gates_and_gate_saturation(case, regime):
    model, x, *_, result = measured(case, regime)
    ref = reference_forward(model, x)
    for layer, direction in keys_of(case):
        s = suffix(layer, direction, case[2])
        extras = ref.traces[(layer, direction)].extras
        for gate in GATES[case[0]]:
            values = extras[gate]                       # [B, T, H] float64, position order
            shown = result[f"gates/{gate}{s}"]
            np.testing.assert_allclose(shown, values[0].numpy(), rtol=2e-5, atol=2e-6,
                                       err_msg=f"gates/{gate}{s}")
            strict, loose = _saturation_bounds(values, sigmoid=gate != "candidate")
            got = result[f"gate_saturation/{gate}{s}"]
            assert np.all(strict - 1e-12 <= got) and np.all(got <= loose + 1e-12), f"gate_saturation/{gate}{s}"


@pytest.mark.parametrize("case", [c for c in CASES if c[0] not in GATES], ids=ident)
@pytest.mark.parametrize("regime", REGIMES)
def test_activation_saturation(case, regime):
    model, x, *_, result = measured(case, regime)
    ref = reference_forward(model, x)
    for layer, direction in keys_of(case):
        s = suffix(layer, direction, case[2])
        trace = ref.traces[(layer, direction)]
        h = torch.stack(trace.hidden, 1)
        if case[1] == "tanh":
            derivative = 1 - h * h
            strict = (derivative < 0.1 - 1e-5).double().mean(-1).mean(0).numpy()
            loose = (derivative < 0.1 + 1e-5).double().mean(-1).mean(0).numpy()
        else:
            pre = trace.extras["pre"]
            strict = (pre < -1e-5).double().mean(-1).mean(0).numpy()
            loose = (pre < 1e-5).double().mean(-1).mean(0).numpy()
        got = result["activation_saturation" + s]
        assert got.shape == (x.shape[1],)
        assert np.all(strict - 1e-12 <= got) and np.all(got <= loose + 1e-12), "activation_saturation" + s


@pytest.mark.parametrize("case", [c for c in CASES if c[0] == "lstm"], ids=ident)
@pytest.mark.parametrize("regime", REGIMES)
def test_cell_jacobian_norm(case, regime):
    """||prod_{k processed after t} diag(f_k)||_2 = max over units of the product, batch-averaged."""
    model, x, *_, result = measured(case, regime)
    ref = reference_forward(model, x)
    T = x.shape[1]
    for layer, direction in keys_of(case):
        s = suffix(layer, direction, case[2])
        f = ref.traces[(layer, direction)].extras["forget"]       # [B, T, H]
        expected = np.empty(T)
        for t in range(T):
            after = range(t + 1, T) if direction == 0 else range(0, t)
            product = torch.ones(f.shape[0], f.shape[2], dtype=torch.float64)
            for k in after:
                product = product * f[:, k]
            expected[t] = float(torch.linalg.matrix_norm(torch.diag_embed(product), ord=2).mean())
        assert_rel(result["cell_jacobian_norm" + s], expected, rtol=REGIMES[regime], what="cell_jacobian_norm" + s)


@pytest.mark.parametrize("case", CASES, ids=ident)
def test_weight_spectra(case):
    model, *_, result = measured(case)
    arch = case[0]
    for layer, direction in keys_of(case):
        s = suffix(layer, direction, case[2])
        name = f"l{layer}" + ("_reverse" if direction else "")
        if arch == "jordan":
            blocks = {"W_hh": (getattr(model.core, f"weight_hy_{name}") @ getattr(model.core, f"weight_yh_{name}"))}
        else:
            letters = {"rnn": ["hh"], "lstm": ["hi", "hf", "hg", "ho"], "gru": ["hr", "hz", "hn"]}[arch]
            weight = getattr(model.core, f"weight_hh_{name}")
            blocks = {f"W_{k}": b for k, b in zip(letters, weight.chunk(len(letters), 0))}
        for key, block in blocks.items():
            block = block.detach().double()
            radius = float(torch.linalg.eigvals(block).abs().max())
            singular = float(torch.linalg.matrix_norm(block, ord=2))
            assert float(result[f"spectral_radius/{key}{s}"]) == pytest.approx(radius, rel=1e-6)
            assert float(result[f"max_singular_value/{key}{s}"]) == pytest.approx(singular, rel=1e-6)
            assert radius <= singular * (1 + 1e-9)


def test_probe_leaves_model_untouched_and_is_repeatable():
    case = ("lstm", "tanh", 2, True, False)
    model, x, y, task, first = measured(case)
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    second = Probe(model, task, x, y, seed=0)()
    assert all(p.grad is None for p in model.parameters())
    for n, p in model.named_parameters():
        assert torch.equal(p, before[n]), n
    assert set(first) == set(second)
    for name in first:
        np.testing.assert_array_equal(first[name], second[name], err_msg=name)


def test_saturation_checks_are_not_vacuous():
    """The random cases above do drive units into saturation (else those tests prove little)."""
    gated, gateless = {}, []
    for case in CASES:
        *_, result = measured(case, "f64")
        for name, value in result.items():
            if name.startswith("gate_saturation/"):
                gated[name.split("/")[1]] = gated.get(name.split("/")[1], 0.0) + float(np.sum(value))
            elif name.startswith("activation_saturation"):
                gateless.append(float(np.sum(value)))
    assert set(gated) == {"input", "forget", "candidate", "output", "reset", "update"}
    assert all(total > 0 for total in gated.values()), gated
    assert sum(gateless) > 0
    fractions = [v for case in CASES for n, v in measured(case, "f64")[-1].items() if "saturation" in n]
    assert any(np.any((f > 0) & (f < 1)) for f in fractions)
