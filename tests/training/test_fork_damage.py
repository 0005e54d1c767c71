"""A fork of a run whose checkpoint or probe batch a file has damaged: one line naming the
file and what is wrong, exit status 2, and the file exactly as it was (no run appended).

Each case edits one tensor row of a recorded session with sqlite, as a hostile or broken
file would, and forks through the command line."""
from __future__ import annotations

import shutil
import sqlite3

import numpy as np
import pytest

from gradscope.cli import main
from gradscope.config import RunConfig
from gradscope.session import SessionWriter, open_session
from gradscope.session.arrays import encode, shape_text
from gradscope.training import SessionRecorder, Trainer


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    """An LSTM with Adam on characters (one-hot inputs, integer classes), checkpoints at 0, 5, 10."""
    path = tmp_path_factory.mktemp("fork-damage") / "parent.gscope"
    config = RunConfig(arch="lstm", task="charlm", optimizer="adam", lr=0.01, seq_len=8, hidden=6, batch=4,
                       steps=13, checkpoint_every=5, probe_every=3, device="cpu")
    with SessionWriter(path) as writer:
        with Trainer(config, [SessionRecorder(writer)]) as trainer:
            trainer.run()
    return path


def tensors(path, role: str, step: int | None = None) -> dict[str, tuple[str, list]]:
    with sqlite3.connect(path) as db:
        rows = db.execute("SELECT name, dtype, shape FROM tensor WHERE role = ? AND (? IS NULL OR step = ?)",
                          (role, step, step)).fetchall()
    return {name: (dtype, shape) for name, dtype, shape in rows}


def put(db, role: str, step: int, name: str, array) -> None:
    dtype, shape, data = encode(np.asarray(array), name)
    db.execute("INSERT OR REPLACE INTO tensor (run_id, role, step, name, dtype, shape, data) "
               "VALUES (0, ?, ?, ?, ?, ?, ?)", (role, step, name, dtype, shape_text(shape), data))


def drop(db, role: str, step: int, name: str) -> None:
    db.execute("DELETE FROM tensor WHERE run_id = 0 AND role = ? AND step = ? AND name = ?", (role, step, name))


def first_weight(path) -> str:
    return sorted(tensors(path, "weight", 5))[0]


def rename(db, role: str, step: int, name: str, new: str) -> None:
    db.execute("UPDATE tensor SET name = ? WHERE run_id = 0 AND role = ? AND step = ? AND name = ?",
               (new, role, step, name))


