"""Files that appear whole or not at all: written to a temporary sibling, then renamed into place.

The temporary file lives in the target's own folder, so the rename never crosses a file system
and is atomic; it is created with mode 0o666 through the umask, so the result gets the same
permissions an ordinary `open(path, "w")` would have given it.
"""
from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path
from typing import IO, Iterator

from gradscope.export import ExportError


def reserve_temp(path: str | os.PathLike) -> Path:
    """An empty temporary file beside `path`; ExportError when that folder cannot take one."""
    target = Path(path)
    if target.is_dir():
        raise ExportError(f"cannot write {str(target)!r}: it is a folder")
    if os.path.lexists(target) and not target.is_file():
        # a device or a pipe: renaming over it would replace the node itself
        raise ExportError(f"cannot write {str(target)!r}: it exists and is not a regular file")
    folder = target.parent
    if not folder.is_dir():
        raise ExportError(f"cannot write {str(target)!r}: the folder {str(folder)!r} does not exist")
    for _ in range(100):
        temp = folder / f".{target.name}.{secrets.token_hex(4)}.tmp"
        try:
            os.close(os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        except FileExistsError:
            continue
        except OSError as exc:
            raise ExportError(f"cannot write {str(target)!r}: {exc.strerror or exc}") from None
        return temp
    raise ExportError(f"cannot write {str(target)!r}: no free temporary name in {str(folder)!r}")


def commit(temp: Path, path: str | os.PathLike) -> None:
    """Rename the finished `temp` onto `path` (replacing it); the temp is gone either way."""
    try:
        with open(temp, "rb+") as handle:   # flush to disk before the rename makes it visible
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except OSError as exc:
        discard(temp)
        raise ExportError(f"cannot write {str(path)!r}: {exc.strerror or exc}") from None


def discard(temp: Path) -> None:
    with contextlib.suppress(OSError):
        os.unlink(temp)


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike, mode: str = "wb", **open_args) -> Iterator[IO]:
    """An open file whose content replaces `path` only if the block finishes without error."""
    temp = reserve_temp(path)
    try:
        with open(temp, mode, **open_args) as handle:
            yield handle
    except OSError as exc:   # the disk filled up, the folder went away...
        discard(temp)
        raise ExportError(f"cannot write {str(path)!r}: {exc.strerror or exc}") from exc
    except BaseException:
        discard(temp)
        raise
    commit(temp, path)
