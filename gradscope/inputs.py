"""Reading a file a user names on the command line or in the window: regular files only,
checked after opening (a FIFO, a device or /dev/zero is refused at once instead of blocking or
never ending), and never more than a stated number of bytes, whatever the file claims."""
from __future__ import annotations

import os
import stat
from pathlib import Path

from gradscope.config.errors import ConfigError


class NotReadable(Exception):
    """Why a path cannot be read as a regular file. `kind` is "missing", "folder", "special"
    (a pipe, a device or a socket), "error" (it cannot be opened) or "unreadable" (opened, but
    a read failed); `reason` the OS's words for the last two."""

    def __init__(self, kind: str, reason: str = ""):
        super().__init__(kind, reason)
        self.kind, self.reason = kind, reason

    @property
    def failure(self) -> str:
        """The words for an "error" or "unreadable" kind: "cannot open (...)", "cannot read (...)"."""
        return f"{'cannot read' if self.kind == 'unreadable' else 'cannot open'} ({self.reason})"


def open_regular(path: str | os.PathLike) -> int:
    """A blocking read-only descriptor of the regular file at `path`, or NotReadable. Opened
    with O_NONBLOCK (opening a FIFO would otherwise wait for a writer), then checked with fstat
    on what was opened: a path checked before opening can change in between."""
    try:
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except FileNotFoundError:
        raise NotReadable("missing") from None
    except IsADirectoryError:
        raise NotReadable("folder") from None
    except OSError as exc:
        raise NotReadable("error", str(exc.strerror or exc)) from None
    try:
        mode = os.fstat(descriptor).st_mode
        if not stat.S_ISREG(mode):
            raise NotReadable("folder" if stat.S_ISDIR(mode) else "special")
        os.set_blocking(descriptor, True)
    except OSError as exc:
        os.close(descriptor)
        raise NotReadable("error", str(exc.strerror or exc)) from None
    except NotReadable:
        os.close(descriptor)
        raise
    return descriptor


def read_head(path: str | os.PathLike, count: int) -> bytes:
    """The first `count` bytes (or fewer) of the regular file at `path`, or NotReadable."""
    descriptor = open_regular(path)
    try:
        return os.read(descriptor, count)
    except OSError as exc:
        raise NotReadable("unreadable", str(exc.strerror or exc)) from None
    finally:
        os.close(descriptor)


def read_bounded(path: str | os.PathLike, option: str, limit: int) -> bytes:
    """The bytes of the regular file at `path`, at most `limit` of them; a ConfigError naming
    `option` and the file for anything else."""
    path = Path(path).expanduser()
    try:
        descriptor = open_regular(path)
    except NotReadable as exc:
        problem = {"missing": "does not exist", "folder": "is a folder, not a file",
                   "special": "is not a regular file (a pipe, a device or a socket)"}.get(exc.kind)
        raise ConfigError(option, f"{path} {problem}" if problem else f"cannot read {path}: {exc.reason}") from None
    try:
        chunks, size = [], 0
        while size <= limit:
            chunk = os.read(descriptor, min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as exc:
        raise ConfigError(option, f"cannot read {path}: {exc.strerror or exc}") from None
    finally:
        os.close(descriptor)
    data = b"".join(chunks)
    if len(data) > limit:
        raise ConfigError(option, f"{path} is larger than {_size(limit)}; use a smaller file")
    return data


def _size(limit: int) -> str:
    return f"{limit // (1024 * 1024)} MB" if limit >= 1024 * 1024 else f"{limit // 1024} KB"
