"""The replay's timeline, under the panels: a slider and a step field, play and pause, the
speed, a step back and forward, the run on show and the runs overlaid on it, and a list of
what happened (runs starting, setting changes, clipping, divergence, bookmarks) where a click
jumps to the step."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (QComboBox, QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QMenu, QPushButton,
                               QSlider, QSpinBox, QToolButton, QVBoxLayout, QWidget)

from gradscope.ui import theme
from gradscope.ui.replay import SPEEDS, ReplayController

CLIP_EPISODE_GAP = 20        # clipped steps closer than this are one episode in the list
MAX_LIST_ITEMS = 500
SHOWN_EVENTS = {
    "run_started": "run started", "lr_changed": "learning rate changed",
    "clip_threshold_changed": "clip threshold changed", "clip_mode_changed": "clipping mode changed",
    "diverged": "DIVERGED", "failed": "failed",
}


def clip_episodes(steps: np.ndarray, clipped: np.ndarray, gap: int = CLIP_EPISODE_GAP) -> list[tuple[int, int, int]]:
    """(first step, last step, clipped steps) of each stretch of clipping: clipped steps fewer
    than `gap` steps apart belong to one stretch."""
    fired = np.asarray(steps)[np.nan_to_num(np.asarray(clipped, dtype=np.float64)) > 0.5]
    if not len(fired):
        return []
    breaks = np.flatnonzero(np.diff(fired) >= gap)
    starts = np.r_[0, breaks + 1]
    ends = np.r_[breaks, len(fired) - 1]
    return [(int(fired[a]), int(fired[b]), int(b - a + 1)) for a, b in zip(starts, ends)]


class Timeline(QWidget):
    fork_requested = Signal(int, int)        # run id, step
    bookmark_requested = Signal(int, int)    # run id, step
    bookmark_removed = Signal(int)           # bookmark id

    def __init__(self, replay: ReplayController, parent: QWidget | None = None):
        super().__init__(parent)
        self.replay = replay
        self.setStyleSheet(f"font-size: {theme.FONT_POINTS}pt;")
        self.back = self._button("◀ Step", "One recorded step back (,)", lambda: replay.step_by(-1))
        self.play = self._button("▶ Play", "Play the recording from here, or pause it (Space)", replay.toggle_play)
        self.forward = self._button("Step ▶", "One recorded step forward (.)", lambda: replay.step_by(1))
        self.speed = QComboBox()
        self.speed.addItems([f"{speed:g}x" for speed in SPEEDS])
        self.speed.setCurrentIndex(SPEEDS.index(1.0))
        self.speed.setToolTip("Replay speed; 1x is the pace the run was recorded at")
        self.speed.currentIndexChanged.connect(lambda index: replay.set_speed(SPEEDS[index]))
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setToolTip("Drag to scrub through the run")
        self.slider.valueChanged.connect(self._on_slider)
        self.step_field = QSpinBox()
        self.step_field.setKeyboardTracking(False)
        self.step_field.setToolTip("Go to a training step")
        self.step_field.valueChanged.connect(lambda step: self._seek(step))
        self.of_label = QLabel()
        self.runs = QComboBox()
        self.runs.setToolTip("The run on show")
        self.runs.activated.connect(self._on_run_picked)
        self.overlay = QToolButton()
        self.overlay.setText("Overlay ▾")
        self.overlay.setToolTip("Draw other runs of the session faded behind this one")
        self.overlay.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.overlay.setMenu(QMenu(self.overlay))
        self.fork = self._button("Fork from here", "Train a new run from this step with the learning rate and "
                                 "clipping now set on the left; it is added to this session", self._on_fork)
        self.bookmark = self._button("Bookmark…", "Mark this step with a short note, saved into the session file",
                                     lambda: self.bookmark_requested.emit(replay.run_id, replay.step))
        self.events = QListWidget()
        self.events.setToolTip("Click to jump to the step; Delete removes a selected bookmark")
        self.events.itemClicked.connect(self._on_event_clicked)
        self.events.setMaximumHeight(110)

        top = QHBoxLayout()
        for widget in (self.back, self.play, self.forward, self.speed):
            top.addWidget(widget)
        top.addWidget(self.slider, 1)
        for widget in (self.step_field, self.of_label):
            top.addWidget(widget)
        bottom = QHBoxLayout()
        for widget in (QLabel("Run:"), self.runs, self.overlay, self.fork, self.bookmark):
            bottom.addWidget(widget)
        bottom.addStretch(1)
        column = QVBoxLayout()
        column.addLayout(top)
        column.addLayout(bottom)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 2, 6, 2)
        layout.addLayout(column, 3)
        layout.addWidget(self.events, 2)
        self.setMaximumHeight(130)          # the panels keep the room
        remove = QAction("Remove bookmark", self.events)
        remove.setShortcut(Qt.Key.Key_Delete)
        remove.triggered.connect(self._remove_selected_bookmark)
        self.events.addAction(remove)

        replay.position_changed.connect(self.show_position)
        replay.playing_changed.connect(lambda playing: self.play.setText("❚❚ Pause" if playing else "▶ Play"))
        replay.run_changed.connect(lambda run_id: self.refresh())
        self.bookmarks: list = []

    def _button(self, text: str, tip: str, slot) -> QPushButton:
        button = QPushButton(text)
        button.setToolTip(tip)
        button.clicked.connect(slot)
        return button

    # -- filling -----------------------------------------------------------------------------------

    def refresh(self, bookmarks: list | None = None) -> None:
        """Runs, overlays and the event list for the run on show."""
        replay = self.replay
        if not replay.active:
            return
        if bookmarks is not None:
            self.bookmarks = bookmarks
        session = replay.session
        self.runs.blockSignals(True)
        self.runs.clear()
        for index, run in enumerate(session.runs):
            fork = f", fork of run {run.parent[0]} at step {run.parent[1]}" if run.parent else ""
            c = run.config
            self.runs.addItem(f"run {run.id}: {c.arch.upper()} H={c.hidden} T={c.seq_len}, {run.state.value}{fork}",
                              run.id)
            if run.id == replay.run_id:
                self.runs.setCurrentIndex(index)
        self.runs.blockSignals(False)
        menu = self.overlay.menu()
        menu.clear()
        for run in session.runs:
            if run.id == replay.run_id:
                continue
            action = menu.addAction(f"run {run.id}: {run.config.arch.upper()} H={run.config.hidden}")
            action.setCheckable(True)
            action.setChecked(run.id in replay.overlays)
            action.setData(run.id)
            action.toggled.connect(self._on_overlay_toggled)
        self.overlay.setEnabled(len(session.runs) > 1)
        player = replay.player()
        self.slider.blockSignals(True)
        self.slider.setRange(0, max(len(player) - 1, 0))
        self.slider.blockSignals(False)
        self.step_field.blockSignals(True)
        self.step_field.setRange(player.first_step, max(player.last_step, player.first_step))
        self.step_field.blockSignals(False)
        self.of_label.setText(f"of {player.last_step:,}")
        self._fill_events(player)
        self.show_position(replay.step)

    def _fill_events(self, player) -> None:
        entries = []
        for event in player.events:
            if event.kind in SHOWN_EVENTS:
                detail = ", ".join(f"{k} {v}" for k, v in event.detail.items() if k in ("old", "new", "non_finite"))
                entries.append((event.step, f"step {event.step:,}: {SHOWN_EVENTS[event.kind]}"
                                + (f" ({detail})" if detail else ""), None))
        if "clipped" in player.scalars:
            for first, last, count in clip_episodes(*player.scalars["clipped"]):
                span = f"steps {first:,}–{last:,}" if last > first else f"step {first:,}"
                entries.append((first, f"{span}: clipping fired {count:,} time{'s' * (count != 1)}", None))
        for mark in self.bookmarks:
            if mark.run_id == self.replay.run_id:
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
        player = self.replay.player() if self.replay.active else None
        if player is None or not len(player):
            return
        for widget, value in ((self.slider, max(player.position(step) - 1, 0)), (self.step_field, step)):
            widget.blockSignals(True)
            widget.setValue(value)
            widget.blockSignals(False)

    # -- acting ------------------------------------------------------------------------------------

    def _seek(self, step: int) -> None:
        if self.replay.active:
            self.replay.pause()
            self.replay.seek(step)

    def _on_slider(self, index: int) -> None:
        player = self.replay.player() if self.replay.active else None
        if player is not None and 0 <= index < len(player):
            self._seek(int(player.steps[index]))

    def _on_run_picked(self, index: int) -> None:
        run_id = self.runs.itemData(index)
        if run_id is not None and run_id != self.replay.run_id:
            self.replay.show_run(run_id, self.replay.overlays, step=self.replay.step)

    def _on_overlay_toggled(self) -> None:
        chosen = [action.data() for action in self.overlay.menu().actions() if action.isChecked()]
        self.replay.set_overlays(chosen)

    def _on_event_clicked(self, item: QListWidgetItem) -> None:
        step = item.data(Qt.ItemDataRole.UserRole)
        if step is not None:
            self._seek(int(step))

    def _on_fork(self) -> None:
        if self.replay.active:
            self.replay.pause()
            self.fork_requested.emit(self.replay.run_id, self.replay.step)

    def _remove_selected_bookmark(self) -> None:
        item = self.events.currentItem()
        bookmark = item.data(Qt.ItemDataRole.UserRole + 1) if item is not None else None
        if bookmark is not None:
            self.bookmark_removed.emit(int(bookmark))
