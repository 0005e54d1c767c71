"""Session files as files: where a live session is written, and a consistent copy of one that
may still be being written. Plain sqlite3, no Qt."""
from __future__ import annotations

import datetime
import os
import sqlite3
from pathlib import Path

SESSION_SUFFIX = ".gscope"


def new_session_path(directory: Path) -> Path:
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    path = directory / f"live-{stamp}{SESSION_SUFFIX}"
    counter = 1
    while path.exists():
        counter += 1
        path = directory / f"live-{stamp}-{counter}{SESSION_SUFFIX}"
    return path


def copy_session(source: Path, target: Path) -> None:
    """A consistent copy of a session that may be being written (SQLite's online backup)."""
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        dst = sqlite3.connect(partial)
        try:
            src.backup(dst)
            dst.execute("PRAGMA journal_mode=DELETE")
        finally:
            dst.close()
    finally:
        src.close()
    os.replace(partial, target)
