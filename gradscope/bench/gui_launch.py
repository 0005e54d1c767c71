"""`gradscope bench --gui`'s first-paint figure: launch `gradscope gui` as a user would, until
its first painted frame, and ask it whether torch was imported before that frame."""
from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path


# -- first paint ---------------------------------------------------------------------------------------

def measure_first_paint(folder: Path, launches: int, say) -> dict:
    say(f"bench --gui: first paint, median of {launches} launch(es) ...")
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    env["XDG_CONFIG_HOME"] = str(folder / "config")   # the launched app's QSettings land here
    package_root = str(Path(__file__).resolve().parents[2])   # found from any working directory
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_root, env.get("PYTHONPATH")]))
    walls, reported, torch_imported = [], [], []
    for launch in range(launches):
        with open(folder / f"first-paint-{launch}.stderr", "w+") as errors:
            began = time.perf_counter()
            child = subprocess.Popen([sys.executable, "-m", "gradscope", "gui", "--sessions-dir",
                                      str(folder / f"sessions-first-paint-{launch}"), "--exit-after-first-paint"],
                                     stdout=subprocess.PIPE, stderr=errors, stdin=subprocess.DEVNULL,
                                     env=env, text=True)
            try:
                report = None
                for line in child.stdout:
                    line = line.strip()
                    if line.startswith("{") and "first_paint_ms" in line:
                        walls.append((time.perf_counter() - began) * 1000.0)
                        report = json.loads(line)
                        break
                child.stdout.read()           # until the app closes its window and exits
                child.wait(timeout=60)
            finally:
                if child.poll() is None:
                    child.kill()
                    child.wait()
                child.stdout.close()
            errors.seek(0)
            stderr = errors.read()
        if report is None:
            raise RuntimeError(f"bench --gui: `gradscope gui --exit-after-first-paint` printed no report "
                               f"(exit status {child.returncode}):\n{stderr[-2000:]}")
        reported.append(float(report["first_paint_ms"]))
        torch_imported.append(bool(report["torch_imported"]))
    return {"first_paint_ms": round(statistics.median(walls), 1),
            "first_paint_reported_ms": round(statistics.median(reported), 1),
            "torch_imported_before_first_paint": any(torch_imported)}
