"""Frame pacing: which panels one frame redraws.

Redrawing all six panels at once costs the GUI thread several frames' worth (about 30 ms with
10,000 steps of history). A frame instead redraws the visible panels the lab model changed under,
those drawn longest ago first, as many as fit in `FRAME_BUDGET_MS` by what each has cost
lately (at least one). Every panel still follows within a few frames, and the window stays
responsive. Panels a frame left over are drawn by a catch-up frame one tick later, even when
nothing new arrives.
"""
from __future__ import annotations

from PySide6.QtCore import QObject, QTimer

FRAME_BUDGET_MS = 8.0
FRAME_INTERVAL_MS = 33        # the window pumps the lab, and may draw a frame, this often


class FramePacer(QObject):
    def __init__(self, draw_frame, parent: QObject | None = None):
        super().__init__(parent)
        self.frames = 0
        self.catch_up = QTimer(self)
        self.catch_up.setSingleShot(True)
        self.catch_up.setInterval(FRAME_INTERVAL_MS)
        self.catch_up.timeout.connect(draw_frame)

    def draw(self, lab, panels: list, everything: bool = False) -> int:
        """Refresh the due panels of `panels` (the visible ones) from `lab`; how many drew."""
        stale = sorted((panel for panel in panels if panel.stale(lab)), key=lambda panel: panel.drawn_at)
        spent, drawn = 0.0, 0
        for panel in stale:
            if drawn and not everything and spent + panel.cost_ms >= FRAME_BUDGET_MS:
                break
            spent += panel.cost_ms
            drawn += 1
            self.frames += 1
            panel.drawn_at = self.frames
            panel.refresh(lab)
        if drawn < len(stale):
            self.catch_up.start()            # (re)started: fires only if no frame comes first
        else:
            self.catch_up.stop()
        return drawn

    def stop(self) -> None:
        self.catch_up.stop()