# (what is damaged, how, the words of the one line)
CASES = {
    "a weight of the wrong shape": (lambda db, w: put(db, "weight", 5, w, np.zeros((2, 3), np.float32)),
                                    "has shape [2, 3]"),
    "a missing weight": (lambda db, w: drop(db, "weight", 5, w), "lacks the weight"),
    "an extra weight": (lambda db, w: put(db, "weight", 5, "extra.weight", np.zeros(3, np.float32)),
                        "this model does not have"),
    "a weight of booleans": (lambda db, w: db.execute(
        "UPDATE tensor SET dtype = 'bool', data = zeroblob(length(data) / 4) "
        "WHERE role = 'weight' AND step = 5 AND name = ?", (w,)), "not numbers"),
    "a zeroed data stream": (lambda db, w: put(db, "optimizer", 5, "rng/data", np.zeros(5056, np.uint8)),
                             "not a generator's"),
    "a short data stream": (lambda db, w: put(db, "optimizer", 5, "rng/data", np.zeros(10, np.uint8)),
                            "malformed data stream"),
    "a data stream of floats": (lambda db, w: put(db, "optimizer", 5, "rng/data", np.zeros(5056, np.float32)),
                                "malformed data stream"),
    "an optimiser entry of no parameter": (lambda db, w: rename(db, "optimizer", 5, "optimizer/0/exp_avg",
                                                                "optimizer/abc/exp_avg"), "optimizer/abc/exp_avg"),
    "an optimiser entry past the parameters": (lambda db, w: rename(db, "optimizer", 5, "optimizer/0/exp_avg",
                                                                    "optimizer/99/exp_avg"), "optimizer/99"),
    "an optimiser entry of another rule": (lambda db, w: rename(db, "optimizer", 5, "optimizer/0/exp_avg",
                                                                "optimizer/0/momentum_buffer"), "momentum_buffer"),
    "an optimiser entry of the wrong shape": (lambda db, w: put(db, "optimizer", 5, "optimizer/0/exp_avg",
                                                                np.zeros(2, np.float32)), "has shape [2]"),
    "a step count with a shape": (lambda db, w: put(db, "optimizer", 5, "optimizer/0/step",
                                                    np.zeros(2, np.float32)), "has shape [2], not []"),
    "live settings of bad JSON": (lambda db, w: put(db, "optimizer", 5, "settings/live",
                                                    np.frombuffer(b"{nope", np.uint8)), "settings"),
    "live settings of another type": (lambda db, w: put(db, "optimizer", 5, "settings/live",
                                                        np.zeros(3, np.float32)), "malformed live settings"),
    "a two-element learning rate": (lambda db, w: (drop(db, "optimizer", 5, "settings/live"),
                                                   put(db, "optimizer", 5, "settings/lr", np.ones(2)),
                                                   put(db, "optimizer", 5, "settings/clip_mode", np.int64(0)),
                                                   put(db, "optimizer", 5, "settings/clip_threshold", 1.0)),
                                    "malformed settings"),
    "a two-element clipping mode": (lambda db, w: (drop(db, "optimizer", 5, "settings/live"),
                                                   put(db, "optimizer", 5, "settings/lr", 0.1),
                                                   put(db, "optimizer", 5, "settings/clip_mode", np.zeros(2, np.int64)),
                                                   put(db, "optimizer", 5, "settings/clip_threshold", 1.0)),
                                    "malformed settings"),
    "a probe batch of the wrong shape": (lambda db, w: put(db, "probe", 0, "inputs", np.zeros((2, 2), np.int64)),
                                         "probe batch inputs"),
    "a probe batch of classes out of range": (
        lambda db, w: db.execute("UPDATE tensor SET data = ? WHERE role = 'probe' AND name = 'targets'",
                                 (np.full(len(tensor_bytes(db, "probe", "targets")) // 8, 10**9, np.int64).tobytes(),)),
        "does not fit the model"),
}


def tensor_bytes(db, role: str, name: str) -> bytes:
    return db.execute("SELECT data FROM tensor WHERE role = ? AND name = ?", (role, name)).fetchone()[0]


@pytest.mark.parametrize("step", [5, 7], ids=["at-the-checkpoint", "replayed-from-it"])
@pytest.mark.parametrize("case", list(CASES))
def test_a_damaged_fork_is_one_line_exit_2_and_leaves_the_file_as_it_was(recorded, tmp_path, capsys, case, step):
    damage, words = CASES[case]
    path = tmp_path / "damaged.gscope"
    shutil.copy(recorded, path)
    weight = first_weight(recorded)
    with sqlite3.connect(path) as db:
        damage(db, weight)
    db.close()
    before = path.read_bytes()
    code = main(["fork", str(path), "--run", "0", "--step", str(step), "--lr", "0.02"])
    err = capsys.readouterr().err
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    assert str(path) in lines[0] and words in lines[0], lines[0]
    assert path.read_bytes() == before
    with open_session(path) as session:
        assert len(session.runs) == 1


def test_an_undamaged_copy_forks(recorded, tmp_path, capsys):
    """The cases above fail for their damage alone: the same file, unedited, forks."""
    path = tmp_path / "whole.gscope"
    shutil.copy(recorded, path)
    assert main(["fork", str(path), "--run", "0", "--step", "7", "--lr", "0.02"]) == 0, capsys.readouterr().err
    with open_session(path) as session:
        assert [run.parent for run in session.runs] == [None, (0, 7)]
