"""The GUI side of the hand-over: a QTimer in the GUI thread drains the record buffer about
30 times a second and re-emits what arrived, coalesced, as signals the panels subscribe to.

Live training and replay feed the same signals, so a panel never knows which it is drawing.
"""
from __future__ import annotations

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from gradscope.ui.buffer import RecordBuffer

DRAIN_INTERVAL_MS = 33


class RecordBridge(QObject):
    records_arrived = Signal(list)      # [StepRecord], in step order
    events_arrived = Signal(list)       # [Event]
    state_changed = Signal(str)         # the newest run state's name

    def __init__(self, buffer: RecordBuffer, parent: QObject | None = None):
        super().__init__(parent)
        self.buffer = buffer
        self.timer = QTimer(self)
        self.timer.setInterval(DRAIN_INTERVAL_MS)
        self.timer.timeout.connect(self._on_tick)

    def start(self) -> None:
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()
        self._on_tick()   # what arrived last still reaches the panels

    @Slot()
    def _on_tick(self) -> None:
        batch = self.buffer.drain()
        if not batch:
            return
        if batch.records:
            self.records_arrived.emit(batch.records)
        if batch.events:
            self.events_arrived.emit(batch.events)
        if batch.states:
            self.state_changed.emit(batch.states[-1].value)
