"""`gradscope bench --gui`: what the live lab's window costs, measured offscreen.

Four figures, each with its unit in its name, reported and never asserted:

* tick gaps: a 16 ms timer in the GUI thread records the gaps between its ticks, with the
  window idle and while the window's own worker trains a model at full speed (the goal: p99
  within 40 ms);
* refresh: one frame (new records, `redraw`, the paint) with 10,000 steps of an LSTM run at
  T=200 in the history (the goal: within 10 ms);
* memory: the growth of this process's RSS from 10,000 to 100,000 steps fed through the lab
  (the goal: flat within 100 MB), and what the history itself holds;
* first paint: launching `gradscope gui` to its first painted frame, and whether torch was
  imported before it (it should not be).

Everything runs offscreen, on a temporary settings file and sessions folder (the launched
app's QSettings go to a temporary XDG_CONFIG_HOME), and the window is closed at the end, which
joins its worker thread and training process.
"""
from __future__ import annotations

import gc
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from gradscope.bench.gui_launch import measure_first_paint
from gradscope.bench.gui_records import SyntheticRun

TICK_MS = 16
WINDOW_SIZE = (1600, 1000)
GOALS = {"tick_gap_p99_ms": 40.0, "refresh_ms": 10.0, "memory_growth_mb": 100.0}
MODELS = {
    "lstm_H128_T100": dict(arch="lstm", hidden=128, seq_len=100, task="adding", steps=1_000_000),
    "lstm_H32_T20": dict(arch="lstm", hidden=32, seq_len=20, task="adding", steps=1_000_000),
}
RECORDS_FLOWING_STEPS = 20          # wait for this many steps before measuring a model
READY_TIMEOUT_S = 120.0             # the training process imports torch, then builds the run


def measure(quick: bool, say) -> dict:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from gradscope.ui.app import create_application

    app = create_application()   # noqa: F841  (held while the windows live)
    sizes = {
        "tick_seconds": 2.0 if quick else 10.0,
        "refresh_fill_steps": 2_000 if quick else 10_000,
        "refresh_frames": 10 if quick else 30,
        "memory_steps": (2_000, 10_000) if quick else (10_000, 100_000),
        "first_paint_launches": 1 if quick else 3,
    }
    with tempfile.TemporaryDirectory(prefix="gradscope-bench-gui-", ignore_cleanup_errors=True) as folder:
        folder = Path(folder)
        tick_gap, refresh, memory = _window_figures(folder, sizes, say)
        first_paint = measure_first_paint(folder, sizes["first_paint_launches"], say)
    return {
        "tick_gap": tick_gap,
        "refresh_ms": refresh["refresh_ms"],
        "refresh_p90_ms": refresh["refresh_p90_ms"],
        "all_panels_refresh_ms": refresh["all_panels_refresh_ms"],
        "memory_growth_mb": memory["memory_growth_mb"],
        "history_mb": memory["history_mb"],
        "first_paint_ms": first_paint["first_paint_ms"],
        "torch_imported_before_first_paint": first_paint["torch_imported_before_first_paint"],
        "conditions": {
            "quick": quick,
            "window": f"{WINDOW_SIZE[0]}x{WINDOW_SIZE[1]}, offscreen, default panels",
            "tick_ms": TICK_MS,
            "tick_measured_s": sizes["tick_seconds"],
            "refresh_history_steps": sizes["refresh_fill_steps"],
            "refresh_frames": sizes["refresh_frames"],
            "refresh_plot_paints_per_frame": refresh["paints_per_frame"],
            "frame_budget_ms": refresh["frame_budget_ms"],
            "memory_steps": list(sizes["memory_steps"]),
            "rss_mb": memory["rss_mb"],
            "first_paint_launches": sizes["first_paint_launches"],
            "first_paint_reported_ms": first_paint["first_paint_reported_ms"],
            "goals": GOALS,
        },
    }


# -- the Qt plumbing -------------------------------------------------------------------------------

def _spin(seconds: float) -> None:
    """Let the GUI thread's event loop run for `seconds` (never sleep in the GUI thread)."""
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    QTimer.singleShot(max(0, int(seconds * 1000)), loop.quit)
    loop.exec()


