"""CSV and NPZ export of a run's series: exact values, column order, step ranges, clean failures."""
from __future__ import annotations

import csv
import json
import math
import os
from pathlib import Path

import numpy as np
import pytest

from export_samples import STEPS, T, write_sample

from gradscope.export import ExportError, csv_columns, find_run, parse_steps, write_csv, write_npz
from gradscope.export import series as series_module
from gradscope.session import open_session


def read_csv(path: Path) -> tuple[list[str], list[list[str]]]:
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    return rows[0], rows[1:]


def same(a: float, b: float) -> bool:
    """Equal to the bit, NaN equal to NaN."""
    return (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1, a) == math.copysign(1, b))


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


# -- CSV -------------------------------------------------------------------------------------------

def test_csv_columns_come_in_a_stable_order_and_skip_what_does_not_fit(sample, tmp_path):
    run, _ = sample
    write_csv(run, tmp_path / "out.csv")
    header, _ = read_csv(tmp_path / "out.csv")
    scalars = ["loss", "grad_norm", "grad_norm_clipped", "clipped", "lr", "clip_threshold",
               "metric/accuracy", "param_grad_norm/rnn.weight_hh_l0", "zeta"]
    arrays = [f"{name}[{t}]" for name in ("hidden_grad_norm", "hidden_grad_norm/layer0", "jacobian_norm",
                                          "step_jacobian_norm", "gate_saturation/forget") for t in range(T)]
    assert header == ["step", *scalars, *arrays, "alive[0]", "alive[1]", "alive[2]", "count"]
    assert csv_columns(run) == header
    assert not any(column.startswith(("gates/", "sample/")) for column in header)


def test_csv_holds_exactly_the_recorded_values(sample, tmp_path):
    run, records = sample
    assert write_csv(run, tmp_path / "out.csv") == STEPS
    header, rows = read_csv(tmp_path / "out.csv")
    assert [int(row[0]) for row in rows] == list(range(STEPS))
    assert all(len(row) == len(header) for row in rows)
    table = {column: [row[i] for row in rows] for i, column in enumerate(header)}
    for record, index in zip(records, range(STEPS)):
        for name, value in record.scalars.items():
            assert same(float(table[name][index]), value), (name, record.step)
        if "metric/accuracy" not in record.scalars:
            assert table["metric/accuracy"][index] == ""
        for name in ("hidden_grad_norm", "jacobian_norm", "gate_saturation/forget"):
            cells = [table[f"{name}[{t}]"][index] for t in range(T)]
            if record.arrays:
                expected = record.arrays[name]
                parsed = np.array([float(cell) for cell in cells]).astype(expected.dtype)
                assert all(same(float(a), float(b)) for a, b in zip(parsed, expected)), name
            else:
                assert cells == [""] * T
        if record.arrays:
            assert [table[f"alive[{i}]"][index] for i in range(3)] == \
                   ["1" if x else "0" for x in record.arrays["alive"]]
            assert table["count"][index] == str(record.step)
    # and the same through the session's own read API, for every column
    for name in run.series_names():
        if name not in table and f"{name}[0]" not in table:
            continue
        steps, values = run.series_with_steps(name)
        for step, value in zip(steps, values.reshape(len(steps), -1).astype(np.float64)):
            cells = [table[name][step]] if name in table else [table[f"{name}[{t}]"][step]
                                                                   for t in range(len(value))]
            assert all(same(float(c), float(v)) for c, v in zip(cells, value)), (name, step)


def test_nan_and_inf_are_written_as_text_python_reads_back(sample, tmp_path):
    run, _ = sample
    write_csv(run, tmp_path / "out.csv")
    header, rows = read_csv(tmp_path / "out.csv")
    loss, grad_norm = header.index("loss"), header.index("grad_norm")
    assert rows[2][loss] == "nan" and rows[1][grad_norm] == "inf" and rows[3][grad_norm] == "-inf"
    hidden = [rows[3][header.index(f"hidden_grad_norm[{t}]")] for t in range(T)]
    assert hidden[3] == "inf"


def test_a_step_range_selects_rows_a_up_to_b(sample, tmp_path):
    run, _ = sample
    for steps, expected in [((4, 10), range(4, 10)), ((None, 3), range(3)), ((15, None), range(15, STEPS)),
                            ((None, None), range(STEPS)), (parse_steps("7:8"), [7])]:
        path = tmp_path / "range.csv"
        assert write_csv(run, path, steps=steps) == len(expected)
        _, rows = read_csv(path)
        assert [int(row[0]) for row in rows] == list(expected)


