"""`gradscope bench --gui`: what the live lab's window costs, measured offscreen.

Figures, each with its unit in its name, reported and never asserted:

* tick gaps: a 16 ms timer in the GUI thread records the gaps between its ticks, with the
  window idle, while the window's own training process trains one model at full speed, and
  while three LSTMs train side by side, in lockstep in one process and in a process each
  (`gradscope.bench.lockstep`; the goal: p99 within 40 ms, 33 ms at best);
* refresh: one frame (new records, `redraw`, the paint) with 10,000 steps of an LSTM run at
  T=200 in the history, and with three such runs side by side (the goal: within 10 ms);
* the lockstep's cost: three runs trained round-robin against one after the other (the goal:
  at most 1.10 times);
* memory: the growth of this process's RSS from 10,000 to 100,000 steps fed through the lab
  (the goal: flat within 100 MB), and what the history itself holds;
* the image panels: the Filters panel with 64 filters and the Images panel with six conv
  layers' feature maps, each redrawn with a new probe (`gradscope.bench.image_panels`; the
  goal: within 10 ms);
* first paint: launching `gradscope gui` to its first painted frame, and whether torch was
  imported before it (it should not be);
* the machine: a fixed paint with no gradscope code in it (`gradscope.bench.reference`), timed
  at the start and at the end, and the frames as multiples of it, so that a slow spell of the
  machine is told from a slower frame.

Everything runs offscreen, on a temporary settings file and sessions folder (the launched
app's QSettings go to a temporary XDG_CONFIG_HOME), and the window is closed at the end, which
stops its training process.
"""
from __future__ import annotations

import gc
import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from gradscope.bench.gui_launch import measure_first_paint
from gradscope.bench import image_panels
from gradscope.bench.gui_records import SyntheticRun
from gradscope.bench.lockstep import comparison_ticks, lockstep_cost
from gradscope.bench.reference import paint_reference_ms
from gradscope.bench.presentation import PRESENTATION_SIZE, desk_against_presentation, presentation_ticks
from gradscope.bench.window import (TICK_MS, WINDOW_SIZE, PaintCounter, close_window, frame, frames_after_records,
                                    open_window, rss_mb, spin, tick_gaps_for, wait_until)

