"""The window's session files: File > Open, Open Recent, drag and drop, Save As, bookmarks and
Fork from here, with their dialogs. The lab model does the work (`open_recording`, `fork`);
this asks for paths and notes, remembers recent files in QSettings and says what went wrong:
in plain words, with the exception's class and traceback only in the dialog's details
(`gradscope.ui.plain_errors`). When a dialog of the window closes, the keyboard goes back to
the window (`gradscope.ui.focus`), so its shortcuts act and no typing lands in a setting."""
from __future__ import annotations

import sqlite3
from pathlib import Path

from PySide6.QtCore import QObject, Qt, Slot
from PySide6.QtWidgets import QFileDialog, QInputDialog, QMessageBox

from gradscope.session import SessionError, open_session
from gradscope.session.files import SESSION_SUFFIX, copy_session
from gradscope.ui.focus import return_focus_after_dialogs
from gradscope.ui.plain_errors import PlainError, plain_words

MAX_RECENT = 8
FILE_FILTER = f"gradscope sessions (*{SESSION_SUFFIX});;All files (*)"


class SessionFiles(QObject):
    def __init__(self, window, lab):
        super().__init__(window)
        self.window = window
        self.lab = lab
        return_focus_after_dialogs(window)    # an error dialog closed: the keys go to the window, not an editor

    # -- opening -----------------------------------------------------------------------------------

    def open_file(self, path: str | Path | None = None) -> bool:
        """Replay a session file; a file that cannot be read gets a dialog saying why."""
        window = self.window
        if path is None:
            path, _ = QFileDialog.getOpenFileName(window, "Open a session", str(self.lab.sessions_dir), FILE_FILTER)
            if not path:
                return False
        path = Path(path)
        try:
            self.lab.open_recording(path)         # reads the bookmarks before it leaves what is on show
            bookmarks = self.lab.recorded.bookmarks
        except (SessionError, ValueError) as error:
            self.show_error("Cannot open the session", error)
            return False
        window.timeline.refresh(bookmarks)
        self._remember(path)
        window.setWindowTitle(f"gradscope: {path.name} (replay)")
        window.redraw(everything=True)
        notices = self.lab.recorded.session.notices
        if notices:
            # read, but with something beside it set aside (a junk journal, another session's
            # log): say so, as `gradscope info` does, with the way out
            self.show_warning("Opened with a warning", "\n\n".join(notices))
        return True

    def show_error(self, title: str, problem: BaseException | str, lead: str = "") -> None:
        """A dialog naming the problem in plain words (after `lead`, where given), one at a
        time (the newest); the window goes on. `window.errors` gets the same words."""
        plain = plain_words(problem)
        if lead:
            plain = PlainError(f"{lead}\n{plain.text}", plain.details)
        self._dialog(title, plain)
        self.window.errors.append(plain.text)

    def show_warning(self, title: str, text: str) -> None:
        """The same dialog for what went through but should be known (`window.notices`)."""
        self._dialog(title, PlainError(text))
        self.window.notices.append(text)

    def _dialog(self, title: str, plain: PlainError) -> None:
        window = self.window
        if window.error_dialog is not None:
            window.error_dialog.close()
        box = QMessageBox(QMessageBox.Icon.Warning, title, plain.text, QMessageBox.StandardButton.Ok, window)
        if plain.details:
            box.setDetailedText(plain.details)
        box.setWindowModality(Qt.WindowModality.WindowModal)
        box.open()
        window.error_dialog = box

    @staticmethod
    def _bookmarks(session) -> list:
        return [mark for run in session.runs for mark in run.bookmarks]

    def _remember(self, path: Path) -> None:
        recent = [str(path.resolve())] + [p for p in self.recent_files() if p != str(path.resolve())]
        self.window.settings.setValue("files/recent", recent[:MAX_RECENT])

    def recent_files(self) -> list[str]:
        saved = self.window.settings.value("files/recent") or []
        return [str(p) for p in ([saved] if isinstance(saved, str) else saved)]

    def fill_recent(self) -> None:
        menu = self.window.recent_menu
        menu.clear()
        for path in self.recent_files():
            action = menu.addAction(path)
            action.setEnabled(Path(path).exists())
            action.triggered.connect(lambda checked=False, p=path: self.open_file(p))
        if menu.isEmpty():
            menu.addAction("(none yet)").setEnabled(False)

    def drag_entered(self, event) -> None:
        if any(url.isLocalFile() for url in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropped(self, event) -> None:
        files = [url.toLocalFile() for url in event.mimeData().urls() if url.isLocalFile()]
        if files:
            event.acceptProposedAction()
            self.open_file(files[0])

    # -- from the replay ---------------------------------------------------------------------------

    @Slot(int, int)
    def fork_from(self, run_id: int, step: int) -> None:
        """A new live run from `step` of `run_id`, with the live settings now on the left."""
        path = self.lab.recorded.path
        self.lab.fork(run_id, step)
        self.window.setWindowTitle(f"gradscope: {Path(path).name} (fork of run {run_id} at step {step})")

    @Slot(int, int)
    def add_bookmark(self, run_id: int, step: int) -> None:
        note, ok = QInputDialog.getText(self.window, "Bookmark", f"A short note for step {step:,}:")
        if ok:
            self._change_bookmarks("add", run_id, step, note.strip() or f"step {step}")

    @Slot(int)
    def remove_bookmark(self, bookmark_id: int) -> None:
        self._change_bookmarks("remove", bookmark_id)

    def _change_bookmarks(self, what: str, *args) -> None:
        from gradscope.session import bookmarks

        path = self.lab.recorded.path
        try:
            if what == "add":
                bookmarks.add_bookmark(path, *args)
            else:
                bookmarks.remove_bookmark(path, *args)
            with open_session(path) as session:
                marks = self._bookmarks(session)
        except (SessionError, OSError, sqlite3.Error, ValueError) as error:
            self.show_error("Bookmark not saved", error, lead=f"Could not change the bookmarks in {path}:")
            return
        self.window.timeline.refresh(marks)

    # -- saving ------------------------------------------------------------------------------------

    def save_as(self, path: str | None = None) -> Path | None:
        """Copy the session as committed so far (recording goes on in the live file)."""
        window = self.window
        if path is None:
            path, _ = QFileDialog.getSaveFileName(window, "Save session as", str(self.lab.sessions_dir), FILE_FILTER)
            if not path:
                return None
        target = Path(path)
        if target.suffix != SESSION_SUFFIX:
            target = target.with_suffix(SESSION_SUFFIX)
        source = self.lab.session_path
        if source is None or not source.exists():
            window.statusBar().showMessage("Nothing recorded yet: press Run first", 8000)
            return None
        if target.resolve() == source.resolve():
            return target
        try:
            copy_session(source, target)
        except (OSError, sqlite3.Error) as error:
            self.show_error("Save failed", error, lead=f"Could not save the session to {target}:")
            return None
        window.statusBar().showMessage(f"Saved a copy to {target}; recording goes on in {source}", 8000)
        return target
