"""`gradscope gui` with no display says so in one line and exits 2 (the README's
troubleshooting): no Qt abort, no traceback, no window half made."""
import os
import subprocess
import sys


def test_gui_without_a_display_is_one_line_and_exit_2(tmp_path):
    env = {key: value for key, value in os.environ.items()
           if key not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    result = subprocess.run([sys.executable, "-m", "gradscope", "gui"], cwd=tmp_path, env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "no display" in lines[0] and "xvfb-run" in lines[0], result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""
    assert not (tmp_path / "sessions").exists()          # nothing made before it stopped
