"""SIGTERM, or the death of the window's process, leaves nothing running behind.

Each test starts the real program in a session of its own (so every process it starts, its
training or probe child and multiprocessing's resource tracker, shares its process group),
trains, signals it, and then allows the issue's 5 s for the whole group to be gone and for its
stdout and stderr to reach their end (an orphan holding them made a caller wait for ever).
Zombies do not count: they run nothing and hold no file; reaping an orphan is init's business.
The session file must then open with every step that was shown as trained.
"""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from gradscope.records import EventKind, RunState
from gradscope.session import open_session

REPO = Path(__file__).resolve().parents[2]
APP = Path(__file__).with_name("sigterm_app.py")
CLEANUP_SECONDS = 5.0        # the bound, not a speed claim
START_SECONDS = 240.0        # torch is imported twice on a shared 2-core machine

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads processes from /proc")


class Launched:
    """A program in a process group of its own, its stdout and stderr read to their end."""

    def __init__(self, argv: list[str], env: dict[str, str]):
        self.process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                        env=env, start_new_session=True)
        self.out: list[str] = []
        self.err: list[str] = []
        self.readers = [threading.Thread(target=self._drain, args=(stream, into), daemon=True)
                        for stream, into in ((self.process.stdout, self.out), (self.process.stderr, self.err))]
        for reader in self.readers:
            reader.start()

    @staticmethod
    def _drain(stream, into: list[str]) -> None:
        for chunk in iter(lambda: stream.read(1), ""):
            into.append(chunk)

    @property
    def stdout(self) -> str:
        return "".join(self.out)

    @property
    def stderr(self) -> str:
        return "".join(self.err)

    def group(self) -> dict[int, str]:
        """The group's live processes: pid -> command line."""
        found = {}
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
                command = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue         # it ended while we looked
            state, _, group = stat.rsplit(")", 1)[1].split()[:3]
            if int(group) == self.process.pid and state != "Z":
                found[int(entry)] = command
        return found

    def wait_for(self, predicate, what: str) -> None:
        deadline = time.monotonic() + START_SECONDS
        while not predicate():
            assert self.process.poll() is None, f"it ended (exit {self.process.returncode}) before {what}:\n" \
                                                f"{self.stderr[-3000:]}"
            assert time.monotonic() < deadline, f"no {what} within {START_SECONDS:.0f} s:\n{self.stderr[-3000:]}"
            time.sleep(0.1)

    def signal_and_wait(self, signum: int) -> dict[int, str]:
        """Send `signum` to the program (not to its group: its children must find out for
        themselves); what of the group is still running CLEANUP_SECONDS later, or {}."""
        self.process.send_signal(signum)
        deadline = time.monotonic() + CLEANUP_SECONDS
        try:
            self.process.wait(CLEANUP_SECONDS)
        except subprocess.TimeoutExpired:
            pass
        for reader in self.readers:
            reader.join(max(0.0, deadline - time.monotonic()))
        left = self.group()
        while left and time.monotonic() < deadline:
            time.sleep(0.05)
            left = self.group()
        open_pipes = [name for name, reader in zip(("stdout", "stderr"), self.readers) if reader.is_alive()]
        if open_pipes:
            left = {**left, -1: f"someone still holds its {' and '.join(open_pipes)} open"}
        return left

    def kill_all(self) -> None:
        for pid in self.group():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(5)


@pytest.fixture
def launch(tmp_path):
    launched: list[Launched] = []

    def start(argv: list[str], **extra: str) -> Launched:
        env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""),
               "QT_QPA_PLATFORM": "offscreen", "XDG_CONFIG_HOME": str(tmp_path / "config"), **extra}
        launched.append(Launched(argv, env))
        return launched[-1]

    yield start
    for program in launched:
        program.kill_all()


def _the_session(folder: Path):
    files = sorted(folder.glob("*.gscope"))
    assert len(files) == 1, files
    session = open_session(files[0])
    assert len(session.runs) == 1
    return session, session.runs[0]


def _contiguous(run) -> int:
    steps = [int(step) for step in run.steps]
    assert steps == list(range(len(steps)))
    return len(steps)


