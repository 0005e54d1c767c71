"""Where the keyboard goes. The window's shortcuts (Space runs and pauses, S steps, Ctrl+O
opens) act wherever the focus is except inside a field being edited, where Space and S are
text. So an editor must not keep the focus once its edit is over: Enter commits, Escape puts
the value back, and both hand the keyboard to the window (`EditEnds`). A dialog of the window
that closes hands it to the window too (`DialogsReturnFocus`): Qt would give it back to the
widget that had it before, and after an error dialog the next typed path went into rho."""
from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QEvent, QObject, Qt, Slot
from PySide6.QtWidgets import QDialog, QWidget

ENDING_KEYS = (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Escape)
WATCHED = "gradscope-returns-focus"


def focus_window(window: QWidget) -> None:
    """The keyboard to the window itself, where no widget takes keys, so every shortcut acts.
    On a window that is not active (a dialog of it still closing) this is where the focus
    goes when it is active again."""
    window.activateWindow()
    window.setFocus(Qt.FocusReason.OtherFocusReason)


class EditEnds(QObject):
    """An event filter ending an editor's edit on Enter (commit) and Escape (`revert` first),
    then calling `done`, which moves the focus away. Moving it is the commit: QLineEdit and
    QAbstractSpinBox finish their edit when they lose the focus, as they do on Enter."""

    def __init__(self, editor: QWidget, revert: Callable[[], None], done: Callable[[], None]):
        super().__init__(editor)
        self.revert, self.done = revert, done
        editor.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind not in (QEvent.Type.KeyPress, QEvent.Type.ShortcutOverride) or event.key() not in ENDING_KEYS:
            return False
        if kind == QEvent.Type.ShortcutOverride:
            event.accept()       # the key is the editor's, even if an action of the window has it as a shortcut
            return True
        if event.key() == Qt.Key.Key_Escape:
            self.revert()
        self.done()
        return True              # the window never sees it (there Escape would leave presentation mode)


class DialogsReturnFocus(QObject):
    """Watches `window` for its dialogs (message boxes, file and input dialogs); each that
    closes gives the keyboard to the window, not back to an editor."""

    def __init__(self, window: QWidget):
        super().__init__(window)
        self.window = window
        window.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        # ChildPolished, not ChildAdded: a child is announced as added while it is still being
        # constructed, before it is a QDialog; it is polished, whole, just before it shows
        if event.type() == QEvent.Type.ChildPolished and isinstance(event.child(), QDialog):
            dialog = event.child()
            if not dialog.property(WATCHED):         # polished again after a style change: one watch
                dialog.setProperty(WATCHED, True)
                dialog.finished.connect(self._on_dialog_finished)
        return False

    @Slot(int)
    def _on_dialog_finished(self, _result: int) -> None:
        focus_window(self.window)


def return_focus_after_dialogs(window: QWidget) -> DialogsReturnFocus:
    """Install the watch on `window` (once: a second call returns the first watch)."""
    for child in window.children():
        if isinstance(child, DialogsReturnFocus):
            return child
    return DialogsReturnFocus(window)
