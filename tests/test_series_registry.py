"""The series registry declares every name a recorded run holds, with the rank its axes give."""
from __future__ import annotations

import pytest

from gradscope.series import AXES, SERIES, SUMMARIES, lookup
from gradscope.session import SessionWriter, open_session
from gradscope.training import SessionRecorder, Trainer
from gradscope.config import RunConfig

RUNS = [
    dict(arch="rnn", task="adding"),
    dict(arch="jordan", task="sine"),
    dict(arch="lstm", task="copy", layers=2, bidirectional=True),
    dict(arch="gru", task="recall", clip_mode="norm", clip_threshold=0.1),
    dict(arch="lstm", task="charlm", seq_len=6),
    dict(arch="rnn", task="sine", nonlinearity="relu", layers=2),
    dict(arch="cnn", task="digits", depth=3, residual=True),
    dict(arch="lenet", task="digits"),
    dict(arch="mlp", task="digits", layers=2),
]


def test_every_declaration_is_well_formed():
    for pattern, spec in SERIES.items():
        assert spec.pattern == pattern and spec.label
        assert set(spec.axes) <= set(AXES) and spec.summary in SUMMARIES, pattern
        assert (spec.kind == "scalar") == (not spec.axes), pattern


def test_an_undeclared_name_is_not_found():
    for name in ("nonsense", "gates", "hidden_grad_norm/extra", "metric/", "loss/layer0", ""):
        assert lookup(name) is None, name
    assert lookup("gates/forget/layer0/reverse").pattern == "gates/{gate}"
    assert lookup("spectral_radius/W_hh/layer1").pattern == "spectral_radius/{matrix}"


@pytest.mark.parametrize("settings", RUNS, ids=[f"{r['arch']}-{r['task']}" for r in RUNS])
def test_every_name_a_recorded_run_holds_is_declared_with_its_rank(tmp_path, settings):
    config = RunConfig(**{"seq_len": 8, "hidden": 6, "batch": 4, "steps": 3, "probe_every": 1, **settings})
    path = tmp_path / "run.gscope"
    with SessionWriter(path) as writer, Trainer(config, [SessionRecorder(writer)]) as trainer:
        trainer.run()
    with open_session(path) as session:
        names = session.runs[0].series_names()
    assert names
    for name, (kind, dtype, shape) in names.items():
        spec = lookup(name)
        assert spec is not None, f"{name} is recorded but not declared in gradscope.series"
        assert spec.kind == kind and spec.rank == len(shape), (name, kind, shape)
