"""The hostile-input suite's cases: what an adversarial review tried, each as the files it
needs and one command, and what must come of it (hostile_runner.py runs them).

    python tests/hostile/hostile_cases.py      prints the table "promise | tried | held"
"""
from __future__ import annotations

import os
import sqlite3
import sys
from pathlib import Path
from typing import Callable

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import hostile_files as files  # noqa: E402
from hostile_runner import Case, Outcome, table  # noqa: E402
from hostile_runner import run_all as run_cases  # noqa: E402

FAST = ["--seq-len", "8", "--hidden", "6", "--batch", "4", "--steps", "3"]
OUT = ["-o", "{dir}/o.gscope"]


def _fifo(name: str) -> Callable[[Path], None]:
    return lambda folder: os.mkfifo(folder / name)


def _write(name: str, text: str) -> Callable[[Path], None]:
    return lambda folder: (folder / name).write_text(text)


def _sparse(name: str, size: int, head: str = "") -> Callable[[Path], None]:
    def make(folder: Path) -> None:
        with open(folder / name, "w") as handle:
            handle.write(head)
        os.truncate(folder / name, size)
    return make


def _small(name: str, limit: int) -> Callable[[Path, str], str | None]:
    def check(folder: Path, out: str) -> str | None:
        size = (folder / name).stat().st_size if (folder / name).exists() else 0
        return f"{name} is {size} bytes" if size > limit else None
    return check


def _no_escapes(folder: Path, out: str) -> str | None:
    if any(ch in out for ch in "\x1b\x07\x9b\r"):
        return "a control character reached the terminal"
    return f"{len(out)} characters printed" if len(out) > 200_000 else None


def _session(*statements: str) -> Callable[[Path], Path]:
    return lambda folder: files.session(folder / "s.gscope", *statements)


def _beside(suffix: str, data: Callable[[Path], bytes]) -> Callable[[Path], None]:
    def make(folder: Path) -> None:
        path = files.session(folder / "s.gscope")
        Path(f"{path}{suffix}").write_bytes(data(folder))
    return make


def _foreign_wal(folder: Path) -> bytes:
    """The log of another session, crashed with uncommitted pages: what a stranger's -wal is."""
    other = folder / "other" / "s.gscope"
    other.parent.mkdir()
    files.session(other)
    db = sqlite3.connect(other, isolation_level=None)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA wal_autocheckpoint = 0")
    db.execute("UPDATE meta SET value = 'another session' WHERE key = 'session'")
    db.execute("INSERT INTO event (run_id, step, kind, detail, wall_time) VALUES (0, 3, 'note', '{}', 0)")
    data = Path(f"{other}-wal").read_bytes()
    db.close()
    return data


def _damaged_wal(folder: Path) -> bytes:
    data = bytearray(_foreign_wal(folder))
    data[32 + 24 + 100] ^= 0xFF          # a byte of the first frame's page
    return bytes(data)


def _sparse_wal(folder: Path) -> None:
    """A -wal with one good commit (a bookmark), its -shm gone, truncated up to 20 GB."""
    path = files.session(folder / "s.gscope")
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA wal_autocheckpoint = 0")
    db.execute("INSERT INTO bookmark (run_id, step, note, created) VALUES (0, 3, 'from the log', 1.0)")
    log = Path(f"{path}-wal").read_bytes()
    main = path.read_bytes()
    db.close()
    path.write_bytes(main)
    Path(f"{path}-wal").write_bytes(log)
    Path(f"{path}-shm").unlink(missing_ok=True)
    os.truncate(f"{path}-wal", 20 << 30)


def _wal_flagged(folder: Path) -> None:
    path = files.session(folder / "s.gscope")
    data = bytearray(path.read_bytes())
    data[18:20] = b"\x02\x02"           # the header's read and write versions: WAL mode
    path.write_bytes(bytes(data))


def _overflow_loop(folder: Path) -> None:
    files.overflow_loop(folder / "s.gscope")