@pytest.mark.parametrize("steps, problem", [((5, 5), "empty range"), ((100, None), "no recorded steps in [100, )"),
                                            ((None, 0), "no recorded steps in [, 0)"), ("5:9", "pair")])
def test_an_empty_or_malformed_range_is_refused_and_writes_nothing(sample, tmp_path, steps, problem):
    run, _ = sample
    for write in (write_csv, write_npz):
        with pytest.raises(ExportError, match=problem.replace("[", r"\[").replace("(", r"\(").replace(")", r"\)")):
            write(run, tmp_path / "out.file", steps=steps)
    assert list(tmp_path.iterdir()) == [tmp_path / "sample.gscope"]


def test_unwritable_paths_and_unknown_runs_say_what_is_wrong(sample, tmp_path):
    run, _ = sample
    with pytest.raises(ExportError, match="does not exist"):
        write_csv(run, tmp_path / "missing" / "out.csv")
    with pytest.raises(ExportError, match="is a folder"):
        write_npz(run, tmp_path)
    with open_session(tmp_path / "sample.gscope") as session:
        with pytest.raises(ExportError, match="has no run 99"):
            find_run(session, 99)
        assert find_run(session, run.id).id == run.id


def test_a_folder_that_refuses_files_is_reported(sample, tmp_path, monkeypatch):
    run, _ = sample
    real_open = os.open

    def refusing_open(path, flags, *args):   # as a read-only folder would (tests may run as root)
        if flags & os.O_CREAT:
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, flags, *args)

    monkeypatch.setattr(os, "open", refusing_open)
    with pytest.raises(ExportError, match="cannot write .*out.csv.*: Permission denied"):
        write_csv(run, tmp_path / "out.csv")
    assert not (tmp_path / "out.csv").exists()


def test_a_failure_mid_write_leaves_no_file_and_keeps_the_old_one(sample, tmp_path, monkeypatch):
    run, _ = sample
    old = tmp_path / "old.csv"
    old.write_text("the previous export\n")
    calls = []

    def broken_extend(self, rows, start, stop):
        calls.append(start)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(series_module._CsvBlock, "extend", broken_extend)
    monkeypatch.setattr(series_module, "_CHUNK", 4)
    for path in (tmp_path / "new.csv", old):
        with pytest.raises(ExportError, match="No space left"):
            write_csv(run, path)
    assert calls and not (tmp_path / "new.csv").exists()
    assert old.read_text() == "the previous export\n"
    assert leftovers(tmp_path) == []

    def broken_write_array(*args, **kwargs):
        raise RuntimeError("interrupted")

    monkeypatch.setattr(np.lib.format, "write_array", broken_write_array)
    with pytest.raises(RuntimeError):
        write_npz(run, tmp_path / "new.npz")
    assert not (tmp_path / "new.npz").exists() and leftovers(tmp_path) == []


def test_long_runs_are_written_in_chunks_with_the_same_result(sample, tmp_path, monkeypatch):
    run, _ = sample
    write_csv(run, tmp_path / "whole.csv")
    monkeypatch.setattr(series_module, "_CHUNK", 3)
    write_csv(run, tmp_path / "chunked.csv")
    assert (tmp_path / "whole.csv").read_bytes() == (tmp_path / "chunked.csv").read_bytes()


# -- NPZ -------------------------------------------------------------------------------------------

def test_npz_loads_without_pickle_and_equals_the_session(sample, tmp_path):
    run, _ = sample
    keys = write_npz(run, tmp_path / "out.npz")
    with np.load(tmp_path / "out.npz", allow_pickle=False) as data:
        assert sorted(data.files) == sorted(keys)
        assert data["steps"].dtype == np.int64
        np.testing.assert_array_equal(data["steps"], run.steps)
        assert json.loads(data["config.json"].tobytes().decode()) == json.loads(run.config.to_json())
        assert data["config.json"].dtype == np.uint8
        for name, (kind, dtype, shape) in run.series_names().items():
            steps, values = run.series_with_steps(name)
            assert data[name].dtype == values.dtype and data[name].shape == values.shape
            np.testing.assert_array_equal(data[name], values)   # NaN equals NaN here
            if kind == "array" or name == "metric/accuracy":
                np.testing.assert_array_equal(data[f"{name}.steps"], steps)
            else:
                assert f"{name}.steps" not in data.files
                np.testing.assert_array_equal(steps, data["steps"])
        assert all(data[key].dtype != object for key in data.files)
        assert data["gates/forget"].shape == (len(run.series_steps("gates/forget")), T, 4)
        assert data["sample/text"].tobytes().decode("utf-32-le") == "héllo" * len(data["sample/text.steps"])