def _wait_until(predicate, timeout_s: float, poll_ms: int = 20) -> bool:
    """Run the event loop until `predicate()` holds or `timeout_s` passes; says which."""
    from PySide6.QtCore import QEventLoop, QTimer

    if predicate():
        return True
    loop = QEventLoop()
    deadline = time.perf_counter() + timeout_s
    result = {"ok": False}

    def check() -> None:
        if predicate():
            result["ok"] = True
            loop.quit()
        elif time.perf_counter() > deadline:
            loop.quit()

    poll = QTimer()
    poll.setInterval(poll_ms)
    poll.timeout.connect(check)
    poll.start()
    loop.exec()
    poll.stop()
    return result["ok"]


def _open_window(folder: Path, name: str, config):
    from PySide6.QtCore import QSettings

    from gradscope.ui.main_window import MainWindow

    settings = QSettings(str(folder / f"{name}.ini"), QSettings.Format.IniFormat)
    window = MainWindow(sessions_dir=folder / f"sessions-{name}", config=config, settings=settings)
    window.resize(*WINDOW_SIZE)
    window.show()
    return window


def _close_window(window) -> None:
    """Close: the window stops and joins its worker thread and training process."""
    from PySide6.QtCore import QCoreApplication, QEvent
    from PySide6.QtWidgets import QApplication

    window.close()
    QApplication.processEvents()
    window.settings.sync()
    window.deleteLater()
    QCoreApplication.sendPostedEvents(window, QEvent.Type.DeferredDelete)
    QApplication.processEvents()


def _wait_ready(window, what: str) -> None:
    if not _wait_until(lambda: window.lab.live.ready or window.errors, READY_TIMEOUT_S):
        raise RuntimeError(f"bench --gui: the training process did not start within {READY_TIMEOUT_S:.0f} s ({what})")
    if window.errors:
        raise RuntimeError(f"bench --gui: the training process failed ({what}):\n{window.errors[-1]}")


# -- tick gaps -------------------------------------------------------------------------------------

def _tick_gaps_for(seconds: float) -> dict:
    """A 16 ms precise timer in the GUI thread; the gaps between its ticks, in ms."""
    from PySide6.QtCore import Qt, QTimer

    ticks: list[float] = []
    timer = QTimer()
    timer.setTimerType(Qt.TimerType.PreciseTimer)
    timer.setInterval(TICK_MS)
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    timer.start()
    _spin(seconds)
    timer.stop()
    gaps = np.diff(np.asarray(ticks)) * 1000.0
    if gaps.size == 0:   # the loop never ticked: one gap as long as the whole wait
        gaps = np.asarray([seconds * 1000.0])
    return {"tick_gap_p99_ms": round(float(np.percentile(gaps, 99)), 2),
            "tick_gap_p50_ms": round(float(np.percentile(gaps, 50)), 2),
            "tick_gap_max_ms": round(float(gaps.max()), 2)}


def _window_figures(folder: Path, sizes: dict, say) -> tuple[dict, dict, dict]:
    """One window, as a lecturer uses it: first idle (the baseline, then the history figures
    on synthetic runs while its training process idles), then Run with the first model, then
    the second model's settings shown and a new run started in the same session (what
    changing a shape setting while training does)."""
    from gradscope.config import RunConfig

    seconds = sizes["tick_seconds"]
    configs = {name: RunConfig(**settings) for name, settings in MODELS.items()}
    ticks: dict[str, dict] = {}
    window = _open_window(folder, "bench", next(iter(configs.values())))
    try:
        _wait_ready(window, "startup")    # the training process's start must not share the CPU
        _spin(0.5)                        # the first paints and layout settle
        say(f"bench --gui: tick gaps with the window idle ({seconds:g} s) ...")
        ticks["idle"] = _tick_gaps_for(seconds)
        refresh, memory = _history_figures(window, sizes, say)
        for index, (name, config) in enumerate(configs.items()):
            say(f"bench --gui: tick gaps while {name} trains ({seconds:g} s) ...")
            previous = window.lab.current
            if index == 0:
                window.run_action.trigger()     # press Run: the window's training process trains
            else:
                window.lab.show_config(config)
                window.lab.start_runs(autorun=True)
            ticks[name] = _training_ticks(window, name, previous, seconds)
    finally:
        _close_window(window)
    return {"idle": ticks["idle"], **{name: ticks[name] for name in MODELS}}, refresh, memory


