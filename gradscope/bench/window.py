"""The Qt plumbing the window benches (and the soak) share: running the event loop for a while
or until something holds, opening and closing a window offscreen, timing one frame, the gaps
between timer ticks, this process's memory."""
from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

TICK_MS = 16
WINDOW_SIZE = (1600, 1000)


def spin(seconds: float) -> None:
    """Let the GUI thread's event loop run for `seconds` (never sleep in the GUI thread)."""
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    QTimer.singleShot(max(0, int(seconds * 1000)), loop.quit)
    loop.exec()


def wait_until(predicate, timeout_s: float, poll_ms: int = 20) -> bool:
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


def open_window(folder: Path, name: str, config, size: tuple[int, int] = WINDOW_SIZE, training: bool = True):
    from PySide6.QtCore import QSettings

    from gradscope.ui.main_window import MainWindow

    settings = QSettings(str(folder / f"{name}.ini"), QSettings.Format.IniFormat)
    window = MainWindow(sessions_dir=folder / f"sessions-{name}", config=config, settings=settings, training=training)
    window.resize(*size)
    window.show()
    return window


def close_window(window) -> None:
    """Close: the window stops the lab's run and joins its training process."""
    from PySide6.QtCore import QCoreApplication, QEvent
    from PySide6.QtWidgets import QApplication

    window.close()
    QApplication.processEvents()
    window.settings.sync()
    window.deleteLater()
    QCoreApplication.sendPostedEvents(window, QEvent.Type.DeferredDelete)
    QApplication.processEvents()


class PaintCounter:
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
        self.window = window
        self.filter = Filter(window)
        for panel in window.panels.values():
            panel.graphics.viewport().installEventFilter(self.filter)

    def remove(self) -> None:
        for panel in self.window.panels.values():
            panel.graphics.viewport().removeEventFilter(self.filter)


def frame(window, counter: PaintCounter, everything: bool = False) -> None:
    """One frame as the GUI thread pays for it: redraw, then the paint.

    `redraw()` only feeds the plot items (setData / setImage) of the panels due this frame
    (the window spreads the six panels over frames; `everything` draws them all at once);
    pyqtgraph draws in the plot views' paint events, which the scenes' posted updates
    schedule. processEvents() delivers them and paints the dirty panels synchronously,
    exactly what the event loop does after a pump (checked: about one paint event per
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


def tick_gaps_for(seconds: float) -> dict:
    """A 16 ms precise timer in the GUI thread; the gaps between its ticks, in ms."""
    from PySide6.QtCore import Qt, QTimer

    ticks: list[float] = []
    timer = QTimer()
    timer.setTimerType(Qt.TimerType.PreciseTimer)
    timer.setInterval(TICK_MS)
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    timer.start()
    spin(seconds)
    timer.stop()
    gaps = np.diff(np.asarray(ticks)) * 1000.0
    if gaps.size == 0:   # the loop never ticked: one gap as long as the whole wait
        gaps = np.asarray([seconds * 1000.0])
    return {"tick_gap_p99_ms": round(float(np.percentile(gaps, 99)), 2),
            "tick_gap_p50_ms": round(float(np.percentile(gaps, 50)), 2),
            "tick_gap_max_ms": round(float(gaps.max()), 2)}


def rss_mb() -> float:
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


def frames_after_records(window, counter, runs: list, step: int, count: int,
                         everything: bool = False) -> tuple[list, int]:
    """`count` frames, each after a tick's records (five steps, one probed) for every run."""
    times = []
    for _ in range(count):
        for synthetic, slot in runs:
            synthetic.feed(slot.history, step, step + 5)
        step += 5
        began = time.perf_counter()
        frame(window, counter, everything=everything)
        times.append((time.perf_counter() - began) * 1000.0)
    return times, step