def test_npz_step_range_restricts_every_series(sample, tmp_path):
    run, _ = sample
    write_npz(run, tmp_path / "out.npz", steps=(5, 13))
    with np.load(tmp_path / "out.npz", allow_pickle=False) as data:
        np.testing.assert_array_equal(data["steps"], np.arange(5, 13))
        np.testing.assert_array_equal(data["hidden_grad_norm.steps"], [6, 9, 12])
        steps, values = run.series_with_steps("hidden_grad_norm")
        np.testing.assert_array_equal(data["hidden_grad_norm"], values[(steps >= 5) & (steps < 13)])
        assert data["loss"].shape == (8,)


def test_a_range_without_probes_still_gives_every_array_with_no_rows(sample, tmp_path):
    run, _ = sample
    write_npz(run, tmp_path / "out.npz", steps=(4, 6))
    write_csv(run, tmp_path / "out.csv", steps=(4, 6))
    with np.load(tmp_path / "out.npz", allow_pickle=False) as data:
        assert data["gates/forget"].shape == (0, T, 4) and data["gates/forget.steps"].shape == (0,)
    header, rows = read_csv(tmp_path / "out.csv")
    assert all(row[header.index("hidden_grad_norm[0]")] == "" for row in rows)


# -- parse_steps -----------------------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [("100:500", (100, 500)), (":500", (None, 500)), ("100:", (100, None)),
                                            (":", (None, None)), (" 3 : 7 ", (3, 7))])
def test_parse_steps_reads_a_to_b(text, expected):
    assert parse_steps(text) == expected


@pytest.mark.parametrize("text, problem", [("100", "expected A:B"), ("1:2:3", "expected A:B"),
                                           ("a:5", "'a' is not a whole number"), ("1.5:", "not a whole number"),
                                           ("-3:5", "cannot be negative"), ("9:9", "empty"), ("9:2", "empty")])
def test_parse_steps_explains_junk(text, problem):
    with pytest.raises(ValueError, match=problem):
        parse_steps(text)


# -- a real recording ------------------------------------------------------------------------------

def test_a_recorded_lstm_run_exports_its_gate_and_cell_series(tmp_path):
    from gradscope.config import RunConfig
    from gradscope.session import SessionWriter
    from gradscope.training import SessionRecorder, Trainer

    config = RunConfig(arch="lstm", task="adding", seq_len=6, hidden=4, batch=4, steps=5,
                       checkpoint_every=5, probe_every=2)
    path = tmp_path / "lstm.gscope"
    trainer = Trainer(config)
    try:
        with SessionWriter(path) as writer:
            trainer.callbacks.append(SessionRecorder(writer))
            trainer.run()
    finally:
        trainer.close()
    with open_session(path) as session:
        run = session.runs[0]
        assert write_csv(run, tmp_path / "lstm.csv") == len(run.steps)
        header, rows = read_csv(tmp_path / "lstm.csv")
        assert header[:9] == ["step", "loss", "grad_norm", "grad_norm_clipped", "clipped", "lr", "momentum",
                              "weight_decay", "clip_threshold"]
        for column in ("hidden_grad_norm[0]", "cell_jacobian_norm[5]", "gate_saturation/forget[0]"):
            assert column in header
        assert not any(column.startswith("gates/") for column in header)
        loss = run.series("loss")
        assert [float(row[1]) for row in rows] == loss.tolist()
        keys = write_npz(run, tmp_path / "lstm.npz")
        assert "gates/forget" in keys and "gates/forget.steps" in keys
        with np.load(tmp_path / "lstm.npz", allow_pickle=False) as data:
            for name in run.series_names():
                np.testing.assert_array_equal(data[name], run.series(name))


def test_write_sample_is_deterministic(tmp_path):
    # the expectations above index rows by step; guard the builder they rest on
    assert [r.step for r in write_sample(tmp_path / "again.gscope")] == list(range(STEPS))