def _training_ticks(window, name: str, previous, seconds: float) -> dict:
    def flowing() -> bool:
        run = window.lab.current
        return run is not None and run is not previous and run.last_step > RECORDS_FLOWING_STEPS

    if not _wait_until(lambda: window.errors or flowing(), READY_TIMEOUT_S):
        raise RuntimeError(f"bench --gui: no records from {name} within {READY_TIMEOUT_S:.0f} s")
    if window.errors:
        raise RuntimeError(f"bench --gui: training {name} failed:\n{window.errors[-1]}")
    run = window.lab.current
    first_step, began = run.last_step, time.perf_counter()
    figures = _tick_gaps_for(seconds)
    elapsed = time.perf_counter() - began
    figures["steps_per_s"] = round((run.last_step - first_step) / elapsed, 1)
    return figures


class _PaintCounter:
    """Counts the paint events of the panels' plot views (an event filter)."""

    def __init__(self, window):
        from PySide6.QtCore import QEvent, QObject

        counter = self

        class Filter(QObject):
            def eventFilter(self, watched, event):
                if event.type() == QEvent.Type.Paint:
                    counter.paints += 1
                return False

        self.paints = 0
        self.filter = Filter(window)
        for panel in window.panels.values():
            panel.graphics.viewport().installEventFilter(self.filter)


def _frame(window, counter: _PaintCounter, everything: bool = False) -> None:
    """One frame as the GUI thread pays for it: redraw, then the paint.

    `redraw()` only feeds the plot items (setData / setImage) of the panels due this frame
    (the window spreads the six panels over frames; `everything` draws them all at once);
    pyqtgraph draws in the plot views' paint events, which the scenes' posted updates
    schedule. processEvents() delivers them and paints the dirty panels synchronously,
    exactly what the event loop does after a drain tick (checked: about one paint event per
    redrawn panel per frame). window.repaint() would not do: offscreen it paints no plot view
    at all. If a platform deferred the paint past processEvents, window.grab() renders the
    whole window instead (an over-estimate: the settings tree is drawn too).
    """
    from PySide6.QtWidgets import QApplication

    before = counter.paints
    window.redraw(everything=everything)
    QApplication.processEvents()
    if counter.paints == before:
        window.grab()


def _rss_mb() -> float:
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    import resource   # no /proc: the peak, in kB on Linux and bytes on macOS

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024.0 * 1024.0 if sys.platform == "darwin" else 1024.0)


