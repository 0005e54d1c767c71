"""The fused training path, the unrolled probe path and an independent reference compute the
same function from the same weights, for every architecture, depth, direction and head."""
from __future__ import annotations

import itertools

import pytest
import torch

from gradscope.models import RecurrentNet
from rnn_reference import GATES, layer_params, reference_forward

ARCHS = [("rnn", "tanh"), ("rnn", "relu"), ("jordan", "tanh"), ("jordan", "relu"), ("lstm", "tanh"), ("gru", "tanh")]
CASES = [(arch, nonlin, layers, bidir, m2m)
         for (arch, nonlin), layers, bidir, m2m in itertools.product(ARCHS, (1, 2, 3), (False, True), (False, True))]


def _ident(case):
    arch, nonlin, layers, bidir, m2m = case
    return f"{arch}-{nonlin}-L{layers}-{'bi' if bidir else 'uni'}-{'m2m' if m2m else 'm2o'}"


def assert_close_scaled(actual, expected, rel=2e-5):
    """float32 against float64: errors relative to the largest magnitude in play."""
    actual, expected = actual.double(), expected.double()
    scale = max(1.0, float(expected.abs().max()))
    torch.testing.assert_close(actual, expected, rtol=rel, atol=rel * scale)


def make(case, seed=0):
    arch, nonlin, layers, bidir, m2m = case
    g = torch.Generator().manual_seed(1000 + seed + 17 * layers + 3 * bidir + m2m)
    hidden = int(torch.randint(3, 9, (1,), generator=g))
    length = int(torch.randint(5, 13, (1,), generator=g))
    batch = int(torch.randint(2, 4, (1,), generator=g))
    inputs = int(torch.randint(2, 4, (1,), generator=g))
    torch.manual_seed(seed)
    model = RecurrentNet(arch, inputs, hidden, 4, layers=layers, bidirectional=bidir,
                         nonlinearity=nonlin, many_to_many=m2m)
    with torch.no_grad():
        for p in model.parameters():   # larger than torch's default, so the cells are not near-linear
            p.copy_(torch.randn(p.shape, generator=g) * 0.8)
    x = torch.randn(batch, length, inputs, generator=g)
    return model, x


@pytest.mark.parametrize("case", CASES, ids=_ident)
def test_fused_forward_equals_unrolled(case):
    model, x = make(case)
    with torch.no_grad():
        fused = model(x)
        unrolled = model.unrolled(x).output
    expected = (x.shape[0], x.shape[1], 4) if case[4] else (x.shape[0], 4)
    assert fused.shape == expected
    assert unrolled.shape == expected
    torch.testing.assert_close(unrolled, fused, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("case", CASES, ids=_ident)
def test_forward_equals_independent_reference(case):
    model, x = make(case)
    with torch.no_grad():
        fused = model(x).double()
        ref = reference_forward(model, x).output
    assert_close_scaled(fused, ref)


@pytest.mark.parametrize("case", CASES, ids=_ident)
def test_unrolled_traces_match_reference(case):
    """States are in position order (also for reverse), final states match the fused module."""
    arch, nonlin, layers, bidir, m2m = case
    model, x = make(case)
    with torch.no_grad():
        unrolled = model.unrolled(x)
        ref = reference_forward(model, x)
        _, fused_final = model.run(x)
    dirs = 2 if bidir else 1
    assert set(unrolled.traces) == {(l, d) for l in range(layers) for d in range(dirs)}
    for (layer, direction), trace in unrolled.traces.items():
        rtrace = ref.traces[(layer, direction)]
        assert len(trace.states) == x.shape[1]
        states = torch.stack(trace.states, 1).double()
        assert_close_scaled(states, torch.stack(rtrace.hidden, 1))
        for gate in GATES.get(arch, ()):
            assert_close_scaled(trace.parts[gate], rtrace.extras[gate])
        k = layer * dirs + direction
        final = trace.final_state
        if arch == "lstm":
            torch.testing.assert_close(final[0], fused_final[0][k], rtol=1e-5, atol=1e-6)
            torch.testing.assert_close(final[1], fused_final[1][k], rtol=1e-5, atol=1e-6)
        else:
            torch.testing.assert_close(final, fused_final[k], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("arch,nonlin", ARCHS, ids=[f"{a}-{n}" for a, n in ARCHS])
def test_recurrent_matrices(arch, nonlin):
    model, _ = make((arch, nonlin, 2, True, False))
    names = {"rnn": ["W_hh"], "jordan": ["W_hh"], "lstm": ["W_hi", "W_hf", "W_hg", "W_ho"],
             "gru": ["W_hr", "W_hz", "W_hn"]}[arch]
    H = model.hidden
    for layer, direction in itertools.product(range(2), range(2)):
        mats = model.recurrent_matrices(layer, direction)
        assert list(mats) == names
        p = layer_params(model, layer, direction, torch.float32)
        if arch == "jordan":
            expected = [p["weight_hy"] @ p["weight_yh"]]
        else:
            expected = list(p["weight_hh"].chunk(len(names), 0))
        for got, want in zip(mats.values(), expected):
            assert got.shape == (H, H)
            torch.testing.assert_close(got.detach(), want, rtol=1e-6, atol=1e-6)


def test_nonzero_initial_state_matches_fused():
    """run(x, state) feeds a state back (TBPTT); unrolled(x, state) must agree."""
    for arch in ("rnn", "lstm", "gru"):
        model, x = make((arch, "tanh", 2, True, True))
        shape = (4, x.shape[0], model.hidden)
        g = torch.Generator().manual_seed(5)
        state = ((torch.randn(shape, generator=g), torch.randn(shape, generator=g)) if arch == "lstm"
                 else torch.randn(shape, generator=g))
        with torch.no_grad():
            fused, _ = model.run(x, state)
            unrolled = model.unrolled(x, state).output
        torch.testing.assert_close(unrolled, fused, rtol=1e-5, atol=1e-6)
