"""Reading a user's data file with errors a lecturer can act on.

Every problem becomes a ConfigError naming the command-line option and the file, never a
traceback: a bad file is the most likely mistake in front of a class.
"""
from __future__ import annotations

from pathlib import Path

from gradscope.config import ConfigError
from gradscope.inputs import read_bounded

MAX_FILE_BYTES = 50 * 1024 * 1024


def read_text_file(path: str | Path, option: str) -> str:
    """The file's text: UTF-8, BOM removed, line endings normalised to '\\n'."""
    path = Path(path).expanduser()
    # regular files only, checked after opening, and never more than the limit read
    raw = read_bounded(path, option, MAX_FILE_BYTES)
    if not raw.strip():
        raise ConfigError(option, f"{path} is empty")
    if b"\x00" in raw:
        raise ConfigError(option, f"{path} looks binary (it contains NUL bytes); give a plain text "
                                  "file saved as UTF-8")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(option, f"{path} is not UTF-8 text (undecodable byte at offset "
                                  f"{exc.start}); save it as UTF-8") from None
    if text.startswith("\ufeff"):
        text = text[1:]
    # Windows and old-Mac line endings would otherwise add '\r' to a char model's vocabulary.
    return text.replace("\r\n", "\n").replace("\r", "\n")
