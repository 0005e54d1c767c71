"""The hostile-input suite's runner: the child that runs each case under an address-space cap.

A case (hostile_cases.py) is one thing an adversarial review tried (a crafted file, a bad
option, a fault), turned into files in a folder and one command: `gradscope ...`, or a few
lines of the notebook API. It runs in a child process under RLIMIT_AS (2 GB), with stdin
closed, and is held when its child exits with the expected status (2 for a refusal), prints
exactly one line naming the problem on stderr (and no traceback), stays under 500 MB (its own
peak resident size) and leaves behind only what the case allows.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

REPO = Path(__file__).resolve().parents[2]
ADDRESS_SPACE = 2 << 30
PEAK_MB = 500
HANG_SECONDS = 60         # a hang, not a speed goal: the table reports each case's seconds
# the peak is the child's own VmHWM, written as it exits: wait4's ru_maxrss would count the
# parent's resident size too, which a vfork'ed child carries until exec
CHILD = """
import atexit, resource, sys
cap, peak = int(sys.argv[1]), sys.argv[2]
resource.setrlimit(resource.RLIMIT_AS, (cap, cap))

def high_water():
    with open("/proc/self/status") as status, open(peak, "w") as out:
        out.write(next(line.split()[1] for line in status if line.startswith("VmHWM:")))

atexit.register(high_water)
mode, rest = sys.argv[3], sys.argv[4:]
if mode == "cli":
    from gradscope.cli import main
    sys.argv = ["gradscope", *rest]
    sys.exit(main())
from gradscope.session import SessionError
try:
    exec(rest[0])
except SessionError as error:
    print(error, file=sys.stderr)
    sys.exit(2)
"""
@dataclass
class Case:
    promise: str                      # the principle it tries
    tried: str
    command: list[str]                # gradscope's arguments; "{dir}" is the case's folder
    expect: str                       # a regex the one line (or, with code 0, stdout) must match
    prepare: Callable[[Path], object] = lambda folder: None
    code: int = 2
    api: str = ""                     # notebook code instead of a command ("{dir}" as above)
    leaves: tuple[str, ...] | None = None    # the names the folder may hold after (None: anything)
    check: Callable[[Path, str], str | None] = lambda folder, out: None   # a problem, or None


@dataclass
class Outcome:
    code: int | None
    out: str
    err: str
    seconds: float
    peak_mb: float
    left: list[str] = field(default_factory=list)

    def problems(self, case: Case, folder: Path) -> list[str]:
        found = []
        if self.code is None:
            return [f"still running after {HANG_SECONDS} s"]
        if self.code != case.code:
            found.append(f"exit status {self.code}, not {case.code}")
        lines = [line for line in self.err.splitlines() if line.strip()]
        if "Traceback" in self.err:
            found.append("a traceback")
        if case.code == 2:
            if len(lines) != 1:
                found.append(f"{len(lines)} lines on stderr, not one")
            elif not re.search(case.expect, lines[0]):
                found.append(f"the line does not say {case.expect!r}")
        elif not re.search(case.expect, self.out + self.err):
            found.append(f"the output does not say {case.expect!r}")
        if self.peak_mb > PEAK_MB:
            found.append(f"peak {self.peak_mb:.0f} MB")
        if case.leaves is not None and sorted(self.left) != sorted(case.leaves):
            found.append(f"the folder holds {sorted(self.left)}, not {sorted(case.leaves)}")
        extra = case.check(folder, self.out)
        if extra:
            found.append(extra)
        return found


def run(case: Case, folder: Path) -> Outcome:
    """Prepare `case` in `folder` and run its child; what came of it."""
    case.prepare(folder)
    fill = lambda text: text.replace("{dir}", str(folder))     # noqa: E731
    args = ["api", fill(case.api)] if case.api else ["cli", *map(fill, case.command)]
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""),
           "COLUMNS": "100"}
    peak = folder.parent / f"{folder.name}.peak"
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        began = time.perf_counter()
        child = subprocess.Popen([sys.executable, "-c", CHILD, str(ADDRESS_SPACE), str(peak), *args],
                                 stdin=subprocess.DEVNULL,
                                 stdout=out, stderr=err, cwd=folder, env=env, text=True)
        killer = threading.Timer(HANG_SECONDS, child.kill)
        killer.start()
        _, status, _ = os.wait4(child.pid, 0)
        killer.cancel()
        seconds = time.perf_counter() - began
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        code = None if child.returncode == -9 and seconds >= HANG_SECONDS else child.returncode
        try:
            peak_mb = int(peak.read_text()) / 1024
        except (OSError, ValueError):
            peak_mb = float("inf")        # killed before it could say: counted as too much
        return Outcome(code, out.read(), err.read(), seconds, peak_mb, sorted(os.listdir(folder)))


def table(results: dict[str, tuple[Case, Outcome, list[str]]]) -> str:
    """The markdown table "promise | tried | held" of a run of the suite."""
    lines = ["| promise | tried | held |", "|---|---|---|"]
    for case, outcome, problems in results.values():
        shown = (outcome.err if case.code else outcome.out + outcome.err).splitlines()
        said = next((line for line in shown if re.search(case.expect, line)), shown[-1] if shown else "")
        said = re.sub(r"[^\s']*/case\d+/", "…/", said.strip())
        said = said if len(said) <= 110 else said[:107] + "..."
        verdict = "yes" if not problems else "NO: " + "; ".join(problems)
        lines.append(f"| {case.promise} | {case.tried} | {verdict}: exit {outcome.code}, {outcome.seconds:.1f} s, "
                     f"{outcome.peak_mb:.0f} MB, \"{said.replace('|', '/')}\" |")
    return "\n".join(lines)


def run_all(cases: dict[str, Case], workers: int = 4) -> dict[str, tuple[Case, Outcome, list[str]]]:
    """Every case in a folder of its own, `workers` at a time: (case, outcome, problems) by name."""
    from concurrent.futures import ThreadPoolExecutor

    root = Path(tempfile.mkdtemp(prefix="gradscope-hostile-"))

    def one(item):
        index, (name, case) = item
        folder = root / f"case{index:02d}"
        folder.mkdir()
        outcome = run(case, folder)
        return name, (case, outcome, outcome.problems(case, folder))

    with ThreadPoolExecutor(workers) as pool:
        return dict(pool.map(one, enumerate(cases.items())))
