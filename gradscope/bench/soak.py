"""The soak: the real window driven through random actions, as a restless lecturer would, with
the invariants that no amount of clicking may break checked after every action.

Actions go through the window's own paths: its QActions (Run, Step, Reset, Compare, New Live
Session, Open with the file dialog answered), the settings tree, the threshold's drag, the
timeline (slider, play, Compare, Fork from here). A seeded generator picks them, so a failure
can be replayed. It fails on:

* an exception in a slot (anything that reaches `sys.excepthook` from Qt's event loop);
* a stall of the GUI thread over `STALL_SECONDS` (a 16 ms timer's longest gap);
* a record reaching a source that is not on show (the lab's `stray_updates`, and a replay's
  histories holding steps the recording does not have up to the cursor);
* a process left behind (more than one training process while it runs, any after it closes);
* a gap in any session (a run's recorded steps not consecutive) or a run with no step.

`gradscope bench --soak` runs a long one; the test suite runs a few hundred actions.
"""
from __future__ import annotations

import multiprocessing
import random
import sys
import time
import traceback
from pathlib import Path

import numpy as np

from gradscope.bench.window import open_window, spin, wait_until

STALL_SECONDS = 2.0
SIZE = (1280, 800)
ACTIONS = ("run", "run", "step", "reset", "structure", "live", "drag", "compare", "stop_comparing", "new",
           "open", "seek", "play", "replay_compare", "fork", "wait", "wait")
STRUCTURE = {"arch": ("rnn", "lstm", "gru", "jordan"), "hidden": (6, 8, 12), "seq_len": (8, 12, 16),
             "rho": (0.5, 1.0, 1.5), "init": ("default", "orthogonal"), "task": ("adding", "copy", "recall")}
LIVE = {"lr": (1e-3, 3e-3, 1e-2), "clip_mode": ("none", "norm", "value"), "clip_threshold": (0.5, 1.0, 5.0),
        "momentum": (0.5, 0.9)}
COMPARISONS = ("arch=rnn,lstm", "rho=0.5,1.5", "arch=rnn,lstm,gru", "clip-norm=1,10", "hidden=6,12")


class SoakFailure(AssertionError):
    pass


class Soak:
    def __init__(self, folder: Path, seed: int, say=lambda text: None):
        from gradscope.config import RunConfig

        self.folder = Path(folder)
        self.rng = random.Random(seed)
        self.seed = seed
        self.say = say
        self.failures: list[str] = []
        self.counts: dict[str, int] = {}
        config = RunConfig(arch="rnn", task="adding", seq_len=12, hidden=8, batch=8, steps=1_000_000, probe_every=3,
                           checkpoint_every=25)
        self.window = open_window(self.folder, "soak", config, size=SIZE)
        self.sessions = self.window.lab.sessions_dir
        self._stall = _StallWatch()
        self._hook = sys.excepthook
        sys.excepthook = self._excepthook
        self._patched = _answer_dialogs(self)

    # -- running -------------------------------------------------------------------------------

    def run(self, actions: int) -> dict:
        began = time.monotonic()
        try:
            if not wait_until(lambda: self.window.lab.live.ready or bool(self.window.errors), 120):
                raise SoakFailure("the training process did not start within 120 s")
            for index in range(actions):
                name = self.rng.choice(ACTIONS)
                self.counts[name] = self.counts.get(name, 0) + 1
                try:
                    getattr(self, f"_do_{name}")()
                except SoakFailure:
                    raise
                except Exception as error:       # an action that raised into the soak: a failure too
                    self._fail(f"action {index} ({name}) raised {type(error).__name__}: {error}\n"
                               + traceback.format_exc(limit=8))
                spin(self.rng.uniform(0.02, 0.08))
                self._check(index, name)
                if self.failures:
                    break
        finally:
            self._close()
        self._check_files()
        return {"actions": sum(self.counts.values()), "by_action": dict(sorted(self.counts.items())),
                "seconds": round(time.monotonic() - began, 1), "longest_stall_ms": round(self._stall.longest_ms, 1),
                "failures": self.failures, "seed": self.seed}

    def _fail(self, text: str) -> None:
        self.failures.append(text)

    def _excepthook(self, kind, value, trace) -> None:
        self._fail(f"an exception in a slot: {kind.__name__}: {value}\n" + "".join(traceback.format_tb(trace)[-8:]))

    # -- the actions ---------------------------------------------------------------------------

    def _do_run(self) -> None:
        self.window.run_action.trigger()

    def _do_step(self) -> None:
        self.window.step_action.trigger()

    def _do_reset(self) -> None:
        self.window.reset_action.trigger()

    def _do_structure(self) -> None:
        name = self.rng.choice(sorted(STRUCTURE))
        self.window.controls.set_value(name, self.rng.choice(STRUCTURE[name]))

    def _do_live(self) -> None:
        name = self.rng.choice(sorted(LIVE))
        self.window.controls.set_value(name, self.rng.choice(LIVE[name]))

    def _do_drag(self) -> None:
        line = self.window.panels["grad_norm"].threshold
        line.setPos(self.rng.uniform(-1.0, 1.5))
        line.sigPositionChangeFinished.emit(line)

    def _do_compare(self) -> None:
        self._answer = self.rng.choice(COMPARISONS)
        self.window.compare_action.trigger()

    def _do_stop_comparing(self) -> None:
        self.window.stop_comparing_action.trigger()

    def _do_new(self) -> None:
        self.window.new_action.trigger()

    def _do_open(self) -> None:
        files = sorted(path for path in self.sessions.glob("*.gscope") if path.stat().st_size > 0)
        if files:
            self._file = str(self.rng.choice(files))
            self.window.open_action.trigger()

    def _do_seek(self) -> None:
        slider = self.window.timeline.slider
        if self.window.lab.recorded is not None and slider.maximum() > 0:
            slider.setValue(self.rng.randint(0, slider.maximum()))

    def _do_play(self) -> None:
        if self.window.lab.recorded is not None:
            self.window.timeline.play.click()

    def _do_replay_compare(self) -> None:
        menu = self.window.timeline.compare.menu()
        if self.window.lab.recorded is None:
            return
        menu.aboutToShow.emit()
        actions = menu.actions()
        if actions:
            self.rng.choice(actions).trigger()

    def _do_fork(self) -> None:
        if self.window.lab.recorded is not None:
            self.window.timeline.fork.click()

    def _do_wait(self) -> None:
        spin(self.rng.uniform(0.1, 0.5))

    # -- the invariants ------------------------------------------------------------------------

    def _check(self, index: int, name: str) -> None:
        lab = self.window.lab
        where = f"after action {index} ({name}, seed {self.seed})"
        if self._stall.longest_ms > STALL_SECONDS * 1000:
            self._fail(f"{where}: the GUI thread stalled for {self._stall.longest_ms:.0f} ms")
        if lab.stray_updates:
            self._fail(f"{where}: {lab.stray_updates} record(s) of a source not on show reached the lab")
        trainers = [child for child in multiprocessing.active_children() if child.name == "gradscope-trainer"]
        if len(trainers) > 1:
            self._fail(f"{where}: {len(trainers)} training processes are alive")
        if lab.recorded is not None:
            for slot in lab.slots:
                player = lab.recorded.player(slot.run_id)
                expected = player.position(lab.cursor)
                if slot.history.steps_seen != expected or slot.history.last_step > lab.cursor:
                    self._fail(f"{where}: run {slot.run_id} on replay holds {slot.history.steps_seen} steps up to "
                               f"{slot.history.last_step}; the file has {expected} up to the cursor {lab.cursor}")
        else:
            for slot in lab.slots:
                history = slot.history
                first = slot.parent[1] if slot.parent else 0
                if history.steps_seen and history.steps_seen != history.last_step - first + 1:
                    self._fail(f"{where}: live run {slot.run_id} shows {history.steps_seen} steps from {first} to "
                               f"{history.last_step}: a gap, or a step twice")

    def _close(self) -> None:
        from gradscope.bench.window import close_window

        self._stall.stop()
        for box in (self.window.error_dialog,):
            if box is not None:
                box.close()
        close_window(self.window)
        sys.excepthook = self._hook
        for target, name, original in self._patched:
            setattr(target, name, original)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and [c for c in multiprocessing.active_children()
                                               if c.name == "gradscope-trainer"]:
            time.sleep(0.05)
        left = [child.pid for child in multiprocessing.active_children() if child.name == "gradscope-trainer"]
        if left:
            self._fail(f"{len(left)} training process(es) outlived the window: {left}")

    def _check_files(self) -> None:
        from gradscope.session import SessionError, open_session

        for path in sorted(self.sessions.glob("*.gscope")):
            try:
                with open_session(path) as session:
                    for run in session.runs:
                        steps = run.steps
                        if not len(steps):
                            self._fail(f"{path.name}: run {run.id} holds no step")
                        elif not np.all(np.diff(steps) == 1):
                            gaps = np.flatnonzero(np.diff(steps) != 1)
                            self._fail(f"{path.name}: run {run.id} has a gap after step {int(steps[gaps[0]])}")
            except SessionError as error:
                self._fail(f"{path.name} cannot be read after the soak: {error}")


