"""Qt test rules (napari's): a test that leaves a QThread or a training process running fails."""
from __future__ import annotations

import multiprocessing

import pytest
from shiboken6 import isValid

pytest.importorskip("pytestqt")

from PySide6.QtCore import QCoreApplication, QEvent, QSettings  # noqa: E402

from gradscope.config import RunConfig  # noqa: E402
from gradscope.ui import worker as worker_module  # noqa: E402
from gradscope.ui.app import create_application  # noqa: E402
from gradscope.ui.main_window import MainWindow  # noqa: E402


@pytest.fixture(autouse=True)
def _no_qthread_or_child_left_behind(monkeypatch):
    threads = []
    original = worker_module.WorkerThread.__init__

    def tracking_init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        threads.append(self)

    monkeypatch.setattr(worker_module.WorkerThread, "__init__", tracking_init)
    yield
    # a deleted QThread was not running: Qt aborts on deleting a running one
    running = [thread for thread in threads if isValid(thread) and thread.isRunning()]
    children = [child for child in multiprocessing.active_children() if child.name == "gradscope-trainer"]
    for thread in running:
        thread.quit()
        thread.wait(2000)
    for child in children:
        child.kill()
    assert not running, f"{len(running)} QThread(s) still running after the test"
    assert not children, f"{len(children)} training process(es) still alive after the test"


@pytest.fixture
def make_window(qtbot, tmp_path):
    create_application()
    windows = []

    def make(config: RunConfig) -> MainWindow:
        settings = QSettings(str(tmp_path / f"settings{len(windows)}.ini"), QSettings.Format.IniFormat)
        window = MainWindow(sessions_dir=tmp_path / "sessions", config=config, settings=settings)
        qtbot.addWidget(window)
        window.resize(1400, 900)
        window.show()
        windows.append(window)
        return window

    yield make
    for window in windows:
        window.close()
        assert not window.thread.isRunning()
        assert not window.worker.process.alive
        # delete the window here, deterministically, not whenever a later test collects it
        window.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    windows.clear()