def _history_figures(window, sizes: dict, say) -> tuple[dict, dict]:
    """Refresh and memory on synthetic runs fed straight into the window's lab (no training);
    the lab is emptied again afterwards."""
    from gradscope.ui.frames import FRAME_BUDGET_MS

    synthetic = SyntheticRun()
    counter = _PaintCounter(window)
    try:
        fill = sizes["refresh_fill_steps"]
        say(f"bench --gui: refresh with {fill:,} steps in the history ...")
        slot = synthetic.slot()
        window.lab.show_slots([slot], live=False)
        run = slot.history
        synthetic.feed(run, 0, fill)
        step = fill
        for _ in range(3):                # the first frames build the gate plots and caches
            synthetic.feed(run, step, step + 5)
            step += 5
            _frame(window, counter)
        frames, paints = [], counter.paints
        for _ in range(sizes["refresh_frames"]):
            synthetic.feed(run, step, step + 5)   # a tick's records, one of them probed
            step += 5
            began = time.perf_counter()
            _frame(window, counter)
            frames.append((time.perf_counter() - began) * 1000.0)
        paints_per_frame = (counter.paints - paints) / len(frames)
        whole = []
        for _ in range(sizes["refresh_frames"]):
            synthetic.feed(run, step, step + 5)
            step += 5
            began = time.perf_counter()
            _frame(window, counter, everything=True)
            whole.append((time.perf_counter() - began) * 1000.0)
        refresh = {"refresh_ms": round(statistics.median(frames), 2),
                   "refresh_p90_ms": round(float(np.percentile(frames, 90)), 2),
                   "all_panels_refresh_ms": round(statistics.median(whole), 2),
                   "paints_per_frame": round(paints_per_frame, 2),
                   "frame_budget_ms": FRAME_BUDGET_MS}

        early, late = sizes["memory_steps"]
        say(f"bench --gui: memory from {early:,} to {late:,} steps ...")
        slot = synthetic.slot()
        window.lab.show_slots([slot], live=False)
        run = slot.history
        rss = {}
        for start in range(0, late, 1000):
            synthetic.feed(run, start, start + 1000)
            _frame(window, counter)
            if start + 1000 in (early, late):
                gc.collect()
                rss[start + 1000] = _rss_mb()
        memory = {"memory_growth_mb": round(rss[late] - rss[early], 1),
                  "history_mb": round(run.nbytes / 1e6, 2),
                  "rss_mb": {f"{steps}_steps": round(value, 1) for steps, value in rss.items()}}
    finally:
        for panel in window.panels.values():
            panel.graphics.viewport().removeEventFilter(counter.filter)
        window.lab.show_slots([], live=False)     # the real run that follows starts from an empty lab
        gc.collect()
        window.redraw(everything=True)
    return refresh, memory


# -- the text -----------------------------------------------------------------------------------------

def format_results(gui: dict) -> str:
    def met(value: float, goal: float) -> str:
        return "met" if value <= goal else "MISSED"

    goal = GOALS["tick_gap_p99_ms"]
    lines = [f"GUI, offscreen, {WINDOW_SIZE[0]}x{WINDOW_SIZE[1]} with the default panels "
             f"(reported, not asserted):",
             f"  gaps between {TICK_MS} ms timer ticks in the GUI thread, p50 / p99 / max (goal: p99 <= {goal:.0f} ms):"]
    for name, figure in gui["tick_gap"].items():
        line = (f"    {name:16s} {figure['tick_gap_p50_ms']:6.1f} / {figure['tick_gap_p99_ms']:6.1f} / "
                f"{figure['tick_gap_max_ms']:6.1f} ms")
        if "steps_per_s" in figure:
            line += f"   training {figure['steps_per_s']:.0f} steps/s   {met(figure['tick_gap_p99_ms'], goal)}"
        else:
            line += "   (baseline, no training)"
        lines.append(line)
    conditions = gui.get("conditions", {})
    lines.append(f"  one frame with {conditions.get('refresh_history_steps', 10_000):,} steps of LSTM H=64 T=200 "
                 f"in the history: median {gui['refresh_ms']:.1f} ms, p90 {gui['refresh_p90_ms']:.1f} ms "
                 f"(goal <= {GOALS['refresh_ms']:.0f} ms: {met(gui['refresh_ms'], GOALS['refresh_ms'])}); "
                 f"{conditions.get('refresh_plot_paints_per_frame', 0):.1f} panels painted a frame on average "
                 f"(the window fits them to a {conditions.get('frame_budget_ms', 8):.0f} ms budget); "
                 f"all six at once: {gui['all_panels_refresh_ms']:.1f} ms")
    early, late = conditions.get("memory_steps", (10_000, 100_000))
    lines.append(f"  memory growth from {early:,} to {late:,} steps: {gui['memory_growth_mb']:.1f} MB, "
                 f"history {gui['history_mb']:.1f} MB "
                 f"(goal: flat within {GOALS['memory_growth_mb']:.0f} MB: "
                 f"{met(gui['memory_growth_mb'], GOALS['memory_growth_mb'])})")
    lines.append(f"  first paint: {gui['first_paint_ms']:.0f} ms from launch "
                 f"(median of {conditions.get('first_paint_launches', 1)}), torch imported before it: "
                 f"{'yes' if gui['torch_imported_before_first_paint'] else 'no'}")
    return "\n".join(lines)
