"""Opening any of a few hundred mutated session files in the window gives an error dialog or a
valid prefix of the recording, never a crash or a hang.

One small valid session (two runs of 60 steps, a bookmark) is mutated with a seeded RNG: byte
flips anywhere, in the SQLite header and in page headers, truncations (mid-page too), zeroed
and duplicated pages, garbage appended, and SQL-level edits made through sqlite3 directly
(wrong types, huge blobs, negative and out-of-order steps, NULLs, a configuration that is not
JSON, ...). Every mutant is opened in one replay-only window (no training process), and on
success drawn and seeked to its first, middle and last step.

A failure names the mutant (its index, its label and the seed) and keeps the file in the
test's tmp_path, so `window.open_file(path)` on it reproduces the problem.
"""
from __future__ import annotations

import random
import shutil
import sqlite3
import sys
import time
import traceback
from pathlib import Path

import numpy as np
import pytest

from test_replay import write_synthetic

from gradscope.session import add_bookmark

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "hostile"))
import hostile_files  # noqa: E402

SEED = 20240917
STEPS = 60
RUNS = 2
LAST_STEP = STEPS - 1
BYTE_MUTANTS = 260               # plus the SQL mutants below: about 300 in all
# a hang, not a speed goal: the reader gives up on any query after 10 s, so one open taking a
# minute means something loops outside it (speed itself is `gradscope bench --replay`'s business)
HANG_SECONDS = 60.0


