"""Qt's offscreen platform says "This plugin does not support propagateSizeHints()" each time
a window, a dock or a toolbar is shown or resized: four times an image export, and on every
headless export. It is noise (the plugin draws into memory and has no window manager to give
size hints to), so it is dropped, exactly that message; everything else Qt says passes on to
the handler that was there before, or to stderr in Qt's own format."""
from __future__ import annotations

import sys

from PySide6.QtCore import qFormatLogMessage, qInstallMessageHandler

NOISE = frozenset({"This plugin does not support propagateSizeHints()"})

_passed_on = None     # the handler installed before ours


def _handler(kind, context, message: str) -> None:
    if message in NOISE:
        return
    if _passed_on is not None:
        _passed_on(kind, context, message)
    else:
        print(qFormatLogMessage(kind, context, message), file=sys.stderr)


def drop_offscreen_noise() -> None:
    """Install the filter; again after someone else replaced it (pytest-qt does, each test),
    and without stacking it on itself."""
    global _passed_on
    previous = qInstallMessageHandler(_handler)
    if previous is not _handler:
        _passed_on = previous
