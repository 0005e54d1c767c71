"""The GUI side of the hand-over: a QTimer in the GUI thread drains the record buffer about
30 times a second and re-emits what arrived, in order and coalesced, as signals. After a tick
that brought anything, `drained` tells the window to redraw once.

Live training and replay feed the same signals, so a panel never knows which it is drawing:
live records become a `StepBlock` here, and a replay hands over blocks it cut from the file.
"""
from __future__ import annotations

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from gradscope.records import StepBlock
from gradscope.ui.buffer import Batch, RecordBuffer, RunStarted

DRAIN_INTERVAL_MS = 33


class RecordBridge(QObject):
    run_started = Signal(dict)          # RunStarted.info
    blocks_arrived = Signal(list)       # [StepBlock], in step order
    events_arrived = Signal(list)       # [Event]
    state_changed = Signal(str)         # the newest run state's name
    drained = Signal()                  # a tick brought something: time to redraw

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

    def flush(self) -> None:
        """Hand over what is waiting now, without waiting for the next tick (a seek)."""
        self._on_tick()

    @Slot()
    def _on_tick(self) -> None:
        parts = self.buffer.drain()
        if not parts:
            return
        for part in parts:
            if isinstance(part, RunStarted):
                self.run_started.emit(part.info)
            elif isinstance(part, Batch):
                blocks = list(part.blocks)
                if part.records:
                    blocks.append(StepBlock.from_records(part.records))
                if blocks:
                    self.blocks_arrived.emit(blocks)
                if part.events:
                    self.events_arrived.emit(part.events)
                if part.states:
                    self.state_changed.emit(part.states[-1])
        self.drained.emit()
