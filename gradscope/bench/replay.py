"""`gradscope bench --replay`: opening and scrubbing a long recorded session in the window.

A 10,000-step session of an LSTM (H=64, T=200, probed every 20th step, with every gate) is
written with the engine's own writer from synthetic records (`gui_records.SyntheticRun`),
then opened in the window offscreen:

- `open_ms`: from File > Open to the first painted frame of all panels (the window is up);
- `seek_ms`: a seek to a random step plus the repaint of every panel, over many seeks;
- `repaint_ms`, side by side with each seek: every panel redrawn at the same step without one,
  and `seek_over_repaint`, the ratio (what seeking adds to drawing, less at the mercy of a
  machine whose speed varies).
"""
from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path

OPEN_GOAL_MS = 1000.0
SEEK_GOAL_MS = 50.0


def measure(quick: bool, say) -> dict:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    from gradscope.bench.window import PaintCounter, close_window, frame, open_window
    from gradscope.bench.gui_records import write_session
    from gradscope.ui.app import create_application

    steps = 1_000 if quick else 10_000
    app = create_application()
    with tempfile.TemporaryDirectory(prefix="gradscope-bench-replay-") as folder:
        folder = Path(folder)
        path = folder / "long.gscope"
        say(f"writing a {steps:,}-step session (LSTM H=64, T=200, probed every 20th step)...")
        size = write_session(path, steps, probe_every=20)
        window = open_window(folder, "replay", None)
        counter = PaintCounter(window)
        QApplication.processEvents()
        try:
            opens = []
            for _ in range(3):
                began = time.perf_counter()
                if not window.open_file(path):
                    raise RuntimeError(f"bench --replay: the window refused the session: {window.errors[-1:]}")
                frame(window, counter, everything=True)
                opens.append((time.perf_counter() - began) * 1000)
                window.lab.new_live_session()
            window.open_file(path)
            frame(window, counter, everything=True)
            say("seeking...")
            import numpy as np

            rng = np.random.default_rng(0)
            seeks, repaints = [], []
            for step in rng.integers(0, steps, 10 if quick else 40):
                began = time.perf_counter()
                window.lab.seek(int(step))
                frame(window, counter, everything=True)
                seeks.append((time.perf_counter() - began) * 1000)
                # side by side: every panel redrawn and repainted at the same step, no seek; on a
                # machine slowed down by its neighbours both figures grow, their ratio much less
                for panel in window.panels.values():
                    panel.invalidate()
                began = time.perf_counter()
                frame(window, counter, everything=True)
                repaints.append((time.perf_counter() - began) * 1000)
            app.processEvents()
        finally:
            close_window(window)
    seeks.sort()
    return {
        "session": f"{steps:,} steps, LSTM H=64 T=200, probed every 20th step, {size / 1e6:.0f} MB",
        "open_ms": round(opens[0], 1), "open_median_ms": round(statistics.median(opens), 1),
        "seek_ms": round(statistics.median(seeks), 1), "seek_p90_ms": round(seeks[int(0.9 * (len(seeks) - 1))], 1),
        "seek_max_ms": round(seeks[-1], 1), "seeks": len(seeks),
        "repaint_ms": round(statistics.median(repaints), 1),
        "seek_over_repaint": round(statistics.median(seeks) / statistics.median(repaints), 2),
        "open_goal_ms": OPEN_GOAL_MS, "seek_goal_ms": SEEK_GOAL_MS,
    }


def format_results(replay: dict) -> str:
    def met(value: float, goal: float) -> str:
        return "met" if value <= goal else "MISSED"

    return "\n".join([
        f"replay of a session of {replay['session']} (offscreen):",
        f"  open to the first painted frame: {replay['open_ms']:.0f} ms (median of 3: {replay['open_median_ms']:.0f} ms; "
        f"goal <= {replay['open_goal_ms']:.0f} ms: {met(replay['open_ms'], replay['open_goal_ms'])})",
        f"  seek and repaint every panel: median {replay['seek_ms']:.1f} ms, p90 {replay['seek_p90_ms']:.1f} ms, "
        f"max {replay['seek_max_ms']:.1f} ms over {replay['seeks']} seeks (goal <= {replay['seek_goal_ms']:.0f} ms: "
        f"{met(replay['seek_ms'], replay['seek_goal_ms'])})",
        f"  beside it, redrawing every panel at the same step without a seek: median {replay['repaint_ms']:.1f} ms "
        f"(a seek costs {replay['seek_over_repaint']:.2f}x that)",
    ])
