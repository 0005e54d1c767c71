"""The stage: the two or three panels of the layout on show, side by side and as tall as the
window allows, in the first tab; every other panel waits in a tab of its own.

It is a view of the lab model's `layout` (`gradscope.lab.layouts`): the window calls
`show_layout` from its `_on_layout_changed`. Panels side by side rather than stacked, because
a projector's 1280x720 is wide and short: stacked, no plot would keep a readable height.
"""
from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QSplitter, QTabWidget

from gradscope.lab.layouts import Layout


class Stage(QTabWidget):
    shown_changed = Signal()            # other panels are on show (a layout or a tab chosen)

    def __init__(self, panels: dict, parent=None):
        super().__init__(parent)
        self.setObjectName("stage")
        self.panels = panels
        self.layout_shown: Layout | None = None
        self.stage = QSplitter(Qt.Orientation.Horizontal)
        self.stage.setChildrenCollapsible(False)
        self.setDocumentMode(True)
        # at 1280 px beside the settings the tabs outgrow the bar: each then gives up the end of
        # its title ("Loss and ta…", the whole one in its tooltip) rather than hide whole tabs
        # behind scroll arrows
        self.setElideMode(Qt.TextElideMode.ElideRight)
        self.setUsesScrollButtons(False)
        self.currentChanged.connect(self._on_current_changed)

    def show_layout(self, layout: Layout) -> None:
        self.blockSignals(True)
        try:
            while self.count():
                self.removeTab(0)
            for panel in self.panels.values():
                panel.setParent(None)
            for name in layout.stage:
                self.stage.addWidget(self.panels[name])
            self.stage.setSizes([1000] * len(layout.stage))
            self.addTab(self.stage, layout.title)
            self.setTabToolTip(0, layout.story)
            for name, panel in self.panels.items():
                # the other panels of this kind of run wait in tabs; the other kind's are put away
                if name not in layout.stage and layout.kind in panel.kinds:
                    tab = self.addTab(panel, panel.tab_title or panel.title)
                    self.setTabToolTip(tab, f"The {panel.title.lower()} panel")
            self.setCurrentIndex(0)
        finally:
            self.blockSignals(False)
        self.layout_shown = layout
        for name in layout.stage:
            self.panels[name].show()     # setParent(None) hid it; in the tabs, the tab decides
        for panel in self.panels.values():
            # a panel moved laid its plots out again in between: its texts fit its place anew
            QTimer.singleShot(0, panel, panel.fit_texts)
        self.shown_changed.emit()

    def on_stage(self) -> list[str]:
        """The panels that stand on the stage, left to right."""
        return [] if self.layout_shown is None else list(self.layout_shown.stage)

    def visible_panels(self) -> list:
        return [panel for panel in self.panels.values() if panel.isVisible()]

    def _on_current_changed(self, index: int) -> None:
        self.shown_changed.emit()
