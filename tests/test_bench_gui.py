"""`gradscope bench --gui --quick --json` runs end to end in this process (on the QApplication
pytest-qt made, if it made one), names every figure with its unit, and leaves no window,
worker thread or training process behind. Figures are reported, never asserted: no timing
thresholds here."""
from __future__ import annotations

import json
import math
import multiprocessing

import pytest

pytest.importorskip("PySide6")

from gradscope.cli import main  # noqa: E402

TICK_FIGURES = ("tick_gap_p99_ms", "tick_gap_p50_ms", "tick_gap_max_ms")
MODELS = ("lstm_H128_T100", "lstm_H32_T20")
COMPARED = ("lockstep_one_process", "one_process_per_run")
PRESENTED = "presentation_lstm_H128_T100"


def _positive(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and value > 0


@pytest.mark.timeout(400)
def test_gui_bench_quick_reports_every_figure(capsys):
    from PySide6.QtWidgets import QApplication

    from gradscope.ui.main_window import MainWindow

    assert main(["bench", "--gui", "--quick", "--json"]) == 0
    figures = json.loads(capsys.readouterr().out)
    assert set(figures) == {"gui"}            # the engine bench did not run
    gui = figures["gui"]
    assert set(gui["tick_gap"]) == {"idle", *MODELS, *COMPARED, PRESENTED}
    for name in TICK_FIGURES:
        assert _positive(gui["tick_gap"]["idle"][name]), ("idle", name)
    for model in (*MODELS, PRESENTED):
        for name in TICK_FIGURES + ("steps_per_s",):
            assert _positive(gui["tick_gap"][model][name]), (model, name)
    for runs in ("one_run", "three_runs"):                # thick lines against thin, at 1280x720
        figure = gui["presentation_refresh"][runs]
        assert _positive(figure["desk_ms"]) and _positive(figure["presentation_ms"])
        assert figure["presentation_over_desk"] == pytest.approx(figure["presentation_ms"] / figure["desk_ms"],
                                                                 rel=0.02)
    for way in COMPARED:
        for name in TICK_FIGURES + ("steps_per_s_each",):
            assert _positive(gui["tick_gap"][way][name]), (way, name)
    for name in ("refresh_ms", "refresh_p90_ms", "all_panels_refresh_ms", "refresh_3_runs_ms",
                 "refresh_3_runs_p90_ms", "all_panels_3_runs_refresh_ms", "history_mb", "first_paint_ms"):
        assert _positive(gui[name]), name
    cost = gui["lockstep"]
    assert _positive(cost["lockstep_s"]) and _positive(cost["sequential_s"])
    assert cost["lockstep_over_sequential"] == pytest.approx(cost["lockstep_s"] / cost["sequential_s"], rel=0.02)
    assert isinstance(gui["memory_growth_mb"], float) and math.isfinite(gui["memory_growth_mb"])
    assert isinstance(gui["torch_imported_before_first_paint"], bool)
    reference = gui["machine_reference"]                  # the machine's speed, beside the frames
    assert _positive(reference["paint_ms_start"]) and _positive(reference["paint_ms_end"])
    paint_ms = (reference["paint_ms_start"] + reference["paint_ms_end"]) / 2
    ratios = gui["frames_over_reference"]
    assert ratios["refresh_3_runs"] == pytest.approx(gui["refresh_3_runs_ms"] / paint_ms, rel=0.02, abs=0.01)
    assert ratios["presentation_3_runs"] == pytest.approx(
        gui["presentation_refresh"]["three_runs"]["presentation_ms"] / paint_ms, rel=0.02, abs=0.01)

    # every window closed: no worker thread, no training process outlives the bench
    assert not [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible()]
    assert multiprocessing.active_children() == []


def test_gui_bench_text_names_the_goals():
    from gradscope.bench.gui import format_results

    tick = {"tick_gap_p99_ms": 20.0, "tick_gap_p50_ms": 16.0, "tick_gap_max_ms": 30.0}
    text = format_results({"tick_gap": {"idle": tick, **{m: {**tick, "steps_per_s": 100.0} for m in MODELS},
                                        **{w: {**tick, "steps_per_s_each": 30.0} for w in COMPARED}},
                           "refresh_ms": 5.0, "refresh_p90_ms": 7.0, "all_panels_refresh_ms": 20.0,
                           "refresh_3_runs_ms": 8.0, "refresh_3_runs_p90_ms": 9.0, "all_panels_3_runs_refresh_ms": 40.0,
                           "presentation_refresh": {"one_run": {"desk_ms": 4.0, "presentation_ms": 6.0,
                                                                "presentation_over_desk": 1.5}},
                           "lockstep": {"steps_each": 60, "lockstep_s": 2.1, "sequential_s": 2.0,
                                        "lockstep_over_sequential": 1.05},
                           "memory_growth_mb": 3.0, "history_mb": 9.0,
                           "first_paint_ms": 900.0, "torch_imported_before_first_paint": False,
                           "machine_reference": {"paint_ms_start": 2.0, "paint_ms_end": 3.0},
                           "frames_over_reference": {"refresh": 2.0, "refresh_3_runs": 3.2,
                                                     "presentation_3_runs": 2.8}})
    for goal in ("p99 <= 40 ms", "goal <= 10 ms", "flat within 100 MB", "goal <= 1.10x: met"):
        assert goal in text
    assert "three LSTMs H=64 T=50, 30 steps/s each" in text and "three such runs" in text
    assert "lstm_H128_T100" in text and "torch imported before it: no" in text
    assert "all six at once: 20.0 ms" in text
    assert "desk 4.0 ms against presentation 6.0 ms" in text and "1.50x" in text
    assert "took 2.00 ms at the start and 3.00 ms at the end" in text and "three runs 3.20" in text


def test_the_machine_reference_paints_its_lines_and_labels(qapp):
    """The fixed paint really draws: its thick lines and labels cover the image it paints into,
    the same pixels every time (so every timing is of the same work)."""
    import numpy as np
    from PySide6.QtGui import QImage

    from gradscope.bench import reference

    lines = reference._polylines(np.random.default_rng(0))
    assert len(lines) == reference.LINES and all(line.size() == reference.POINTS for line in lines)
    pictures = []
    for _ in range(2):
        image = QImage(*reference.IMAGE_PX, QImage.Format.Format_ARGB32_Premultiplied)
        reference.paint_once(image, lines)
        pictures.append(np.frombuffer(image.constBits(), np.uint32).copy())
    inked = np.count_nonzero(pictures[0] != 0xFFFFFFFF)
    width, height = reference.IMAGE_PX
    # each 3 px line, some 600 px long, covers at least ~1,500 px, and the labels some more
    assert inked > reference.LINES * 1_500 and inked < width * height / 2
    assert np.array_equal(pictures[0], pictures[1])
    assert reference.paint_reference_ms(repeats=3) > 0


@pytest.mark.timeout(300)
def test_replay_bench_quick_reports_every_figure(capsys):
    from gradscope.bench.replay import format_results

    assert main(["bench", "--replay", "--quick", "--json"]) == 0
    replay = json.loads(capsys.readouterr().out)["replay"]
    for name in ("open_ms", "open_median_ms", "seek_ms", "seek_p90_ms", "seek_max_ms", "repaint_ms",
                 "seek_over_repaint"):
        assert _positive(replay[name]), name
    assert replay["seeks"] == 10 and replay["seek_p90_ms"] <= replay["seek_max_ms"]
    assert replay["seek_over_repaint"] == pytest.approx(replay["seek_ms"] / replay["repaint_ms"], rel=0.05)
    text = format_results(replay)
    for goal in ("goal <= 1000 ms", "goal <= 50 ms", "without a seek"):
        assert goal in text
    assert multiprocessing.active_children() == []