S = "{dir}/s.gscope"
HIDDEN = "series_id = (SELECT id FROM series WHERE name = 'hidden_grad_norm')"
# a series of no elements whose other 30 dimensions are 2^31 each
_ZERO_ELEMENTS = _session("INSERT INTO series (run_id, name, kind, dtype, shape) VALUES (0, 'custom/zero', "
                          f"'array', 'float32', '[0{', 2147483648' * 30}]')")
CASES: dict[str, Case] = {
    # 1. a declared size is a claim
    "rows deleted under [67108864]": Case(
        "1 sizes", "export --format csv of a series declared [67108864] whose rows are deleted",
        ["export", S, "--format", "csv", "-o", "{dir}/x.csv"], r"wrote",
        lambda folder: files.series_without_rows(folder / "s.gscope", 1, [67108864]), code=0,
        leaves=("s.gscope", "x.csv"), check=_small("x.csv", 1 << 20)),
    "200 series of [1000000] without rows": Case(
        "1 sizes", "export --format csv of 200 series declared [1000000], no rows",
        ["export", S, "--format", "csv", "-o", "{dir}/x.csv"], r"wrote",
        lambda folder: files.series_without_rows(folder / "s.gscope", 200, [1000000]), code=0,
        leaves=("s.gscope", "x.csv"), check=_small("x.csv", 1 << 20)),
    "one row of bool[2000000]": Case(
        "1 sizes", "export --format png of hidden_grad_norm declared bool[2000000], one real row (2 MB)",
        ["export", S, "--format", "png", "-o", "{dir}/x.png"], r"hidden_grad_norm",
        lambda folder: files.session(folder / "s.gscope", f"DELETE FROM array_value WHERE {HIDDEN} AND step > 0",
                                     f"UPDATE array_value SET data = zeroblob(2000000) WHERE {HIDDEN}",
                                     "UPDATE series SET dtype = 'bool', shape = '[2000000]' "
                                     "WHERE name = 'hidden_grad_norm'"),
        leaves=("s.gscope",)),
    "a wide row padded to a gigabyte": Case(
        "1 sizes", "export --format csv of one row of 99,000 floats in a run of 20,000 steps (2e9 cells)",
        ["export", S, "--format", "csv", "-o", "{dir}/x.csv"], r"export it as NPZ",
        lambda folder: files.wide_row_in_a_long_run(folder / "s.gscope"), leaves=("s.gscope",)),
    "an overflow loop, sparse (info)": Case(
        "1 sizes", "info on a blob whose overflow chain loops on one page (128 MB claimed, 50 KB on disk)",
        ["info", S], r"custom/loop", _overflow_loop, code=0),
    "an overflow loop, sparse (series)": Case(
        "1 sizes", "load_session(...).runs[0].series() of that blob",
        [], r"claims more data than the file holds", _overflow_loop,
        api="from gradscope import load_session\nload_session('{dir}/s.gscope').runs[0].series('custom/loop')"),
    "an overflow loop, sparse (export)": Case(
        "1 sizes", "export --format npz of that blob",
        ["export", S, "--format", "npz", "-o", "{dir}/x.npz"], r"claims? more data than the file holds",
        _overflow_loop, leaves=("s.gscope",)),
    "a zero-element shape of 31 dims": Case(
        "1 sizes", "export --format npz of a series shaped [0, 2147483648, ...] (31 dimensions)",
        ["export", S, "--format", "npz", "-o", "{dir}/x.npz"], r"exceeds the cap",
        _ZERO_ELEMENTS, leaves=("s.gscope",)),
    "a zero-element shape (series)": Case(
        "1 sizes", "series() of that shape",
        [], r"exceeds the cap",
        _ZERO_ELEMENTS,
        api="from gradscope import load_session\nload_session('{dir}/s.gscope').runs[0].series('custom/zero')"),
    "created 1e300": Case(
        "1 values", "info on a run created at 1e300", ["info", S], r"created at an impossible time \(1e\+300\)",
        _session("UPDATE run SET created = 1e300"), code=0),
    "created inf, --json": Case(
        "1 values", "info --json on a run created at inf", ["info", S, "--json"], r"creation time",
        _session("UPDATE run SET created = 9e999")),
    "step_jacobian_norm declared [2,5]": Case(
        "1 values", "export --format png of step_jacobian_norm declared [2, 5]",
        ["export", S, "--format", "png", "-o", "{dir}/x.png"], r"step_jacobian_norm.*declared",
        _session("UPDATE series SET shape = '[2,5]' WHERE name = 'step_jacobian_norm'",
                 "UPDATE array_value SET data = substr(data, 1, 80) WHERE series_id = "
                 "(SELECT id FROM series WHERE name = 'step_jacobian_norm')"), leaves=("s.gscope",)),
    "per-timestep arrays declared []": Case(
        "1 values", "export --format gif of hidden_grad_norm declared []",
        ["export", S, "--format", "gif", "-o", "{dir}/x.gif"], r"hidden_grad_norm.*declared as timestep",
        _session("UPDATE series SET shape = '[]' WHERE name = 'hidden_grad_norm'",
                 f"UPDATE array_value SET data = substr(data, 1, 8) WHERE {HIDDEN}"), leaves=("s.gscope",)),
    "fork: a weight of the wrong shape": Case(
        "1 values", "fork at a checkpoint whose weight has the wrong shape",
        ["fork", S, "--run", "0", "--step", "5", "--steps", "8"], r"has shape \[2, 3\]",
        _session("UPDATE tensor SET shape = '[2,3]', data = zeroblob(24) WHERE role = 'weight' AND step = 5 "
                 "AND name = (SELECT min(name) FROM tensor WHERE role = 'weight' AND step = 5)")),
    "fork: a zeroed data stream": Case(
        "1 values", "fork at a checkpoint whose rng/data is zeroed",
        ["fork", S, "--run", "0", "--step", "5", "--steps", "8"], r"data stream",
        _session("UPDATE tensor SET data = zeroblob(length(data)) WHERE role = 'optimizer' AND step = 5 "
                 "AND name = 'rng/data'")),
    "fork: a probe batch of the wrong shape": Case(
        "1 values", "fork of a run whose probe batch has the wrong shape",
        ["fork", S, "--run", "0", "--step", "5", "--steps", "8"], r"probe batch",
        _session("UPDATE tensor SET shape = '[2]', data = zeroblob(8) WHERE role = 'probe' AND name = 'inputs'")),
    # 2. every input read is bounded and non-blocking
    "--config on a FIFO": Case("2 inputs", "record --config FIFO", ["record", "--config", "{dir}/c.toml", *FAST, *OUT],
                               r"not a regular file", _fifo("c.toml"), leaves=("c.toml",)),
    "-o FIFO --append": Case("2 inputs", "record -o FIFO --append", ["record", *FAST, "-o", "{dir}/f.gscope", "--append"],
                             r"not a regular file", _fifo("f.gscope"), leaves=("f.gscope",)),
    "-o FIFO --force": Case("2 inputs", "record -o FIFO --force", ["record", *FAST, "-o", "{dir}/f.gscope", "--force"],
                            r"not a regular file", _fifo("f.gscope"), leaves=("f.gscope",)),
    "--config /dev/zero": Case("2 inputs", "record --config /dev/zero", ["record", "--config", "/dev/zero", *FAST, *OUT],
                               r"not a regular file", leaves=()),
    "a 5 GB sparse .toml": Case("2 inputs", "record --config on a 5 GB sparse file",
                                ["record", "--config", "{dir}/c.toml", *FAST, *OUT], r"larger than",
                                _sparse("c.toml", 5 << 30, "steps = 3\n"), leaves=("c.toml",)),
    "--text /dev/zero": Case("2 inputs", "record --task charlm --text /dev/zero",
                             ["record", "--task", "charlm", "--text", "/dev/zero", *FAST, *OUT], r"not a regular file",
                             leaves=()),
    "--csv on a FIFO": Case("2 inputs", "record --task csv --csv FIFO",
                            ["record", "--task", "csv", "--csv", "{dir}/d.csv", *FAST, *OUT], r"not a regular file",
                            _fifo("d.csv"), leaves=("d.csv",)),
    "a CSV width bomb": Case("2 inputs", "record --csv of '1' and 100,000 commas, then 2,000 lines (104 KB)",
                             ["record", "--task", "csv", "--csv", "{dir}/d.csv", *FAST, *OUT], r"columns",
                             _write("d.csv", "1" + "," * 100_000 + "\n" + "1\n" * 2000), leaves=("d.csv",)),
    # 3. validation is complete before anything is created
    "--lr 1e-320": Case("3 validation", "record --lr 1e-320", ["record", *FAST, "--lr", "1e-320", "-o", "{dir}/o.gscope"],
                        r"--lr", leaves=()),
    "--clip-norm 1e-320": Case("3 validation", "record --clip-norm 1e-320",
                               ["record", *FAST, "--clip-norm", "1e-320", "-o", "{dir}/o.gscope"], r"--clip-norm",
                               leaves=()),
    "--temperature 1e-320": Case("3 validation", "record --task charlm --temperature 1e-320",
                                 ["record", "--task", "charlm", *FAST, "--temperature", "1e-320", "-o",
                                  "{dir}/o.gscope"], r"--temperature", leaves=()),
    "fork --lr 1e-320": Case("3 validation", "fork --lr 1e-320",
                             ["fork", S, "--run", "0", "--step", "5", "--lr", "1e-320"], r"--lr", _session(),
                             leaves=("s.gscope",)),
    "--forget-bias 1e308": Case("3 validation", "record --arch lstm --forget-bias 1e308",
                                ["record", "--arch", "lstm", *FAST, "--forget-bias", "1e308", "-o", "{dir}/o.gscope"],
                                r"--forget-bias", leaves=()),
    "a TOML value nested 5,000 deep": Case("3 validation", "record --config with a value nested 5,000 deep",
                                           ["record", "--config", "{dir}/c.toml", *FAST, *OUT], r"c.toml",
                                           _write("c.toml", "x = " + "[" * 5000 + "]" * 5000 + "\n"),
                                           leaves=("c.toml",)),
    "TOML text = 5": Case("3 validation", "record --config with text = 5", ["record", "--config", "{dir}/c.toml", *FAST, *OUT],
                          r"text", _write("c.toml", "text = 5\n"), leaves=("c.toml",)),
    "TOML with both clip keys": Case("3 validation", "record --config with clip-norm and clip-value",
                                     ["record", "--config", "{dir}/c.toml", *FAST, *OUT], r"clip",
                                     _write("c.toml", "clip-norm = 1.0\nclip-value = 0.5\n"), leaves=("c.toml",)),
    "-o in a missing folder": Case("3 validation", "record -o into a folder that does not exist",
                                   ["record", *FAST, "-o", "{dir}/none/o.gscope"], r"none", leaves=()),
    "-o under a file": Case("3 validation", "record -o below a regular file",
                            ["record", *FAST, "-o", "{dir}/c.toml/o.gscope"], r"c.toml", _write("c.toml", ""),
                            leaves=("c.toml",)),
    # 4. faults are recorded, not hidden
    "a junk -journal (append)": Case("4 faults", "record --append beside a junk -journal",
                                     ["record", *FAST, "-o", S, "--append"], r"recover",
                                     _beside("-journal", lambda folder: b"junk" * 100),
                                     leaves=("s.gscope", "s.gscope-journal")),
    "a junk -journal (info)": Case("4 faults", "info beside a junk -journal", ["info", S], r"warning: .*journal",
                                   _beside("-journal", lambda folder: b"junk" * 100), code=0),
    "a -wal of another session": Case("4 faults", "info beside another session's -wal", ["info", S],
                                      r"warning: .*another session", _beside("-wal", _foreign_wal), code=0),
    "a damaged -wal": Case("4 faults", "info beside a damaged -wal", ["info", S], r"warning: .*damaged",
                           _beside("-wal", _damaged_wal), code=0),
    "a WAL-flagged file alone": Case("4 faults", "info on a file flagged WAL with no -wal beside it (no side "
                                     "file may appear)", ["info", S], r"run 0", _wal_flagged, code=0,
                                     leaves=("s.gscope",)),
    "a -wal grown sparse to 20 GB, no -shm": Case("4 faults", "info on a file whose -wal (no -shm) is truncated "
                                                  "up to 20 GB", ["info", S], r"from the log", _sparse_wal, code=0,
                                                  leaves=("s.gscope", "s.gscope-wal")),
    # 5. outputs are never silent
    "export onto an existing file": Case("5 outputs", "export -o an existing file, no --force",
                                         ["export", S, "--format", "csv", "-o", "{dir}/x.csv"], r"--force",
                                         lambda folder: (_session()(folder), _write("x.csv", "keep")(folder)),
                                         leaves=("s.gscope", "x.csv"),
                                         check=lambda folder, out: None if (folder / "x.csv").read_text() == "keep"
                                         else "the file was overwritten"),
    "export -o DIR/": Case("5 outputs", "export -o a folder's name with a slash",
                           ["export", S, "--format", "csv", "-o", "{dir}/out/"], r"folder",
                           lambda folder: (_session()(folder), (folder / "out").mkdir()), leaves=("out", "s.gscope")),
    "export -o /dev/full": Case("5 outputs", "export -o /dev/full (as root too)",
                                ["export", S, "--format", "csv", "-o", "/dev/full"], r"/dev/full", _session(),
                                leaves=("s.gscope",),
                                check=lambda folder, out: "/dev/full.csv was created"
                                if os.path.exists("/dev/full.csv") else None),
    # 6. text from a file is data
    "a path with a newline and an escape": Case("6 text", "info on a missing path holding a newline and ESC [31m",
                                                ["info", "{dir}/mi\nss\x1b[31m.gscope"],
                                                r"mi\\nss\\x1b\[31m\.gscope: no such session file", leaves=()),
    "an event detail nested 500 deep": Case("6 text", "info on an event whose detail nests 500 lists deep", ["info", S],
                                            r"nests more than 16 levels deep",
                                            _session("UPDATE event SET detail = '{\"a\": ' || "
                                                     "replace(hex(zeroblob(500)), '00', '[') || "
                                                     "replace(hex(zeroblob(500)), '00', ']') || '}'")),
    "a comparison detail of numbers": Case("6 text", "info on a comparison event whose runs and varies are numbers",
                                           ["info", S], r"run 0",
                                           _session("INSERT INTO event (run_id, step, kind, detail, wall_time) VALUES "
                                                    "(0, 0, 'comparison', '{\"runs\": 5, \"varies\": null}', 1)"),
                                           code=0),
    "escapes and a 20 MB writer value": Case(
        "6 text", "info on escapes in an event detail, a series name and a 20 MB meta writer value",
        ["info", S], r"run 0",
        _session("UPDATE event SET detail = '{\"x\": \"\\u001b[2J\\u001b]0;owned\\u0007\\rfake line\"}'",
                 "UPDATE series SET name = 'loss' || char(27) || '[31m' WHERE name = 'grad_norm'",
                 "UPDATE meta SET value = char(27) || ']0;title' || char(7) || hex(zeroblob(10000000)) "
                 "WHERE key = 'writer'"), code=0, check=_no_escapes),
}


def run_all(workers: int = 4) -> dict[str, tuple[Case, Outcome, list[str]]]:
    files.recording()                     # trained once, before the threads copy it
    return run_cases(CASES, workers)


if __name__ == "__main__":
    # one case at a time: the seconds in the table are each case's own, not shared with others
    print(table(run_all(workers=1)))
