"""Presentation mode (F11, View > Presentation): the window for the back row of a lecture hall.

Full screen, the projector's look (`theme.PRESENTATION`: bigger type, no data line under 3 px,
heavier axes and grid), a high-contrast palette for the widgets (black on white whatever the
desktop's theme), the controls hidden (the settings, the toolbar and the menu bar; H shows them
again), the keyboard doing everything: the window's actions are its own as well as the menus',
so their shortcuts act with the menu bar hidden. Leaving it puts back the desk's window as it
was: its geometry, its docks, its look.
"""
from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

from gradscope.ui import theme
from gradscope.ui.look import apply_look


def high_contrast_palette() -> QPalette:
    """Black on white for every widget, whatever the desktop's theme (a dark one included):
    text and its background at least 7:1 (WCAG's AAA level), greyed-out text still 10:1,
    the selection white on Okabe-Ito blue."""
    palette = QPalette()
    black, white, blue = QColor("#000000"), QColor("#ffffff"), QColor(theme.COLORS["blue"])
    for group in (QPalette.ColorGroup.Active, QPalette.ColorGroup.Inactive, QPalette.ColorGroup.Disabled):
        text = QColor("#333333") if group == QPalette.ColorGroup.Disabled else black
        for role in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText,
                     QPalette.ColorRole.ToolTipText, QPalette.ColorRole.PlaceholderText):
            palette.setColor(group, role, text)
        for role in (QPalette.ColorRole.Window, QPalette.ColorRole.Base, QPalette.ColorRole.AlternateBase,
                     QPalette.ColorRole.Button, QPalette.ColorRole.ToolTipBase):
            palette.setColor(group, role, white)
        palette.setColor(group, QPalette.ColorRole.Highlight, blue)
        palette.setColor(group, QPalette.ColorRole.HighlightedText, white)
    return palette


class Presentation(QObject):
    changed = Signal(bool)

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.active = False
        self.controls_shown = True
        self._desk: dict | None = None
        self._desk_palette: QPalette | None = None

    def toggle(self) -> None:
        self.leave() if self.active else self.enter()

    def enter(self) -> None:
        if self.active:
            return
        window = self.window
        self._desk = {"geometry": window.saveGeometry(), "maximized": window.isMaximized(),
                      "settings": window.settings_dock.isVisible()}
        self.active = True
        self._desk_palette = QApplication.palette()
        QApplication.setPalette(high_contrast_palette())
        apply_look(theme.PRESENTATION, window, window.panels.values())
        # a passing message would be drawn over the restyled status bar's own labels
        window.statusBar().clearMessage()
        self.show_controls(False)
        window.showFullScreen()
        window.redraw(everything=True)
        self.changed.emit(True)

    def leave(self) -> None:
        if not self.active:
            return
        window, desk = self.window, self._desk or {}
        self.active = False
        if self._desk_palette is not None:
            QApplication.setPalette(self._desk_palette)
        apply_look(theme.DESK, window, window.panels.values())
        window.statusBar().clearMessage()
        self.show_controls(True, settings=desk.get("settings", True))
        window.showNormal()
        if desk.get("geometry") is not None:
            window.restoreGeometry(desk["geometry"])
        if desk.get("maximized"):
            window.showMaximized()
        window.redraw(everything=True)
        self.changed.emit(False)

    def show_controls(self, shown: bool, settings: bool | None = None) -> None:
        """The settings, the toolbar, the menu bar and the timeline's second row and event
        list: hidden for the audience, back with H. The timeline keeps its one row of play,
        step and scrub, so a replay is still driven by the keyboard and seen moving."""
        window = self.window
        self.controls_shown = shown
        window.settings_dock.setVisible(shown if settings is None else settings and shown)
        window.toolbar.setVisible(shown)
        window.menuBar().setVisible(shown)
        window.timeline.set_compact(not shown)
        window.controls_action.setChecked(shown)

    def toggle_controls(self) -> None:
        self.show_controls(not self.controls_shown)
