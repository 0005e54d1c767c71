"""The divergence banner: which run diverged, at which step, what became NaN or infinite, and
what to try; dismissed with its button (or Escape). Numbers are shown as a reader takes them
in (8.12e+20), never as Python prints a float."""
from __future__ import annotations

import math

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QToolBar, QWidget

from gradscope.records import non_finite_words
from gradscope.ui import theme


BESIDE_TEXT_PX = 24      # the row's spacing, the label's 6 px padding each side, and a toolbar's margin


def readable(value) -> str:
    """A recorded number as a person reads it: 3 significant digits, 'inf' and 'NaN' in words."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    if math.isnan(number):
        return "NaN"
    if math.isinf(number):
        return "infinite" if number > 0 else "−infinite"
    return f"{number:.3g}"


def divergence_text(slot, event, replay: bool) -> str:
    detail = event.detail
    what = non_finite_words(detail.get("non_finite") or "loss")
    config = slot.config
    if replay:
        hint = ("fork from an earlier step (right-click the timeline) with clipping on or a lower learning rate"
                if config.clip_mode == "none" else
                "fork from an earlier step (right-click the timeline) with a lower threshold or learning rate")
    else:
        hint = ("turn on clipping (clipping: norm) or lower the learning rate, then press Run for a new run"
                if config.clip_mode == "none" else
                "lower the clip threshold or the learning rate, then press Run for a new run")
    which = f" ({slot.label})" if slot.label else ""
    return (f"Diverged{which} at step {event.step}: {what} became NaN or infinite "
            f"(loss {readable(detail.get('loss'))}, gradient norm {readable(detail.get('grad_norm'))}). "
            f"Hint: {hint}.")


class Banner(QToolBar):
    """A red bar under the toolbar; `show_text` shows it, its Dismiss button hides it."""

    def __init__(self, parent=None):
        super().__init__("Alerts", parent)
        self.setObjectName("toolbar-banner")
        self.setMovable(False)
        body = QWidget()
        row = QHBoxLayout(body)
        row.setContentsMargins(0, 0, 0, 0)
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.label.setStyleSheet(f"color: white; font-size: {theme.FONT_POINTS + 1}pt; font-weight: bold; "
                                 "padding: 2px 6px;")
        self.dismiss = QPushButton("Dismiss")
        self.dismiss.setToolTip("Hide this message (Escape)")
        self.dismiss.clicked.connect(self.hide)
        row.addWidget(self.label, 1)
        row.addWidget(self.dismiss, 0)
        body.setStyleSheet(f"background: {theme.COLORS['red']};")
        self.addWidget(body)
        self.hide()

    def show_text(self, text: str) -> None:
        self.label.setText(text)
        self.show()
        self._fit_height()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._fit_height()

    def _fit_height(self) -> None:
        """As high as its wrapped text at the width it has: a toolbar lays a word-wrapped label
        out by its size hint, which wraps it as if it were narrow (232 px of banner, at
        1280x720, for four lines of text)."""
        width = self.width() - self.dismiss.sizeHint().width() - BESIDE_TEXT_PX
        if width > 0:
            self.label.setFixedHeight(self.label.heightForWidth(width))

    def text(self) -> str:
        return self.label.text()
