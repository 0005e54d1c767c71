"""The worker thread and the record bridge (pytest-qt, offscreen): records arrive in the GUI
thread through the timer, controls reach the trainer, closing mid-run joins the thread, and
an exception in the worker arrives as a signal with its traceback."""
from __future__ import annotations

import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import QObject, Signal, Slot  # noqa: E402

from gradscope.config import RunConfig  # noqa: E402
from gradscope.ui.bridge import RecordBridge  # noqa: E402
from gradscope.ui.buffer import RecordBuffer  # noqa: E402
from gradscope.ui.worker import TrainingWorker, WorkerThread  # noqa: E402


class Collector(QObject):
    """Lives in the GUI thread; the worker's and the bridge's signals land on its slots."""

    started = Signal(object)

    def __init__(self):
        super().__init__()
        self.records, self.events, self.states, self.failures, self.finished = [], [], [], [], []

    @Slot(list)
    def on_records(self, records):
        self.records += records

    @Slot(list)
    def on_events(self, events):
        self.events += events

    @Slot(str)
    def on_state(self, state):
        self.states.append(state)

    @Slot(str)
    def on_failed(self, text):
        self.failures.append(text)

    @Slot(str)
    def on_finished(self, state):
        self.finished.append(state)


@pytest.fixture
def lab(qtbot):
    buffer = RecordBuffer()
    bridge = RecordBridge(buffer)
    collector = Collector()
    worker = TrainingWorker(buffer)
    thread = WorkerThread()
    worker.moveToThread(thread)
    collector.started.connect(worker.train)
    bridge.records_arrived.connect(collector.on_records)
    bridge.events_arrived.connect(collector.on_events)
    bridge.state_changed.connect(collector.on_state)
    worker.run_failed.connect(collector.on_failed)
    worker.run_finished.connect(collector.on_finished)
    thread.start()
    bridge.start()
    yield collector, worker, thread, bridge
    assert thread.shutdown(worker), "the worker thread did not end within 2 s"
    bridge.stop()


def small(**changes):
    settings = dict(arch="rnn", task="adding", seq_len=8, hidden=6, batch=4, steps=30, probe_every=5)
    settings.update(changes)
    return RunConfig(**settings)


def test_records_reach_the_gui_thread_in_order(qtbot, lab):
    collector, worker, thread, bridge = lab
    collector.started.emit(small())
    qtbot.waitUntil(lambda: collector.finished == ["finished"], timeout=30_000)
    qtbot.waitUntil(lambda: len(collector.records) == 30, timeout=5_000)
    assert [r.step for r in collector.records] == list(range(30))
    assert [r.step for r in collector.records if r.probed] == [0, 5, 10, 15, 20, 25]
    assert collector.states[-1] == "finished"


def test_threshold_change_mid_run_arrives_as_an_event(qtbot, lab):
    collector, worker, thread, bridge = lab
    collector.started.emit(small(steps=100_000))
    qtbot.waitUntil(lambda: len(collector.records) > 3, timeout=30_000)
    worker.trainer.set_clipping(mode="norm", threshold=0.25)
    qtbot.waitUntil(lambda: any(e.kind == "clip_threshold_changed" for e in collector.events), timeout=10_000)
    change = next(e for e in collector.events if e.kind == "clip_threshold_changed")
    qtbot.waitUntil(lambda: collector.records[-1].step > change.step, timeout=10_000)
    after = [r for r in collector.records if r.step >= change.step]
    assert all(r.scalars["clip_threshold"] == 0.25 for r in after)


def test_pause_and_resume_reach_the_trainer(qtbot, lab):
    collector, worker, thread, bridge = lab
    collector.started.emit(small(steps=100_000))
    qtbot.waitUntil(lambda: len(collector.records) > 3, timeout=30_000)
    worker.trainer.pause()
    qtbot.waitUntil(lambda: collector.states[-1:] == ["paused"], timeout=10_000)
    paused_at = worker.trainer.step_index
    qtbot.wait(200)
    assert worker.trainer.step_index == paused_at
    worker.trainer.resume()
    qtbot.waitUntil(lambda: worker.trainer.step_index > paused_at, timeout=10_000)


def test_closing_mid_run_joins_the_worker(qtbot, lab):
    collector, worker, thread, bridge = lab
    collector.started.emit(small(steps=100_000, arch="lstm", hidden=32, seq_len=40))
    qtbot.waitUntil(lambda: len(collector.records) > 2, timeout=30_000)
    assert thread.shutdown(worker)
    assert not thread.isRunning()


def test_an_exception_in_the_worker_arrives_with_its_traceback(qtbot, lab):
    collector, worker, thread, bridge = lab
    collector.started.emit(small(task="csv", csv="/no/such/series.csv"))
    qtbot.waitUntil(lambda: bool(collector.failures), timeout=30_000)
    assert "ConfigError" in collector.failures[0] and "series.csv" in collector.failures[0]
