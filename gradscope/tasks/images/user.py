"""The user's own images (--task images --images PATH): a folder of class folders or an .npz.

Which one is decided by the path, before anything is read: a name ending in .npz is read as
that file (npz.py), anything else must be a folder (folder.py). Each reader says what it
accepts. Every problem is one ConfigError for the option "images" that names the file, raised
before a model is built: a bad file is the likeliest mistake in front of a class, and it
should cost a sentence, not a traceback halfway through a lecture.
"""
from __future__ import annotations

import os
import stat
from pathlib import Path

from gradscope.config import ConfigError
from gradscope.tasks.images.dataset import CHANNELS, MAX_IMAGE_SIZE, MIN_IMAGE_SIZE, ImageSet
from gradscope.tasks.images.folder import read_folder
from gradscope.tasks.images.npz import read_npz

#: the side a folder's images are resized to when the run names none (MNIST's)
DEFAULT_FOLDER_SIZE = 28


def load_images(path: str | os.PathLike, image_size: int | None = None, colour: str = "grey") -> ImageSet:
    """The images at `path` as `colour` ("grey" or "rgb") images of image_size x image_size.
    image_size None keeps an .npz's own size and gives a folder's images DEFAULT_FOLDER_SIZE."""
    check_image_options(image_size, colour)
    path = Path(path).expanduser()
    if path.name.lower().endswith(".npz"):
        return read_npz(path, image_size, colour)   # a folder, FIFO or device named x.npz: refused there
    try:
        mode = os.stat(path).st_mode   # stat, not open: a FIFO must not block us
    except FileNotFoundError:
        raise ConfigError("images", f"{path} does not exist") from None
    except OSError as exc:
        raise ConfigError("images", f"cannot read {path}: {exc.strerror or exc}") from None
    if not stat.S_ISDIR(mode):
        raise ConfigError("images", f"{path} is neither a folder of class folders nor an .npz file")
    return read_folder(path, image_size or DEFAULT_FOLDER_SIZE, colour)


def check_image_options(image_size: int | None, colour: str) -> None:
    """A ConfigError for a colour or an image size gradscope does not make."""
    if colour not in CHANNELS:
        raise ConfigError("colour", f"{colour!r} is not a colour gradscope reads; give "
                                    + " or ".join(repr(name) for name in CHANNELS))
    if image_size is not None and (isinstance(image_size, bool) or not isinstance(image_size, int)
                                   or not MIN_IMAGE_SIZE <= image_size <= MAX_IMAGE_SIZE):
        raise ConfigError("image_size", f"{image_size!r} is not a whole number from {MIN_IMAGE_SIZE} to "
                                        f"{MAX_IMAGE_SIZE}")
