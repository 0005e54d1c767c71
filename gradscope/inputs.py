"""Reading a file a user names on the command line or in the window: regular files only,
checked after opening (a FIFO, a device or /dev/zero is refused at once instead of blocking or
never ending), and never more than a stated number of bytes, whatever the file claims."""
from __future__ import annotations

import os
import stat
from pathlib import Path

from gradscope.config.errors import ConfigError


def read_bounded(path: str | os.PathLike, option: str, limit: int) -> bytes:
    """The bytes of the regular file at `path`, at most `limit` of them; a ConfigError naming
    `option` and the file for anything else."""
    path = Path(path).expanduser()
    try:
        # O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except FileNotFoundError:
        raise ConfigError(option, f"{path} does not exist") from None
    except IsADirectoryError:
        raise ConfigError(option, f"{path} is a folder, not a file") from None
    except OSError as exc:
        raise ConfigError(option, f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        mode = os.fstat(descriptor).st_mode
        if stat.S_ISDIR(mode):
            raise ConfigError(option, f"{path} is a folder, not a file")
        if not stat.S_ISREG(mode):
            raise ConfigError(option, f"{path} is not a regular file (a pipe, a device or a socket)")
        os.set_blocking(descriptor, True)
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
