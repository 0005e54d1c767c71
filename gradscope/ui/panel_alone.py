"""A panel drawn on its own at a size of its own, for an export, then put back where it was.

In the headless export's 1920x1200 window the gradient-norm panel shares the room with five
others: 761x291, its plot 20 px tall and its labels cut. A picture of one panel is drawn at
PANEL_SIZE instead (1280x720, the commonest projector) in a top-level that is laid out and
painted but never shown on a screen. The panel's place is held by an empty widget meanwhile,
so nothing around it moves; a dock, a splitter, a tab or a layout gets the panel back."""
from __future__ import annotations

import contextlib
from typing import Callable, Iterator

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QDockWidget, QSplitter, QStackedWidget, QTabWidget, QVBoxLayout, QWidget

from gradscope.export import ExportError

PANEL_SIZE = (1280, 720)


@contextlib.contextmanager
def panel_alone(panel: QWidget, size: tuple[int, int]) -> Iterator[QWidget]:
    """`panel`, `size` pixels, alone in a top-level of its own while the block runs."""
    visible = panel.isVisible()
    put_back = _take_out(panel)
    stand = QWidget()
    stand.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen)
    layout = QVBoxLayout(stand)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.addWidget(panel)
    stand.resize(*size)
    stand.show()
    panel.show()
    QApplication.processEvents()          # the layout and the plots' resize events, before drawing
    try:
        yield panel
    finally:
        layout.removeWidget(panel)
        put_back()
        panel.setVisible(visible)
        stand.deleteLater()


def _take_out(panel: QWidget) -> Callable[[], None]:
    """Take `panel` from its parent, leaving a stand-in there; what puts it back."""
    parent = panel.parentWidget()
    if parent is None:
        return lambda: panel.setParent(None)
    stand_in = QWidget()
    if isinstance(parent, QDockWidget):
        parent.setWidget(stand_in)

        def back() -> None:
            parent.setWidget(panel)
    elif isinstance(parent, QSplitter):
        index = parent.indexOf(panel)
        parent.replaceWidget(index, stand_in)

        def back() -> None:
            parent.replaceWidget(index, panel)
    elif isinstance(parent, QStackedWidget) and isinstance(parent.parentWidget(), QTabWidget):
        back = _take_out_of_tab(parent.parentWidget(), panel, stand_in)
    else:
        layout = parent.layout()
        if layout is None or layout.indexOf(panel) < 0:
            raise ExportError(f"cannot draw {type(panel).__name__} on its own: it sits in a {type(parent).__name__}")
        layout.replaceWidget(panel, stand_in)

        def back() -> None:
            layout.replaceWidget(stand_in, panel)

    def put_back() -> None:
        back()
        stand_in.deleteLater()
    return put_back


def _take_out_of_tab(tabs: QTabWidget, panel: QWidget, stand_in: QWidget) -> Callable[[], None]:
    index, current = tabs.indexOf(panel), tabs.currentIndex()
    text, tip = tabs.tabText(index), tabs.tabToolTip(index)

    def swap(into: QWidget) -> None:
        # signals blocked: the window would take the tab's coming and going for the user's choice
        blocked = tabs.blockSignals(True)
        try:
            tabs.removeTab(index)
            tabs.insertTab(index, into, text)
            tabs.setTabToolTip(index, tip)
            tabs.setCurrentIndex(current)
        finally:
            tabs.blockSignals(blocked)

    swap(stand_in)
    return lambda: swap(panel)