GOALS = {"tick_gap_p99_ms": 40.0, "refresh_ms": 10.0, "memory_growth_mb": 100.0, "lockstep_over_sequential": 1.10}
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
    reference_start = paint_reference_ms()
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
    say("bench --gui: three runs trained in lockstep against one after the other ...")
    cost = lockstep_cost(quick)
    images = image_panels.measure(quick, say)
    reference = {"paint_ms_start": round(reference_start, 3), "paint_ms_end": round(paint_reference_ms(), 3)}
    return {
        "tick_gap": tick_gap,
        "refresh_ms": refresh["refresh_ms"],
        "refresh_p90_ms": refresh["refresh_p90_ms"],
        "all_panels_refresh_ms": refresh["all_panels_refresh_ms"],
        "refresh_3_runs_ms": refresh["refresh_3_runs_ms"],
        "refresh_3_runs_p90_ms": refresh["refresh_3_runs_p90_ms"],
        "all_panels_3_runs_refresh_ms": refresh["all_panels_3_runs_refresh_ms"],
        "presentation_refresh": refresh["presentation"],
        "lockstep": cost,
        "image_panels": images,
        "memory_growth_mb": memory["memory_growth_mb"],
        "history_mb": memory["history_mb"],
        "first_paint_ms": first_paint["first_paint_ms"],
        "torch_imported_before_first_paint": first_paint["torch_imported_before_first_paint"],
        "machine_reference": reference,
        "frames_over_reference": _over_reference(refresh, reference),
        "conditions": {
            "quick": quick,
            "window": f"{WINDOW_SIZE[0]}x{WINDOW_SIZE[1]}, offscreen, the default layout (two panels on the stage)",
            "presentation_window": f"{PRESENTATION_SIZE[0]}x{PRESENTATION_SIZE[1]}, the presentation look and "
                                   "controls hidden (offscreen has no projector to fill)",
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


def _over_reference(refresh: dict, reference: dict) -> dict:
    """The frames as multiples of the fixed paint (the mean of its two timings)."""
    paint_ms = max((reference["paint_ms_start"] + reference["paint_ms_end"]) / 2.0, 1e-6)
    frames = {"refresh": refresh["refresh_ms"], "refresh_3_runs": refresh["refresh_3_runs_ms"],
              "presentation_3_runs": refresh["presentation"]["three_runs"]["presentation_ms"]}
    return {name: round(ms / paint_ms, 3) for name, ms in frames.items()}


def _wait_ready(window, what: str) -> None:
    if not wait_until(lambda: window.lab.live.ready or window.errors, READY_TIMEOUT_S):
        raise RuntimeError(f"bench --gui: the training process did not start within {READY_TIMEOUT_S:.0f} s ({what})")
    if window.errors:
        raise RuntimeError(f"bench --gui: the training process failed ({what}):\n{window.errors[-1]}")


# -- tick gaps -------------------------------------------------------------------------------------

def _window_figures(folder: Path, sizes: dict, say) -> tuple[dict, dict, dict]:
    """One window, as a lecturer uses it: first idle (the baseline, then the history figures
    on synthetic runs while its training process idles), then Run with the first model, then
    the second model's settings shown and a new run started in the same session (what
    changing a shape setting while training does)."""
    from gradscope.config import RunConfig

    seconds = sizes["tick_seconds"]
    configs = {name: RunConfig(**settings) for name, settings in MODELS.items()}
    ticks: dict[str, dict] = {}
    window = open_window(folder, "bench", next(iter(configs.values())))
    try:
        _wait_ready(window, "startup")    # the training process's start must not share the CPU
        spin(0.5)                        # the first paints and layout settle
        say(f"bench --gui: tick gaps with the window idle ({seconds:g} s) ...")
        ticks["idle"] = tick_gaps_for(seconds)
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
            if index == 0:
                say(f"bench --gui: tick gaps in presentation mode at 1280x720 while {name} trains ({seconds:g} s) ...")
                ticks[f"presentation_{name}"] = presentation_ticks(window, seconds)
        window.lab.pause()
        ticks.update(comparison_ticks(window, seconds, say))
    finally:
        close_window(window)
    return ticks, refresh, memory


def _training_ticks(window, name: str, previous, seconds: float) -> dict:
    def flowing() -> bool:
        run = window.lab.current
        return run is not None and run is not previous and run.last_step > RECORDS_FLOWING_STEPS

    if not wait_until(lambda: window.errors or flowing(), READY_TIMEOUT_S):
        raise RuntimeError(f"bench --gui: no records from {name} within {READY_TIMEOUT_S:.0f} s")
    if window.errors:
        raise RuntimeError(f"bench --gui: training {name} failed:\n{window.errors[-1]}")
    run = window.lab.current
    first_step, began = run.last_step, time.perf_counter()
    figures = tick_gaps_for(seconds)
    elapsed = time.perf_counter() - began
    figures["steps_per_s"] = round((run.last_step - first_step) / elapsed, 1)
    return figures


def _history_figures(window, sizes: dict, say) -> tuple[dict, dict]:
    """Refresh and memory on synthetic runs fed straight into the window's lab (no training);
    the lab is emptied again afterwards."""
    from gradscope.config.comparison import difference_labels
    from gradscope.ui.frames import FRAME_BUDGET_MS

    counter = PaintCounter(window)
    lab = window.lab
    try:
        fill = sizes["refresh_fill_steps"]
        say(f"bench --gui: refresh with {fill:,} steps in the history ...")
        synthetic = SyntheticRun()
        runs = [(synthetic, synthetic.slot())]
        lab.show_slots([runs[0][1]], live=False)
        synthetic.feed(runs[0][1].history, 0, fill)
        _, step = frames_after_records(window, counter, runs, fill, 3)      # the first frames build the gate plots and caches
        paints = counter.paints
        frames, step = frames_after_records(window, counter, runs, step, sizes["refresh_frames"])
        paints_per_frame = (counter.paints - paints) / len(frames)
        whole, step = frames_after_records(window, counter, runs, step, sizes["refresh_frames"], everything=True)
        say("bench --gui: one frame at 1280x720, at the desk and in presentation mode, side by side ...")
        presented, step = desk_against_presentation(window, counter, runs, step, sizes["refresh_frames"])

        say(f"bench --gui: refresh with three runs of {fill:,} steps side by side ...")
        sources = [SyntheticRun(seed=seed) for seed in range(3)]
        configs = [source.config.replace(lr=lr) for source, lr in zip(sources, (1e-3, 3e-3, 1e-2))]
        labels = difference_labels(configs)
        runs = [(source, source.slot(index, labels[index])) for index, source in enumerate(sources)]
        lab.show_slots([slot for _, slot in runs], live=False)
        for source, slot in runs:
            source.feed(slot.history, 0, fill)
        _, step = frames_after_records(window, counter, runs, fill, 3)
        three, step = frames_after_records(window, counter, runs, step, sizes["refresh_frames"])
        three_whole, step = frames_after_records(window, counter, runs, step, sizes["refresh_frames"], everything=True)
        presented_three, step = desk_against_presentation(window, counter, runs, step, sizes["refresh_frames"])
        refresh = {"refresh_ms": round(statistics.median(frames), 2),
                   "refresh_p90_ms": round(float(np.percentile(frames, 90)), 2),
                   "all_panels_refresh_ms": round(statistics.median(whole), 2),
                   "refresh_3_runs_ms": round(statistics.median(three), 2),
                   "refresh_3_runs_p90_ms": round(float(np.percentile(three, 90)), 2),
                   "all_panels_3_runs_refresh_ms": round(statistics.median(three_whole), 2),
                   "presentation": {"one_run": presented, "three_runs": presented_three},
                   "paints_per_frame": round(paints_per_frame, 2),
                   "frame_budget_ms": FRAME_BUDGET_MS}

        early, late = sizes["memory_steps"]
        say(f"bench --gui: memory from {early:,} to {late:,} steps ...")
        synthetic = SyntheticRun()
        slot = synthetic.slot()
        lab.show_slots([slot], live=False)
        rss = {}
        for start in range(0, late, 1000):
            synthetic.feed(slot.history, start, start + 1000)
            frame(window, counter)
            if start + 1000 in (early, late):
                gc.collect()
                rss[start + 1000] = rss_mb()
        memory = {"memory_growth_mb": round(rss[late] - rss[early], 1),
                  "history_mb": round(slot.history.nbytes / 1e6, 2),
                  "rss_mb": {f"{steps}_steps": round(value, 1) for steps, value in rss.items()}}
    finally:
        counter.remove()
        lab.show_slots([], live=False)     # the real runs that follow start from an empty lab
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
        line = (f"    {name:22s} {figure['tick_gap_p50_ms']:6.1f} / {figure['tick_gap_p99_ms']:6.1f} / "
                f"{figure['tick_gap_max_ms']:6.1f} ms")
        if "steps_per_s" in figure and name.startswith("presentation_"):
            line += (f"   presentation mode at 1280x720, training {figure['steps_per_s']:.0f} steps/s   "
                     f"{met(figure['tick_gap_p99_ms'], goal)}")
        elif "steps_per_s" in figure:
            line += f"   training {figure['steps_per_s']:.0f} steps/s   {met(figure['tick_gap_p99_ms'], goal)}"
        elif "steps_per_s_each" in figure:
            line += (f"   three LSTMs H=64 T=50, {figure['steps_per_s_each']:.0f} steps/s each   "
                     f"{met(figure['tick_gap_p99_ms'], goal)}")
        else:
            line += "   (baseline, no training)"
        lines.append(line)
    conditions = gui.get("conditions", {})
    steps = conditions.get("refresh_history_steps", 10_000)
    lines.append(f"  one frame with {steps:,} steps of LSTM H=64 T=200 "
                 f"in the history: median {gui['refresh_ms']:.1f} ms, p90 {gui['refresh_p90_ms']:.1f} ms "
                 f"(goal <= {GOALS['refresh_ms']:.0f} ms: {met(gui['refresh_ms'], GOALS['refresh_ms'])}); "
                 f"{conditions.get('refresh_plot_paints_per_frame', 0):.1f} panels painted a frame on average "
                 f"(the window fits them to a {conditions.get('frame_budget_ms', 8):.0f} ms budget); "
                 f"all six at once: {gui['all_panels_refresh_ms']:.1f} ms")
    lines.append(f"  one frame with three such runs of {steps:,} steps side by side: median "
                 f"{gui['refresh_3_runs_ms']:.1f} ms, p90 {gui['refresh_3_runs_p90_ms']:.1f} ms (goal <= "
                 f"{GOALS['refresh_ms']:.0f} ms: {met(gui['refresh_3_runs_ms'], GOALS['refresh_ms'])}); all six "
                 f"panels at once: {gui['all_panels_3_runs_refresh_ms']:.1f} ms")
    for runs, figure in gui["presentation_refresh"].items():
        lines.append(f"  one frame at 1280x720 ({runs.replace('_', ' ')}), desk {figure['desk_ms']:.1f} ms against "
                     f"presentation {figure['presentation_ms']:.1f} ms (thick lines, bigger type): "
                     f"{figure['presentation_over_desk']:.2f}x (goal <= {GOALS['refresh_ms']:.0f} ms: "
                     f"{met(figure['presentation_ms'], GOALS['refresh_ms'])})")
    cost = gui["lockstep"]
    lines.append(f"  three LSTMs H=64 T=50, {cost['steps_each']} steps each: in lockstep {cost['lockstep_s']:.2f} s, "
                 f"one after the other {cost['sequential_s']:.2f} s: {cost['lockstep_over_sequential']:.3f}x "
                 f"(goal <= {GOALS['lockstep_over_sequential']:.2f}x: "
                 f"{met(cost['lockstep_over_sequential'], GOALS['lockstep_over_sequential'])})")
    if "image_panels" in gui:
        lines += image_panels.format_lines(gui["image_panels"])
    early, late = conditions.get("memory_steps", (10_000, 100_000))
    lines.append(f"  memory growth from {early:,} to {late:,} steps: {gui['memory_growth_mb']:.1f} MB, "
                 f"history {gui['history_mb']:.1f} MB "
                 f"(goal: flat within {GOALS['memory_growth_mb']:.0f} MB: "
                 f"{met(gui['memory_growth_mb'], GOALS['memory_growth_mb'])})")
    lines.append(f"  first paint: {gui['first_paint_ms']:.0f} ms from launch "
                 f"(median of {conditions.get('first_paint_launches', 1)}), torch imported before it: "
                 f"{'yes' if gui['torch_imported_before_first_paint'] else 'no'}")
    if "machine_reference" in gui:
        reference, ratios = gui["machine_reference"], gui["frames_over_reference"]
        lines.append(f"  the machine: a fixed paint (no gradscope code) took {reference['paint_ms_start']:.2f} ms at the "
                     f"start and {reference['paint_ms_end']:.2f} ms at the end; the frames in multiples of it: one run "
                     f"{ratios['refresh']:.2f}, three runs {ratios['refresh_3_runs']:.2f}, three runs in presentation "
                     f"mode {ratios['presentation_3_runs']:.2f} (a slow spell of the machine raises the paint with the frames)")
    return "\n".join(lines)
