"""The window's session files and replay: File > Open, Open Recent, drag and drop, New live
session and Save As; the timeline's replay, forks, bookmarks and the what-if threshold.

A mixin of MainWindow: the window is either live (training records into its session file)
or replaying a session it opened. A fork from the replay is a live run added to the opened
session, drawn beside its parent.
"""
from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, Slot
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QFileDialog, QInputDialog, QMenu, QMessageBox, QToolBar

from gradscope.session import SessionError, open_session
from gradscope.session.files import SESSION_SUFFIX, copy_session, new_session_path
from gradscope.session.player import WhatIf
from gradscope.ui.exporting import build_export_menu
from gradscope.ui.history import Lab
from gradscope.ui.replay import ReplayController
from gradscope.ui.timeline import Timeline

MAX_RECENT = 8
FILE_FILTER = f"gradscope sessions (*{SESSION_SUFFIX});;All files (*)"


class SessionDocuments:
    """Mixed into MainWindow (which provides buffer, bridge, worker, lab, panels, controls)."""

    mode = "live"                       # or "replay"

    def _build_replay(self) -> None:
        self.replay = ReplayController(self.buffer, self.bridge, self)
        self.replay.position_changed.connect(self._on_replay_moved)
        self.replay.playing_changed.connect(lambda playing: self._update_actions())
        self.replay.run_changed.connect(self._on_replay_run)
        self.replay.failed.connect(lambda text: self._file_error("Cannot read this part of the session", text))
        self.timeline = Timeline(self.replay)
        self.timeline.fork_requested.connect(self.fork_from)
        self.timeline.bookmark_requested.connect(self.add_bookmark)
        self.timeline.bookmark_removed.connect(self.remove_bookmark)
        # a toolbar, not a dock: it keeps the height it needs and the panels get the rest
        bar = QToolBar("Timeline", self)
        bar.setObjectName("toolbar-timeline")
        bar.setMovable(False)
        bar.addWidget(self.timeline)
        self.addToolBar(Qt.ToolBarArea.BottomToolBarArea, bar)
        self.timeline_dock = bar
        bar.hide()
        self.setAcceptDrops(True)

    def _build_file_menu(self, menu: QMenu) -> None:
        def add(text: str, shortcut, slot) -> QAction:
            action = QAction(text, self)
            if shortcut is not None:
                action.setShortcut(QKeySequence(shortcut))
            action.triggered.connect(slot)
            menu.addAction(action)
            return action

        self.open_action = add("Open…", QKeySequence.StandardKey.Open, lambda: self.open_file())
        self.recent_menu = menu.addMenu("Open Recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent)
        self.new_action = add("New Live Session", QKeySequence.StandardKey.New, self.new_live_session)
        menu.addAction(self.save_action)
        self.export_menu = menu.addMenu("Export")
        build_export_menu(self, self.export_menu)
        menu.addSeparator()
        add("Quit", "Ctrl+Q", self.close)

    # -- opening -----------------------------------------------------------------------------------

    def open_file(self, path: str | Path | None = None) -> bool:
        """Replay a session file; a file that cannot be read gets a dialog saying why."""
        if path is None:
            path, _ = QFileDialog.getOpenFileName(self, "Open a session", str(self.sessions_dir), FILE_FILTER)
            if not path:
                return False
        path = Path(path)
        try:
            session = open_session(path)
            try:
                if not session.runs:
                    raise SessionError(path, "holds no runs yet")
                bookmarks = self._bookmarks(session)
                if self.live:
                    self.worker.pause()
                self.replay.load(session)
            except BaseException:
                session.close()
                self.replay.close()
                raise
        except (SessionError, ValueError) as error:
            self._file_error("Cannot open the session", str(error))
            return False
        self.mode = "replay"
        self.session_path = path
        self.timeline.refresh(bookmarks)
        self.timeline_dock.show()
        self._remember(path)
        self.setWindowTitle(f"gradscope: {path.name} (replay)")
        self.status_labels["session"].setText(f"replaying {path}")
        self._show_what_if()
        self._update_actions()
        self.redraw(everything=True)
        return True

    def _file_error(self, title: str, text: str) -> None:
        if self.error_dialog is not None:       # one at a time: the newest problem
            self.error_dialog.close()
        box = QMessageBox(QMessageBox.Icon.Warning, title, text, QMessageBox.StandardButton.Ok, self)
        box.setWindowModality(Qt.WindowModality.WindowModal)
        box.open()
        self.error_dialog = box
        self.errors.append(text)

    def _bookmarks(self, session) -> list:
        return [mark for run in session.runs for mark in getattr(run, "bookmarks", [])]

    def _remember(self, path: Path) -> None:
        recent = [str(path.resolve())] + [p for p in self.recent_files() if p != str(path.resolve())]
        self.settings.setValue("files/recent", recent[:MAX_RECENT])

    def recent_files(self) -> list[str]:
        saved = self.settings.value("files/recent") or []
        return [str(p) for p in ([saved] if isinstance(saved, str) else saved)]

    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        for path in self.recent_files():
            action = self.recent_menu.addAction(path)
            action.setEnabled(Path(path).exists())
            action.triggered.connect(lambda checked=False, p=path: self.open_file(p))
        if self.recent_menu.isEmpty():
            self.recent_menu.addAction("(none yet)").setEnabled(False)

    def dragEnterEvent(self, event) -> None:
        if any(url.isLocalFile() for url in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        files = [url.toLocalFile() for url in event.mimeData().urls() if url.isLocalFile()]
        if files:
            event.acceptProposedAction()
            self.open_file(files[0])

    @Slot()
    def new_live_session(self) -> None:
        """Leave the replay: a fresh session file for live runs."""
        self.replay.close()
        self.mode = "live"
        self.lab = Lab()
        self.session_path = new_session_path(self.sessions_dir)
        self.timeline_dock.hide()
        self.panels["grad_norm"].show_what_if(None)
        self._show_threshold()
        self.setWindowTitle("gradscope: the live lab")
        self.status_labels["session"].setText(f"recording to {self.session_path}")
        self.state = "idle"
        self._update_actions()
        self.redraw(everything=True)

    # -- the replay ------------------------------------------------------------------------------

    @Slot(int)
    def _on_replay_run(self, run_id: int) -> None:
        """The settings on the left show the run on show (Fork from here starts from them)."""
        self.controls.show_config(self.replay.session.run(run_id).config)

    @Slot(int)
    def _on_replay_moved(self, step: int) -> None:
        self._show_what_if()
        self._update_status()

    def _show_what_if(self) -> None:
        """On a replay, the threshold line asks what it would have clipped of the recorded run."""
        panel = self.panels["grad_norm"]
        if self.mode != "replay" or not self.replay.active:
            panel.show_what_if(None)
            return
        panel.set_threshold(self.config.clip_threshold, "norm")
        empty = np.empty(0)
        steps, norms = self.replay.player().scalars.get("grad_norm", (empty, empty))
        upto = int(np.searchsorted(steps, self.replay.step, "right"))
        panel.show_what_if(WhatIf(steps[:upto], norms[:upto], self.config.clip_threshold))

    @Slot(int, int)
    def fork_from(self, run_id: int, step: int) -> None:
        """A new live run from `step` of `run_id`, with the live settings now on the left."""
        path = self.replay.session.path
        changes = {"lr": self.config.lr, "clip_mode": self.config.clip_mode,
                   "clip_threshold": self.config.clip_threshold}
        self.replay.close()                  # the lab keeps the parent, drawn beside the fork
        self.mode = "live"
        self.session_path = Path(path)
        self.timeline_dock.hide()
        self.panels["grad_norm"].show_what_if(None)
        self._show_threshold()
        self.worker.session_path = str(path)      # the fork command switches the child's file
        self.worker.fork(str(path), run_id, step, changes)
        self.state = "starting"
        self.setWindowTitle(f"gradscope: {Path(path).name} (fork of run {run_id} at step {step})")
        self.status_labels["session"].setText(f"recording the fork to {path}")
        self._update_actions()

    @Slot(int, int)
    def add_bookmark(self, run_id: int, step: int) -> None:
        note, ok = QInputDialog.getText(self, "Bookmark", f"A short note for step {step:,}:")
        if ok:
            self._change_bookmarks("add", run_id, step, note.strip() or f"step {step}")

    @Slot(int)
    def remove_bookmark(self, bookmark_id: int) -> None:
        self._change_bookmarks("remove", bookmark_id)

    def _change_bookmarks(self, what: str, *args) -> None:
        from gradscope.session import bookmarks

        path = self.replay.session.path
        try:
            if what == "add":
                bookmarks.add_bookmark(path, *args)
            else:
                bookmarks.remove_bookmark(path, *args)
            with open_session(path) as session:
                marks = self._bookmarks(session)
        except (SessionError, OSError, sqlite3.Error, ValueError) as error:
            self._file_error("Bookmark not saved", f"Could not change the bookmarks in {path}:\n{error}")
            return
        self.timeline.refresh(marks)

    # -- saving ------------------------------------------------------------------------------------

    @Slot()
    def save_as(self, path: str | None = None) -> Path | None:
        """Copy the session as committed so far (recording goes on in the live file)."""
        if path is None:
            path, _ = QFileDialog.getSaveFileName(self, "Save session as", str(self.sessions_dir), FILE_FILTER)
            if not path:
                return None
        target = Path(path)
        if target.suffix != SESSION_SUFFIX:
            target = target.with_suffix(SESSION_SUFFIX)
        if target.resolve() == self.session_path.resolve():
            return target
        if not self.session_path.exists():
            self.statusBar().showMessage("Nothing recorded yet: press Run first", 8000)
            return None
        try:
            copy_session(self.session_path, target)
        except (OSError, sqlite3.Error) as error:
            QMessageBox.warning(self, "Save failed", f"Could not save the session to {target}:\n{error}")
            return None
        self.statusBar().showMessage(f"Saved a copy to {target}; recording goes on in {self.session_path}", 8000)
        return target
