"""The window gets the hostile-input suite's files too (tests/hostile/hostile_cases.py): opened
through File > Open and exported through File > Export, each gives a dialog naming the
problem, or opens (with a warning where something beside the file was set aside) and
exports; no exception reaches a slot, and the window opens a good file after each."""
from __future__ import annotations

import json
import sqlite3
import sys
from pathlib import Path

import pytest
from PySide6.QtWidgets import QFileDialog

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "hostile"))

from hostile_cases import CASES, S  # noqa: E402
import hostile_files  # noqa: E402

ON_A_FILE = {name: case for name, case in CASES.items() if S in case.command or case.api}


def triggered(menu, text: str):
    action = next(action for action in menu.actions() if action.text() == text)
    action.trigger()


@pytest.mark.timeout(300)
def test_the_hostile_files_give_the_window_a_dialog_or_a_file_it_can_show_and_export(
        qtbot, replay_only_window, tmp_path, monkeypatch):
    window = replay_only_window
    good = tmp_path / "good.gscope"
    good.write_bytes(hostile_files.recording())
    chosen: dict[str, str] = {}
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *args, **kwargs: (chosen["open"], ""))
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *args, **kwargs: (chosen["save"], ""))
    seen = {"refused": [], "opened": [], "export refused": [], "warned": []}
    assert len(ON_A_FILE) >= 15
    for index, (name, case) in enumerate(ON_A_FILE.items()):
        folder = tmp_path / f"case{index:02d}"
        folder.mkdir()
        case.prepare(folder)
        errors, notices = len(window.errors), len(window.notices)
        chosen["open"], chosen["save"] = str(folder / "s.gscope"), str(folder / "out.npz")
        with qtbot.capture_exceptions() as raised:
            window.open_action.trigger()
            if len(window.errors) > errors:
                assert len(window.errors) == errors + 1, name
                assert "s.gscope" in window.errors[-1] and window.error_dialog.isVisible(), name
                seen["refused"].append(name)
            else:
                assert window.lab.kind == "recorded", name
                seen["opened"].append(name)
                if len(window.notices) > notices:
                    seen["warned"].append(name)
                window.redraw(everything=True)
                triggered(window.export_menu, "Run's series as NPZ…")
                if len(window.errors) > errors:
                    assert window.error_dialog.isVisible() and not (folder / "out.npz").exists(), name
                    seen["export refused"].append(name)
                else:
                    assert (folder / "out.npz").stat().st_size > 0, name
        assert not raised, f"{name}: {raised}"
        chosen["open"] = str(good)
        window.open_action.trigger()
        assert window.lab.kind == "recorded" and window.lab.current.last_step == 11, f"after {name}"
    # what the suite's command line refuses to read, the window refuses to show (a fork's
    # damage does not stop a replay)
    assert {"one row of bool[2000000]", "step_jacobian_norm declared [2,5]", "per-timestep arrays declared []",
            "created inf, --json", "a zero-element shape of 31 dims",
            "an overflow loop, sparse (export)"} <= set(seen["refused"]), seen
    assert {"a junk -journal (info)", "a -wal of another session", "a damaged -wal"} <= set(seen["warned"]), seen


@pytest.mark.parametrize("kind, saved, line", [
    ("write_failed", "steps up to 41", "step 42: NOT SAVED FROM HERE (steps up to 41 saved)"),
    ("interrupted", "steps up to 41", "step 42: interrupted (steps up to 41 saved)"),
])
def test_the_timeline_lists_where_a_file_stops_being_saved(replay_only_window, tmp_path, monkeypatch, kind, saved,
                                                           line):
    path = tmp_path / "stopped.gscope"
    path.write_bytes(hostile_files.recording())
    db = sqlite3.connect(path)
    with db:
        db.execute("INSERT INTO event (run_id, step, kind, detail, wall_time) VALUES (0, 42, ?, ?, 0)",
                   (kind, json.dumps({"error": "database or disk is full", "last_saved_step": 41, "saved": saved})))
    db.close()
    window = replay_only_window
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *args, **kwargs: (str(path), ""))
    window.open_action.trigger()
    texts = [window.timeline.events.item(i).text() for i in range(window.timeline.events.count())]
    assert line in texts, texts
