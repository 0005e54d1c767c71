"""Starting the window: the QApplication, the look, the main window, the event loop.

torch is never imported in this process: training and probes live in the worker's child
process, so the window paints its first frame without waiting for torch.
"""
from __future__ import annotations

import contextlib
import json
import os
import sys
import time

STARTED = time.perf_counter()


def create_application(argv: list[str] | None = None):
    from PySide6.QtGui import QFont
    from PySide6.QtWidgets import QApplication

    from gradscope.ui import theme
    from gradscope.ui.qt_noise import drop_offscreen_noise

    app = QApplication.instance() or QApplication(argv if argv is not None else sys.argv[:1])
    app.setApplicationName("gradscope")
    app.setOrganizationName("gradscope")
    font = QFont(app.font())
    font.setPointSize(theme.FONT_POINTS)
    app.setFont(font)
    theme.configure()
    drop_offscreen_noise()          # the window, the benches and the exports alike
    collect_garbage_in_this_thread(app)
    return app


def collect_garbage_in_this_thread(app) -> None:
    """Python's cyclic collector runs in whichever thread happens to allocate when a threshold
    is crossed. A cycle holding a Qt object (a panel's closure, a widget a test made) would then
    run its C++ destructor in the layer-table worker or a probe thread, and Qt objects die in
    their own thread or the process crashes: a segfault later, in an unrelated paint or delete.
    pyqtgraph's GarbageCollector switches automatic collection off and collects on a timer in the
    GUI thread, with the collector's own thresholds; `collect_now` runs the same check between
    steps that do not spin the event loop."""
    if getattr(app, "gradscope_collector", None) is None:
        from pyqtgraph.util.garbage_collector import GarbageCollector

        app.gradscope_collector = GarbageCollector(interval=1.0)


def collect_now() -> None:
    """The GUI-thread collector's check, at once (a no-op before `create_application`)."""
    from PySide6.QtWidgets import QApplication

    collector = getattr(QApplication.instance(), "gradscope_collector", None)
    if collector is not None:
        collector.check()


def run_gui(sessions_dir: str = "sessions", exit_after_first_paint: bool = False, open_path: str | None = None) -> int:
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY") \
            and not os.environ.get("QT_QPA_PLATFORM"):
        print("gradscope: no display found (DISPLAY is not set). Run it on a desktop, under xvfb-run, "
              "or set QT_QPA_PLATFORM=offscreen.", file=sys.stderr)
        return 2
    app = create_application()
    from PySide6.QtCore import QEvent, QObject, QTimer

    from gradscope.ui.main_window import MainWindow

    window = MainWindow(sessions_dir=sessions_dir)      # sized to fit the screen
    if exit_after_first_paint:
        class FirstPaint(QObject):
            def eventFilter(self, watched, event):
                if event.type() == QEvent.Type.Paint and not getattr(self, "seen", False):
                    self.seen = True
                    report = {"first_paint_ms": round((time.perf_counter() - STARTED) * 1000, 1),
                              "torch_imported": "torch" in sys.modules}
                    print(json.dumps(report), flush=True)
                    QTimer.singleShot(0, window.close)
                return False

        watcher = FirstPaint(window)
        window.installEventFilter(watcher)
        for panel in window.panels.values():
            panel.graphics.viewport().installEventFilter(watcher)
    window.show()
    if open_path is not None:
        window.open_file(open_path)
    with closing_on_terminate(app):
        code = app.exec()
    window.deleteLater()
    return code


@contextlib.contextmanager
def closing_on_terminate(app):
    """While inside, SIGTERM closes every window as File > Quit does: the lab stops the run,
    commits it and ends the training process, and the event loop returns. Without this, SIGTERM
    kills the process outright and its child is left to notice on its own.

    Qt's event loop runs in C++, where a Python signal handler waits until Python code runs
    again (at the next slot, which may be long). The interpreter's C-level handler writes the
    signal's number into a socket at once (`signal.set_wakeup_fd`), and a QSocketNotifier turns
    that into a call in the window's thread, where closing is safe."""
    import signal
    import socket

    from PySide6.QtCore import QSocketNotifier

    reader, writer = socket.socketpair()
    reader.setblocking(False)
    writer.setblocking(False)      # the C handler must never block
    previous_handler = signal.signal(signal.SIGTERM, lambda signum, frame: None)   # the notifier acts
    previous_fd = signal.set_wakeup_fd(writer.fileno(), warn_on_full_buffer=False)
    notifier = QSocketNotifier(reader.fileno(), QSocketNotifier.Type.Read)

    def woken() -> None:
        try:
            numbers = reader.recv(512)
        except BlockingIOError:
            return
        if signal.SIGTERM in numbers:
            app.closeAllWindows()      # the main window's closeEvent closes the lab
            app.quit()                 # and the loop ends even if another window refused

    notifier.activated.connect(woken)
    try:
        yield
    finally:
        notifier.setEnabled(False)
        signal.set_wakeup_fd(previous_fd)
        signal.signal(signal.SIGTERM, previous_handler)
        reader.close()
        writer.close()
