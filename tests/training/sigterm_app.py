"""The real app for tests/training/test_sigterm.py: `gradscope gui --sessions-dir DIR`, through
the command line's own `main`, with Run pressed through its QAction as soon as the window is up.

Once the window has shown five steps it prints one JSON line on stdout: the training process's
pid and the last step shown. With SIGTERM_TEST_HEAVY_STEP=MARKER set, the training process
(which imports this file as `__mp_main__`, multiprocessing's spawn) instead writes its pid into
MARKER and sleeps ten minutes in step 5, as a long step inside torch's C++ code would hold it.
"""
from __future__ import annotations

import json
import os
import pathlib
import sys
import time

MARKER = os.environ.get("SIGTERM_TEST_HEAVY_STEP")

if __name__ == "__mp_main__" and MARKER:       # the training process
    from gradscope.training import trainer

    plain_step = trainer.Trainer._step

    def heavy_step(self, due):
        if self.step_index == 5:
            pathlib.Path(MARKER).write_text(str(os.getpid()))
            time.sleep(600)
        plain_step(self, due)

    trainer.Trainer._step = heavy_step


def main() -> int:
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from gradscope.cli import main as gradscope
    from gradscope.ui.app import create_application

    app = create_application()      # run_gui takes this one: QApplication.instance()
    pressed, told = [], []

    def poll():
        from gradscope.ui.main_window import MainWindow

        windows = [widget for widget in QApplication.topLevelWidgets() if isinstance(widget, MainWindow)]
        if not windows:
            return
        window = windows[0]
        if not pressed:
            pressed.append(True)
            window.run_action.trigger()
        if window.lab.cursor >= 5 and not told:
            told.append(True)
            print(json.dumps({"trainer": window.lab.live.process.pid, "shown": window.lab.cursor}), flush=True)

    timer = QTimer(app)
    timer.timeout.connect(poll)
    timer.start(50)
    return gradscope(["gui", "--sessions-dir", sys.argv[1]])


if __name__ == "__main__":
    sys.exit(main())