@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> bytes:
    path = tmp_path_factory.mktemp("pristine") / "pristine.gscope"
    write_synthetic(path, steps=STEPS, probe_every=5, runs=RUNS)
    add_bookmark(path, RUNS - 1, STEPS // 3, "the gradient vanishes here")
    for suffix in ("-wal", "-shm"):
        assert not Path(str(path) + suffix).exists() or Path(str(path) + suffix).stat().st_size == 0
    return path.read_bytes()


# -- byte-level mutations -------------------------------------------------------------------------

def byte_mutants(pristine: bytes, count: int, seed: int) -> list[tuple[str, bytes]]:
    rng = random.Random(seed)
    size = len(pristine)
    page = int.from_bytes(pristine[16:18], "big")
    page = 65536 if page == 1 else page
    pages = size // page
    assert pages * page == size and pages >= 4, (size, page)

    def flip(data: bytearray, at: int) -> None:
        if rng.random() < 0.5:
            data[at] ^= 1 << rng.randrange(8)
        else:
            data[at] = rng.randrange(256)

    def flips_anywhere() -> tuple[str, bytes]:
        data, n = bytearray(pristine), rng.choice([1, 1, 2, 4, 16, 64])
        for _ in range(n):
            flip(data, rng.randrange(size))
        return f"{n} byte flip(s) anywhere", bytes(data)

    def flips_in_header() -> tuple[str, bytes]:
        data, n = bytearray(pristine), rng.choice([1, 1, 2, 3])
        spots = sorted(rng.randrange(100) for _ in range(n))
        for at in spots:
            flip(data, at)
        return f"{n} flip(s) in the SQLite header at {spots}", bytes(data)

    def flips_in_page_headers() -> tuple[str, bytes]:
        data, n = bytearray(pristine), rng.choice([1, 1, 2, 4])
        spots = []
        for _ in range(n):
            index = rng.randrange(pages)
            at = index * page + (100 if index == 0 else 0) + rng.randrange(12)
            spots.append(at)
            flip(data, at)
        return f"{n} flip(s) in page headers at {sorted(spots)}", bytes(data)

    def truncated() -> tuple[str, bytes]:
        kind = rng.choice(["random", "mid-page", "page boundary", "page boundary - 1"])
        if kind == "random":
            length = rng.randrange(size)
        elif kind == "mid-page":
            length = rng.randrange(pages) * page + rng.randrange(1, page)
        elif kind == "page boundary":
            length = rng.randrange(1, pages) * page
        else:
            length = rng.randrange(1, pages) * page - 1
        return f"truncated to {length} bytes ({kind})", pristine[:length]

    def zeroed_page() -> tuple[str, bytes]:
        data, index = bytearray(pristine), rng.randrange(pages)
        data[index * page:(index + 1) * page] = bytes(page)
        return f"page {index + 1} zeroed", bytes(data)

    def duplicated_page() -> tuple[str, bytes]:
        source, target = rng.randrange(pages), rng.randrange(pages)
        chunk = pristine[source * page:(source + 1) * page]
        if rng.random() < 0.5:
            data = bytearray(pristine)
            data[target * page:(target + 1) * page] = chunk
            return f"page {source + 1} copied over page {target + 1}", bytes(data)
        data = pristine[:target * page] + chunk + pristine[target * page:]
        return f"page {source + 1} inserted again before page {target + 1}", data

    def garbage_appended() -> tuple[str, bytes]:
        length = rng.choice([1, 7, 100, page - 1, page, 3 * page, rng.randrange(1, 4 * page)])
        filler = rng.choice(["random", "zeros", "a copy of page 1"])
        if filler == "random":
            tail = rng.randbytes(length)
        elif filler == "zeros":
            tail = bytes(length)
        else:
            tail = (pristine[:page] * (length // page + 1))[:length]
        return f"{length} bytes of {filler} appended", pristine + tail

    makers = [flips_anywhere, flips_anywhere, flips_in_header, flips_in_page_headers, flips_in_page_headers,
              truncated, truncated, zeroed_page, duplicated_page, garbage_appended]
    fixed = [("truncated to 0 bytes", b""), ("truncated to 99 bytes", pristine[:99]),
             ("truncated to 100 bytes", pristine[:100]), ("truncated to one page", pristine[:page]),
             ("truncated to half a page", pristine[:page // 2]), ("last byte cut", pristine[:-1])]
    return fixed + [rng.choice(makers)() for _ in range(count - len(fixed))]


# -- SQL-level mutations --------------------------------------------------------------------------

RUN1 = f"run_id = {RUNS - 1}"
LOSS = f"series_id = (SELECT id FROM series WHERE {RUN1} AND name = 'loss')"
HIDDEN = f"series_id = (SELECT id FROM series WHERE {RUN1} AND name = 'hidden_grad_norm')"
GATE = f"series_id = (SELECT id FROM series WHERE {RUN1} AND name = 'gates/forget')"

SQL_MUTANTS: dict[str, list[str]] = {
    "loss value is text": [f"UPDATE scalar_value SET value = 'abc' WHERE {LOSS} AND step = 10"],
    "loss value is a blob": [f"UPDATE scalar_value SET value = x'0102030405' WHERE {LOSS}"],
    "loss values NULL": [f"UPDATE scalar_value SET value = NULL WHERE {LOSS}"],
    "loss values infinite": [f"UPDATE scalar_value SET value = 1e308 * 10 WHERE {LOSS}"],
    "every scalar NULL": ["UPDATE scalar_value SET value = NULL"],
    "negative step": [f"UPDATE step SET step = -5 WHERE {RUN1} AND step = 0",
                      "UPDATE scalar_value SET step = -5 WHERE step = 0"],
    "negative step in the step table only": [f"UPDATE step SET step = -7 WHERE {RUN1} AND step = 3"],
    "out-of-order step in the middle": [f"UPDATE step SET step = 1000 WHERE {RUN1} AND step = 20"],
    "series steps not in the step table": [f"UPDATE scalar_value SET step = step + 500 WHERE {LOSS} AND step > 40"],
    "series steps reversed": [f"UPDATE scalar_value SET step = 1000 - step WHERE {LOSS}"],
    "step is text": [f"UPDATE step SET step = 'x' WHERE {RUN1} AND step = 7"],
    "step is a real": [f"UPDATE step SET step = 7.5 WHERE {RUN1} AND step = 7"],
    "huge step": [f"UPDATE step SET step = 9223372036854775807 WHERE {RUN1} AND step = {LAST_STEP}"],
    "huge negative step": [f"UPDATE step SET step = -9223372036854775808 WHERE {RUN1} AND step = 0"],
    "wall time is text": [f"UPDATE step SET wall_time = 'noon' WHERE {RUN1}"],
    "wall times run backwards": [f"UPDATE step SET wall_time = 1e9 - step WHERE {RUN1}"],
    "wall times infinite": [f"UPDATE step SET wall_time = 1e308 * 10 WHERE {RUN1}"],
    "no steps in the run on show": [f"DELETE FROM step WHERE {RUN1}"],
    "steps cut, series not": [f"DELETE FROM step WHERE {RUN1} AND step > 10"],
    "no scalar values": ["DELETE FROM scalar_value"],
    "no array values": ["DELETE FROM array_value"],
    "no series": ["DELETE FROM series"],
    "array blob truncated": [f"UPDATE array_value SET data = substr(data, 1, 5) WHERE {HIDDEN}"],
    "array blob is text": [f"UPDATE array_value SET data = 'not floats' WHERE {GATE}"],
    "array blob is an integer": [f"UPDATE array_value SET data = 42 WHERE {HIDDEN} AND step = 5"],
    "array blob huge": [f"UPDATE array_value SET data = zeroblob(8000000) WHERE {GATE} AND step = 10"],
    "array blob NaN-filled": [f"UPDATE array_value SET data = x'{'ffffffffffffff7f' * 12}' WHERE {HIDDEN}"],
    "array shape huge": [f"UPDATE series SET shape = '[100000000]' WHERE {RUN1} AND name = 'hidden_grad_norm'"],
    "array shape not JSON": [f"UPDATE series SET shape = '[12' WHERE {RUN1} AND kind = 'array'"],
    "array shape zero": [f"UPDATE series SET shape = '[0]' WHERE {RUN1} AND name = 'jacobian_norm'"],
    "array dtype unknown": [f"UPDATE series SET dtype = 'complex64' WHERE {RUN1} AND kind = 'array'"],
    "scalar said to be an array": [f"UPDATE series SET kind = 'array' WHERE {RUN1} AND name = 'loss'"],
    "array said to be a scalar": [f"UPDATE series SET kind = 'scalar' WHERE {RUN1} AND name = 'hidden_grad_norm'"],
    "series name is a blob": [f"UPDATE series SET name = x'ff00fe' WHERE {RUN1} AND name = 'grad_norm'"],
    "config not JSON": [f"UPDATE run SET config = '{{not json' WHERE id = {RUNS - 1}"],
    "config of the other run not JSON": ["UPDATE run SET config = '{not json' WHERE id = 0"],
    "config a number": [f"UPDATE run SET config = 42 WHERE id = {RUNS - 1}"],
    "config JSON null": [f"UPDATE run SET config = 'null' WHERE id = {RUNS - 1}"],
    "config with a wrong type": [f"UPDATE run SET config = json_set(config, '$.hidden', 'six') WHERE id = {RUNS - 1}"],
    "config with another shape": [f"UPDATE run SET config = json_set(config, '$.seq_len', 3, '$.hidden', 2) "
                                  f"WHERE id = {RUNS - 1}"],
    "state is a number": [f"UPDATE run SET state = 7 WHERE id = {RUNS - 1}"],
    "created is text": [f"UPDATE run SET created = 'yesterday' WHERE id = {RUNS - 1}"],
    "parent is itself": [f"UPDATE run SET parent_run = {RUNS - 1}, parent_step = 5 WHERE id = {RUNS - 1}"],
    "parents form a cycle": ["UPDATE run SET parent_run = 1, parent_step = 5 WHERE id = 0",
                             "UPDATE run SET parent_run = 0, parent_step = 5 WHERE id = 1"],
    "parent step far away": [f"UPDATE run SET parent_run = 0, parent_step = 99999999 WHERE id = {RUNS - 1}"],
    "parent half NULL": [f"UPDATE run SET parent_run = 0 WHERE id = {RUNS - 1}"],
    "run id negative": [f"UPDATE run SET id = -1 WHERE id = {RUNS - 1}",
                        f"UPDATE step SET run_id = -1 WHERE {RUN1}", f"UPDATE series SET run_id = -1 WHERE {RUN1}"],
    "run id huge": [f"UPDATE run SET id = 9223372036854775807 WHERE id = {RUNS - 1}"],
    "no runs": ["DELETE FROM run"],
    "event step text": ["UPDATE event SET step = 'later'"],
    "event step negative and huge": ["UPDATE event SET step = -3 WHERE run_id = 0",
                                     f"UPDATE event SET step = 4000000000000 WHERE {RUN1}"],
    "event detail not JSON": ["UPDATE event SET detail = '{'"],
    "event detail with odd values": ["UPDATE event SET detail = '{\"old\": [1, {\"x\": null}], \"new\": \"\"}'"],
    "event kind unknown": ["UPDATE event SET kind = 'meteor_strike'"],
    "bookmark step negative": ["UPDATE bookmark SET step = -3"],
    "bookmark step huge": ["UPDATE bookmark SET step = 9223372036854775807"],
    "bookmark step text": ["UPDATE bookmark SET step = 'x'"],
    "bookmark note a blob": ["UPDATE bookmark SET note = x'ff'"],
    "bookmark note huge": ["UPDATE bookmark SET note = hex(zeroblob(300000))"],
    "bookmark of a missing run": ["UPDATE bookmark SET run_id = 99"],
    "meta value a blob": ["UPDATE meta SET value = x'00ff'"],
    "schema 1 with a bookmark table": ["PRAGMA user_version = 1"],
    # the crafts of the hostile-input suite: shapes that lie about their rank, zero-element
    # shapes whose other dimensions are huge, a real row far longer than any run's T
    "step Jacobians declared [2, 5]": [f"UPDATE series SET shape = '[2,5]' WHERE {RUN1} AND name = 'step_jacobian_norm'"],
    "per-timestep norms declared []": [f"UPDATE series SET shape = '[]' WHERE {RUN1} AND name = 'hidden_grad_norm'",
                                       f"UPDATE array_value SET data = substr(data, 1, 8) WHERE {HIDDEN}"],
    "a zero-element shape of 31 dimensions": [f"UPDATE series SET shape = '[0{', 2147483648' * 30}]' "
                                              f"WHERE {RUN1} AND name = 'gates/forget'"],
    "one real row of bool[2000000]": [f"DELETE FROM array_value WHERE {HIDDEN} AND step > 0",
                                      f"UPDATE array_value SET data = zeroblob(2000000) WHERE {HIDDEN}",
                                      f"UPDATE series SET dtype = 'bool', shape = '[2000000]' "
                                      f"WHERE {RUN1} AND name = 'hidden_grad_norm'"],
}


def sql_mutant(pristine: bytes, path: Path, statements: list[str]) -> None:
    path.write_bytes(pristine)
    db = sqlite3.connect(path, isolation_level=None)
    try:
        for statement in statements:
            db.execute(statement)
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        db.close()


def stored_last_step(path: Path) -> int:
    """The largest step the (mutated) file itself holds, read by plain sqlite3: a SQL edit may
    legitimately move the end of a run, a reader must not invent steps beyond it."""
    try:
        db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            found = db.execute("SELECT max(step) FROM step WHERE typeof(step) = 'integer'").fetchone()[0]
        finally:
            db.close()
    except sqlite3.Error:
        return LAST_STEP
    return LAST_STEP if found is None else max(int(found), LAST_STEP)


# -- the test -------------------------------------------------------------------------------------

def report(failures: list[tuple[int, str, str, str]], count: int) -> str:
    """The failures grouped by what went wrong where, a few examples of each."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for _, problem, name, text in failures:
        groups.setdefault(problem, []).append((name, text))
    lines = [f"{len({f[0] for f in failures})} of {count} mutants failed, {len(groups)} kind(s) of failure:"]
    for problem, cases in sorted(groups.items(), key=lambda item: -len(item[1])):
        lines.append(f"- {problem}: {len(cases)} mutant(s), e.g.")
        lines += [f"    {name}: {text}" for name, text in cases[:3]]
    return "\n".join(lines)


def where(trace) -> tuple[str, str]:
    """Where an exception entered gradscope's code and where it was raised: the first and the
    last gradscope frame of its traceback."""
    frames = [frame for frame in traceback.extract_tb(trace) if "/gradscope/" in frame.filename.replace("\\", "/")]
    if not frames:
        return "(outside gradscope)", "raised outside gradscope"
    spot = [f"{Path(f.filename).name}:{f.lineno} {f.name}" for f in (frames[0], frames[-1])]
    return f"at {spot[0]}", f"raised at {spot[1]}"


def check_open(window, path: Path, bound: int) -> str:
    """Open one mutant; returns 'ok' or 'refused', or raises AssertionError saying what went wrong."""
    errors_before = len(window.errors)
    ok = window.open_file(path)
    assert isinstance(ok, bool), f"open_file returned {ok!r}"
    if not ok:
        assert len(window.errors) == errors_before + 1, "a refused file added no error"
        message = window.errors[-1]
        assert isinstance(message, str) and message.strip(), "empty error message"
        assert str(path) in message or path.name in message, f"the message does not name the file: {message!r}"
        assert window.error_dialog is not None and window.error_dialog.isVisible(), "no dialog shown"
        window.redraw(everything=True)            # the window goes on
        return "refused"
    assert window.lab.kind == "recorded"
    window.redraw(everything=True)
    steps = np.asarray(window.lab.recorded.steps)
    targets = [int(steps[0]), int(steps[len(steps) // 2]), int(steps[-1])] if len(steps) else [0]
    for target in targets:
        window.lab.seek(target)
        window.redraw(everything=True)
        assert window.lab.cursor <= bound, f"seek({target}) shows step {window.lab.cursor} > {bound}"
    current = window.lab.current
    assert current is None or current.last_step <= bound, \
        f"the window shows step {current.last_step}, the recording ends at {bound}: not a prefix"
    return "ok"


@pytest.mark.timeout(600)
def test_mutated_session_files_give_a_dialog_or_a_valid_prefix(qtbot, replay_only_window, pristine, tmp_path):
    window = replay_only_window
    good = tmp_path / "good.gscope"
    good.write_bytes(pristine)
    assert window.open_file(good) and window.lab.current.last_step == LAST_STEP

    mutants: list[tuple[str, Path, int]] = []
    folder = tmp_path / "mutants"
    folder.mkdir()
    for index, (label, data) in enumerate(byte_mutants(pristine, BYTE_MUTANTS, SEED)):
        path = folder / f"m{index:03d}.gscope"
        path.write_bytes(data)
        mutants.append((label, path, LAST_STEP))   # corrupted bytes: at most what was recorded
    for label, statements in SQL_MUTANTS.items():
        path = folder / f"m{len(mutants):03d}.gscope"
        sql_mutant(pristine, path, statements)
        mutants.append((f"SQL: {label}", path, stored_last_step(path)))
    # an overflow chain looping on one page of a sparse file (hostile_files.py builds it)
    path = folder / f"m{len(mutants):03d}.gscope"
    hostile_files.overflow_loop(path)
    mutants.append(("a blob whose overflow chain loops, in a sparse file", path, LAST_STEP))
    assert len(mutants) >= 300

    started = time.monotonic()
    outcomes = {"ok": 0, "refused": 0}
    failures, slowest = [], (0.0, "")
    for index, (label, path, bound) in enumerate(mutants):
        began = time.monotonic()
        name = f"mutant {index} ({label}, seed {SEED}), kept at {path}"
        with qtbot.capture_exceptions() as in_slots:
            try:
                outcomes[check_open(window, path, bound)] += 1
            except Exception as exc:  # the failures this test exists to catch, named for a reproduction
                first, last = where(exc.__traceback__)
                failures.append((index, f"{type(exc).__name__} {first}", name, f"{last}: {exc!r}"))
        for kind, exc, trace in in_slots:      # raised in a slot: Qt printed it and went on
            first, last = where(trace)
            failures.append((index, f"{kind.__name__} in a Qt slot {first}", name, f"{last}: {exc!r}"))
        elapsed = time.monotonic() - began
        slowest = max(slowest, (elapsed, f"mutant {index} ({label})"))
        if elapsed > HANG_SECONDS:
            failures.append((index, "hangs", name, f"took {elapsed:.1f} s"))
        if index % 50 == 49:      # the window still opens a good file after all that
            assert window.open_file(good), f"after mutant {index}, the pristine file no longer opens"
    total = time.monotonic() - started

    for index, (label, path, _) in enumerate(mutants):     # keep only the ones to reproduce
        if index not in {failure[0] for failure in failures}:
            for suffix in ("", "-wal", "-shm"):
                Path(str(path) + suffix).unlink(missing_ok=True)
    assert not failures, report(failures, len(mutants)) + f"\n(the others: {outcomes}; all took {total:.0f} s)"
    # both outcomes must occur, or the mutations are not exercising the reader
    assert outcomes["ok"] >= 20 and outcomes["refused"] >= 50, outcomes
    assert window.open_file(good) and window.lab.current.last_step == LAST_STEP
    print(f"{len(mutants)} mutants: {outcomes}, {total:.1f} s, slowest {slowest[1]} at {slowest[0]:.2f} s")
    shutil.rmtree(folder, ignore_errors=True)