def test_sigterm_closes_the_window_which_commits_and_ends_its_training_process(launch, tmp_path):
    sessions = tmp_path / "sessions"
    app = launch([sys.executable, str(APP), str(sessions)])
    app.wait_for(lambda: "\n" in app.stdout, "five steps shown")
    shown = json.loads(app.stdout.splitlines()[0])
    running = app.group()
    assert shown["trainer"] in running and len(running) >= 3, running    # the window, its trainer, the tracker

    left = app.signal_and_wait(signal.SIGTERM)

    assert not left, f"still running {CLEANUP_SECONDS:.0f} s after SIGTERM: {left}"
    assert app.process.returncode == 0, app.stderr[-3000:]      # closed as File > Quit closes it
    assert "Traceback" not in app.stderr and "leaked" not in app.stderr, app.stderr[-3000:]
    session, run = _the_session(sessions)
    with session:
        assert _contiguous(run) >= shown["shown"] + 1    # every step the window showed, and on
        assert run.state is RunState.STOPPED


@pytest.mark.parametrize("heavy", [False, True], ids=["between-steps", "in-a-long-step"])
def test_a_training_process_whose_window_is_killed_commits_and_ends(launch, tmp_path, heavy):
    sessions, marker = tmp_path / "sessions", tmp_path / "in-step-5"
    app = launch([sys.executable, str(APP), str(sessions)],
                 **({"SIGTERM_TEST_HEAVY_STEP": str(marker)} if heavy else {}))
    if heavy:
        app.wait_for(marker.exists, "step 5")
    else:
        app.wait_for(lambda: "\n" in app.stdout, "five steps shown")

    left = app.signal_and_wait(signal.SIGKILL)      # the window's process vanishes without a word

    assert not left, f"still running {CLEANUP_SECONDS:.0f} s after the window was killed: {left}"
    assert "Traceback" not in app.stderr, app.stderr[-3000:]
    session, run = _the_session(sessions)
    with session:
        saved = _contiguous(run)
        assert run.state is RunState.STOPPED
        if heavy:
            # step 5 never ended: steps 0 to 4, even those still held for a probe in flight,
            # are committed and marked where they stop
            assert saved == 5
            stop = run.events[-1]
            assert stop.kind == EventKind.INTERRUPTED.value and stop.step == saved
            assert stop.detail["last_saved_step"] == saved - 1
        else:
            assert saved >= json.loads(app.stdout.splitlines()[0])["shown"] + 1


def test_sigterm_to_the_training_process_in_a_long_step_commits_and_ends_it_at_once(launch, tmp_path):
    sessions, marker = tmp_path / "sessions", tmp_path / "in-step-5"
    app = launch([sys.executable, str(APP), str(sessions)], SIGTERM_TEST_HEAVY_STEP=str(marker))
    app.wait_for(lambda: marker.exists() and marker.read_text(), "step 5")
    trainer = int(marker.read_text())

    os.kill(trainer, signal.SIGTERM)          # step 5 sleeps ten minutes: it is not waited for
    deadline = time.monotonic() + CLEANUP_SECONDS
    while trainer in app.group() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert trainer not in app.group(), "the training process still runs 5 s after SIGTERM"
    assert app.process.poll() is None          # the window lives on (and says its trainer crashed)

    assert not app.signal_and_wait(signal.SIGTERM)
    assert app.process.returncode == 0, app.stderr[-3000:]
    session, run = _the_session(sessions)
    with session:
        saved = _contiguous(run)
        assert saved == 5                      # every step trained before the long one
        stop = run.events[-1]
        assert stop.kind == EventKind.INTERRUPTED.value and stop.step == saved
        assert stop.detail["reason"] == "the training process was sent SIGTERM"


def test_sigterm_stops_a_headless_record_and_its_probe_process(launch, tmp_path):
    output = tmp_path / "run.gscope"
    program = launch([sys.executable, "-m", "gradscope", "record", "--task", "adding", "--seq-len", "8",
                      "--hidden", "6", "--batch", "4", "--probe-every", "1", "--steps", "100000",
                      "-o", str(output)], GRADSCOPE_PROBE_MODE="process")

    def trained() -> int:
        counts = re.findall(r"(\d+)/100000", program.stderr)   # the progress bar
        return int(counts[-1]) if counts else 0

    program.wait_for(lambda: trained() >= 5, "five steps trained")
    children = {pid: command for pid, command in program.group().items() if pid != program.process.pid}
    assert any("multiprocessing" in command for command in children.values()), children   # probes, tracker
    shown = trained()

    left = program.signal_and_wait(signal.SIGTERM)

    assert not left, f"still running {CLEANUP_SECONDS:.0f} s after SIGTERM: {left}"
    assert program.process.returncode == 0, program.stderr[-3000:]
    assert "stopping after this step" in program.stderr and "Traceback" not in program.stderr
    with open_session(output) as session:
        run = session.runs[0]
        assert _contiguous(run) >= shown
        assert run.state is RunState.STOPPED