class _StallWatch:
    """A 16 ms timer in the GUI thread keeping its longest gap between ticks."""

    def __init__(self) -> None:
        from PySide6.QtCore import Qt, QTimer

        self.longest_ms = 0.0
        self._last = time.perf_counter()
        self.timer = QTimer()
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(16)
        self.timer.timeout.connect(self._tick)
        self.timer.start()

    def _tick(self) -> None:
        now = time.perf_counter()
        self.longest_ms = max(self.longest_ms, (now - self._last) * 1000.0)
        self._last = now

    def stop(self) -> None:
        self.timer.stop()


def _answer_dialogs(soak: Soak) -> list:
    """The window's dialogs answered as the soak chose, never shown modal: Compare's question,
    the file dialog, a bookmark's note. Returns what to put back."""
    from PySide6.QtWidgets import QFileDialog, QInputDialog

    soak._answer, soak._file = "", ""
    patched = [(QInputDialog, "getText", QInputDialog.getText),
               (QFileDialog, "getOpenFileName", QFileDialog.getOpenFileName)]
    QInputDialog.getText = staticmethod(lambda *args, **kwargs: (soak._answer, True))
    QFileDialog.getOpenFileName = staticmethod(lambda *args, **kwargs: (soak._file, ""))
    return patched


def measure(actions: int, seed: int, say) -> dict:
    """`gradscope bench --soak`: a soak of `actions` actions; its report."""
    import os
    import tempfile

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from gradscope.ui.app import create_application

    app = create_application()   # noqa: F841
    with tempfile.TemporaryDirectory(prefix="gradscope-soak-", ignore_cleanup_errors=True) as folder:
        say(f"bench --soak: {actions} random actions in the window (seed {seed}) ...")
        return Soak(Path(folder), seed, say).run(actions)


def format_results(report: dict) -> str:
    lines = [f"soak: {report['actions']} actions in {report['seconds']:.0f} s (seed {report['seed']}), "
             f"longest gap between GUI ticks {report['longest_stall_ms']:.0f} ms",
             "  " + ", ".join(f"{name} {count}" for name, count in report["by_action"].items())]
    lines += [f"  FAILED: {failure}" for failure in report["failures"]] or ["  no invariant broken"]
    return "\n".join(lines)
