"""The replay's timeline, under the panels: a slider and a step field, play and pause, the
speed, a step back and forward, the run on show and the runs compared with it under the same
cursor, and a list of what happened (runs starting, setting changes, notes, clipping,
divergence, bookmarks) where a click jumps to the step. A view of the lab model: it moves the
lab's cursor and follows it."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (QComboBox, QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QMenu, QPushButton,
                               QSlider, QSpinBox, QToolButton, QVBoxLayout, QWidget)

from gradscope.families import family_of
from gradscope.lab.recorded import SPEEDS
from gradscope.lab.slots import MAX_SLOTS
from gradscope.records import EVENT_LABELS, EventKind
from gradscope.series import CLIPPED
from gradscope.ui import theme
from gradscope.ui.focus import EditEnds, focus_window

CLIP_STRETCH_GAP = 3         # clips at most this many steps apart are one stretch in the list
MAX_LIST_ITEMS = 500
LISTED_EVENTS = (EventKind.RUN_STARTED.value, EventKind.SETTINGS_CHANGED.value, EventKind.NOTE.value,
                 EventKind.DIVERGED.value, EventKind.FAILED.value, EventKind.WRITE_FAILED.value,
                 EventKind.INTERRUPTED.value)


def clip_stretches(steps: np.ndarray, clipped: np.ndarray, gap: int = CLIP_STRETCH_GAP) -> list[tuple[int, int, int]]:
    """(first step, last step, clipped steps) of each stretch of clipping, in step order.

    A stretch is a run of clipped steps where each clip follows the one before by at most
    `gap` steps: with the default 3, one or two unclipped steps inside a stretch do not end
    it, three do. A narrow rule on purpose: where clipping fires on and off all through a run
    (the exploding example clips 239 of its 600 steps), a wider one would fold the whole run
    into one entry, and the list is there to jump to where each stretch begins."""
    fired = np.asarray(steps)[np.nan_to_num(np.asarray(clipped, dtype=np.float64)) > 0.5]
    if not len(fired):
        return []
    breaks = np.flatnonzero(np.diff(fired) > gap)
    starts = np.r_[0, breaks + 1]
    ends = np.r_[breaks, len(fired) - 1]
    return [(int(fired[a]), int(fired[b]), int(b - a + 1)) for a, b in zip(starts, ends)]


class Timeline(QWidget):
    fork_requested = Signal(int, int)        # run id, step
    bookmark_requested = Signal(int, int)    # run id, step
    bookmark_removed = Signal(int)           # bookmark id

    def __init__(self, lab, parent: QWidget | None = None):
        super().__init__(parent)
        self.lab = lab
        self.setStyleSheet(f"font-size: {theme.FONT_POINTS}pt;")
        self.back = self._button("◀ Step", "One recorded step back (,)", lambda: self._step_by(-1))
        self.play = self._button("▶ Play", "Play the recording from here, or pause it (Space)", lab.toggle_run)
        self.forward = self._button("Step ▶", "One recorded step forward (.)", lambda: self._step_by(1))
        self.speed = QComboBox()
        self.speed.addItems([f"{speed:g}x" for speed in SPEEDS])
        self.speed.setCurrentIndex(SPEEDS.index(1.0))
        self.speed.setToolTip("Replay speed; 1x is the pace the run was recorded at")
        self.speed.currentIndexChanged.connect(self._on_speed)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setToolTip("Drag to scrub through the runs on show")
        self.slider.valueChanged.connect(self._on_slider)
        self.step_field = QSpinBox()
        self.step_field.setKeyboardTracking(False)
        self.step_field.setToolTip("Go to a training step")
        self.step_field.valueChanged.connect(lambda step: self._seek(step))
        # Enter goes to the typed step, Escape puts the cursor's back; both give the keys back to
        # the window, whose shortcuts (1 to 9 pick a layout) would otherwise type into the field
        EditEnds(self.step_field, revert=lambda: self.show_position(self.lab.cursor),
                 done=lambda: focus_window(self.window()))
        self.of_label = QLabel()
        self.runs = QComboBox()
        self.runs.setToolTip("The run on show")
        self.runs.activated.connect(self._on_run_picked)
        self.compare = QToolButton()
        self.compare.setText("Compare ▾")
        self.compare.setToolTip(f"Play up to {MAX_SLOTS - 1} other runs of the session beside this one, under the "
                                "same cursor, aligned by step")
        self.compare.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.compare.setMenu(QMenu(self.compare))
        # filled as it opens: rebuilt while one of its actions emits, it would delete the sender
        self.compare.menu().aboutToShow.connect(self._fill_compare_menu)
        self.fork = self._button("Fork from here", "Train a new run from this step with the live settings now "
                                 "set on the left; it is added to this session", self._on_fork)
        self.bookmark = self._button("Bookmark…", "Mark this step with a short note, saved into the session file",
                                     self._on_bookmark)
        self.events = QListWidget()
        self.events.setToolTip("Click to jump to the step; Delete removes a selected bookmark")
        self.events.itemClicked.connect(self._on_event_clicked)

        top = QHBoxLayout()
        for widget in (self.back, self.play, self.forward, self.speed):
            top.addWidget(widget)
        top.addWidget(self.slider, 1)
        for widget in (self.step_field, self.of_label):
            top.addWidget(widget)
        bottom = QHBoxLayout()
        self.second_row = (QLabel("Run:"), self.runs, self.compare, self.fork, self.bookmark)
        for widget in self.second_row:
            bottom.addWidget(widget)
        bottom.addStretch(1)
        column = QVBoxLayout()
        column.addLayout(top)
        column.addLayout(bottom)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 2, 6, 2)
        layout.addLayout(column, 3)
        layout.addWidget(self.events, 2)
        # the list scrolls in the height of the two rows beside it: at 1280x720 its own 110 px
        # made the timeline a sixth of the screen, and the panels keep the room
        self.events.setMaximumHeight(column.sizeHint().height())
        self.setMaximumHeight(130)
        remove = QAction("Remove bookmark", self.events)
        remove.setShortcut(Qt.Key.Key_Delete)
        remove.triggered.connect(self._remove_selected_bookmark)
        self.events.addAction(remove)
        self.bookmarks: list = []
        lab.events.cursor_moved.connect(self._on_cursor_moved)
        lab.events.slots_changed.connect(self._on_slots_changed)
        lab.events.state_changed.connect(self._on_state_changed)

    def set_compact(self, compact: bool) -> None:
        """One row (play, step, scrub) without the run picker, fork, bookmark and event list:
        presentation mode's timeline, about a third of the height."""
        for widget in self.second_row + (self.events,):
            widget.setVisible(not compact)

    def _button(self, text: str, tip: str, slot) -> QPushButton:
        button = QPushButton(text)
        button.setToolTip(tip)
        button.clicked.connect(slot)
        return button

    @property
    def source(self):
        return self.lab.recorded

    # -- the lab's events ----------------------------------------------------------------------

    def _on_cursor_moved(self, step: int) -> None:
        self.show_position(step)

    def _on_slots_changed(self) -> None:
        self.refresh()

    def _on_state_changed(self, state: str) -> None:
        self.play.setText("❚❚ Pause" if state == "playing" else "▶ Play")

    # -- filling -----------------------------------------------------------------------------------

    def refresh(self, bookmarks: list | None = None) -> None:
        """Runs, the runs compared and the event list for what is on show."""
        source = self.source
        if source is None or not source.run_ids:
            return
        if bookmarks is not None:
            self.bookmarks = bookmarks
        shown = source.run_ids
        session = source.session
        self.runs.blockSignals(True)
        self.runs.clear()
        for index, run in enumerate(session.runs):
            fork = f", fork of run {run.parent[0]} at step {run.parent[1]}" if run.parent else ""
            c = run.config
            self.runs.addItem(f"run {run.id}: {family_of(c.arch).describe(c)}, {run.state.value}{fork}", run.id)
            if run.id == shown[0]:
                self.runs.setCurrentIndex(index)
        self.runs.blockSignals(False)
        self.compare.setEnabled(len(session.runs) > 1)   # its menu is filled as it opens
        steps = source.steps
        first, last = (int(steps[0]), int(steps[-1])) if len(steps) else (0, 0)
        self.slider.blockSignals(True)
        self.slider.setRange(0, max(len(steps) - 1, 0))
        self.slider.blockSignals(False)
        self.step_field.blockSignals(True)
        self.step_field.setRange(first, max(last, first))
        self.step_field.blockSignals(False)
        self.of_label.setText(f"of {last:,}")
        self._fill_events(source.player(shown[0]))
        self.show_position(source.cursor)

    def _fill_compare_menu(self) -> None:
        source = self.source
        menu = self.compare.menu()
        menu.clear()
        if source is None or not source.run_ids:
            return
        for run in source.session.runs:
            if run.id == source.run_ids[0]:
                continue
            action = menu.addAction(f"run {run.id}: {family_of(run.config.arch).describe(run.config)}")
            action.setCheckable(True)
            action.setChecked(run.id in source.run_ids)
            action.setData(run.id)
            action.triggered.connect(self._on_compare_toggled)

    def _fill_events(self, player) -> None:
        entries = []
        for event in player.events:
            if event.kind in LISTED_EVENTS:
                label = EVENT_LABELS[event.kind]
                detail = event.label if event.kind != EventKind.RUN_STARTED.value else ""
                if detail.startswith(label):       # the event's own line already names its kind
                    label, detail = detail, ""
                entries.append((event.step, f"step {event.step:,}: {label}" + (f" ({detail})" if detail else ""),
                                None))
        if CLIPPED.name() in player.scalars:
            for first, last, count in clip_stretches(*player.scalars[CLIPPED.name()]):
                span = f"steps {first:,}–{last:,}" if last > first else f"step {first:,}"
                entries.append((first, f"{span}: clipping fired {count:,} time{'s' * (count != 1)}", None))
        for mark in self.bookmarks:
            if mark.run_id == player.run.id:
                entries.append((mark.step, f"★ step {mark.step:,}: {mark.note}", mark.id))
        entries.sort(key=lambda entry: (entry[0], entry[2] is None))
        self.events.clear()
        for step, text, bookmark in entries[:MAX_LIST_ITEMS]:
            item = QListWidgetItem(text)
            item.setData(Qt.ItemDataRole.UserRole, step)
            item.setData(Qt.ItemDataRole.UserRole + 1, bookmark)
            self.events.addItem(item)
        if len(entries) > MAX_LIST_ITEMS:
            self.events.addItem(f"… and {len(entries) - MAX_LIST_ITEMS:,} more")

    @Slot(int)
    def show_position(self, step: int) -> None:
        source = self.source
        if source is None or not len(source.steps):
            return
        for widget, value in ((self.slider, max(source.position(step) - 1, 0)), (self.step_field, step)):
            widget.blockSignals(True)
            widget.setValue(value)
            widget.blockSignals(False)

    # -- acting ------------------------------------------------------------------------------------

    def _seek(self, step: int) -> None:
        if self.source is not None:
            self.source.pause()
            self.lab.seek(step)

    def _step_by(self, count: int) -> None:
        if self.source is not None:
            self.source.step_by(count)

    def _on_speed(self, index: int) -> None:
        if self.source is not None:
            self.source.set_speed(SPEEDS[index])

    def _on_slider(self, index: int) -> None:
        source = self.source
        if source is not None and 0 <= index < len(source.steps):
            self._seek(int(source.steps[index]))

    def _on_run_picked(self, index: int) -> None:
        run_id = self.runs.itemData(index)
        source = self.source
        if run_id is not None and source is not None and run_id != source.run_ids[0]:
            self.lab.show_runs([run_id] + [other for other in source.run_ids[1:] if other != run_id])

    def _on_compare_toggled(self) -> None:
        source = self.source
        chosen = [action.data() for action in self.compare.menu().actions() if action.isChecked()]
        if source is not None:
            self.lab.show_runs([source.run_ids[0], *chosen])

    def _on_event_clicked(self, item: QListWidgetItem) -> None:
        step = item.data(Qt.ItemDataRole.UserRole)
        if step is not None:
            self._seek(int(step))

    def _on_fork(self) -> None:
        source = self.source
        if source is not None:
            source.pause()
            self.fork_requested.emit(source.run_ids[0], source.cursor)

    def _on_bookmark(self) -> None:
        source = self.source
        if source is not None:
            self.bookmark_requested.emit(source.run_ids[0], source.cursor)

    def _remove_selected_bookmark(self) -> None:
        item = self.events.currentItem()
        bookmark = item.data(Qt.ItemDataRole.UserRole + 1) if item is not None else None
        if bookmark is not None:
            self.bookmark_removed.emit(int(bookmark))
