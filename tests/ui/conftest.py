"""Qt test rules (napari's): a test that leaves a QThread or a training process running fails."""
from __future__ import annotations

import multiprocessing

import pytest
from shiboken6 import isValid

pytest.importorskip("pytestqt")

from gradscope.ui import worker as worker_module  # noqa: E402


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
