"""The user's images as an .npz file (numpy.savez or savez_compressed) holding `images` and `labels`.

- images: [N, H, W] (grey), or [N, H, W, C] or [N, C, H, W] with C = 1 or 3: channels last
  when the last axis is 1 or 3 (numpy's and Pillow's layout), else first (torch's).
  uint8 is divided by 255, uint16 by 65535, bool is 0 or 1; other integers must lie in
  0..255 and are read as 8-bit; floats must already lie in [0, 1].
- labels: [N], integers (not negative) or strings. The classes are the distinct labels in
  sorted order, named by their values ("0", "3", "7" or "cat", "dog"); gaps are closed up.
Other members are ignored. The images are then conformed to the size (None: their own) and
colour asked for, as ImageSet.conformed says.

An .npz is a zip of .npy files, and both layers make claims: a zip member states its inflated
size, an .npy header its shape, and np.load allocates what the header says before reading a
byte. So nothing here is sized from a claim. The file is read whole, at most MAX_NPZ_BYTES; a
member is inflated by at most MAX_MEMBER_BYTES (stored or deflated only, as numpy writes them:
bzip2 and lzma inflate without a bound); its header's shape must account for exactly the bytes
inflated, and only then does np.lib.format.read_array (allow_pickle=False) make the array.
Object arrays are refused before that: they would be pickles.
"""
from __future__ import annotations

import io
import math
import zipfile
import zlib
from pathlib import Path

import numpy as np
import torch

from gradscope.config import ConfigError
from gradscope.inputs import read_bounded
from gradscope.tasks.images.dataset import CHANNELS, MAX_CLASSES, MAX_IMAGES, MAX_VALUES, ImageSet

MAX_NPZ_BYTES = 256 * 1024 * 1024
MAX_MEMBER_BYTES = 256 * 1024 * 1024
IMAGE_KINDS = "buif"     # bool, unsigned, signed, float
LABEL_KINDS = "uiU"      # unsigned, signed, unicode strings


def read_npz(path: Path, image_size: int | None, colour: str) -> ImageSet:
    raw = read_bounded(path, "images", MAX_NPZ_BYTES)
    try:
        archive = zipfile.ZipFile(io.BytesIO(raw))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError):
        raise ConfigError("images", f"{path} is not an .npz file (it is not a zip archive); save it "
                                    "with numpy.savez") from None
    with archive:
        images = _array(archive, "images", IMAGE_KINDS, path)
        labels = _array(archive, "labels", LABEL_KINDS, path)
    stored_shape = images.shape
    images = _as_nchw(images, path)
    count, channels, height, width = images.shape
    if count == 0:
        raise ConfigError("images", f"{path} holds no images (images has shape {stored_shape})")
    if count > MAX_IMAGES:
        raise ConfigError("images", f"{path} holds {count:,} images, more than the {MAX_IMAGES:,} "
                                    "gradscope reads; use a smaller set")
    # as read and as asked for: both are in memory for a moment
    for shape in ((channels, height, width), (CHANNELS[colour], image_size or height, image_size or width)):
        if count * math.prod(shape) > MAX_VALUES:
            raise ConfigError("images", f"{path}: {count:,} images of {'x'.join(map(str, shape))} are more than "
                                        f"{MAX_VALUES:,} values; use fewer images or a smaller --image-size")
    if labels.shape != (count,):
        raise ConfigError("images", f"{path}: labels has shape {labels.shape}, but there are {count:,} "
                                    f"images; give one label per image ([{count}])")
    label_ids, names = _classes(labels, path)
    pixels = torch.from_numpy(_scaled(images, path))
    return ImageSet(pixels, torch.from_numpy(label_ids), names, str(path)).conformed(image_size, colour)


def _array(archive: zipfile.ZipFile, key: str, kinds: str, path: Path) -> np.ndarray:
    name = f"{key}.npy"
    try:
        info = archive.getinfo(name)
    except KeyError:
        held = ", ".join(sorted(n.removesuffix(".npy") for n in archive.namelist())[:10]) or "nothing"
        raise ConfigError("images", f"{path} has no {key!r} array (it holds {held}); save it with "
                                    "numpy.savez(path, images=..., labels=...)") from None
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise ConfigError("images", f"{path}: its {key} array is compressed in a way numpy never writes; "
                                    "save it with numpy.savez or savez_compressed")
    try:
        with archive.open(info) as member:
            data = member.read(MAX_MEMBER_BYTES + 1)
    except (zipfile.BadZipFile, zlib.error, EOFError, RuntimeError, NotImplementedError, ValueError,
            OSError) as exc:
        raise ConfigError("images", f"{path}: its {key} array cannot be read ({exc})") from None
    if len(data) > MAX_MEMBER_BYTES:
        raise ConfigError("images", f"{path}: its {key} array is larger than {MAX_MEMBER_BYTES // 2**20} MB; "
                                    "use a smaller set")
    stream = io.BytesIO(data)
    try:
        version = np.lib.format.read_magic(stream)
        if version == (1, 0):
            shape, fortran_order, dtype = np.lib.format.read_array_header_1_0(stream)
        elif version == (2, 0):
            shape, fortran_order, dtype = np.lib.format.read_array_header_2_0(stream)
        else:
            raise ValueError(f"format version {version[0]}.{version[1]}, which plain arrays never need")
    except ValueError as exc:
        raise ConfigError("images", f"{path}: its {key} array is not a readable .npy array ({exc})") from None
    if dtype.hasobject or dtype.fields is not None or dtype.subdtype is not None or dtype.kind not in kinds:
        what = "Python objects, which would have to be unpickled" if dtype.hasobject else f"dtype {dtype}"
        allowed = "numbers" if key == "images" else "integers or strings"
        raise ConfigError("images", f"{path}: its {key} array holds {what}; gradscope reads {allowed} only")
    if any(side < 0 for side in shape):
        raise ConfigError("images", f"{path}: its {key} array has an impossible shape {shape}")
    held = len(data) - stream.tell()
    if math.prod(shape) * dtype.itemsize != held:
        raise ConfigError("images", f"{path}: its {key} array claims shape {shape} of {dtype}, but holds "
                                    f"{held:,} bytes; the file is damaged")
    stream.seek(0)
    return np.lib.format.read_array(stream, allow_pickle=False)


def _as_nchw(images: np.ndarray, path: Path) -> np.ndarray:
    if images.ndim == 3:
        return images[:, None]
    if images.ndim == 4 and images.shape[3] in (1, 3):
        return images.transpose(0, 3, 1, 2)
    if images.ndim == 4 and images.shape[1] in (1, 3):
        return images
    raise ConfigError("images", f"{path}: images has shape {images.shape}; give [N, H, W], or [N, H, W, C] "
                                "or [N, C, H, W] with 1 or 3 channels")


def _scaled(images: np.ndarray, path: Path) -> np.ndarray:
    """float32 [0, 1] as the module docstring says, C-contiguous."""
    kind, dtype = images.dtype.kind, images.dtype
    if kind == "b" or (kind == "u" and dtype.itemsize <= 2):   # either byte order
        top = 1 if kind == "b" else (1 << (8 * dtype.itemsize)) - 1
        return np.ascontiguousarray(images, dtype=np.float32) / np.float32(top)
    low, high = images.min(), images.max()   # NaN propagates, and fails the test below
    if kind in "ui":
        if low < 0 or high > 255:
            raise ConfigError("images", f"{path}: images of {dtype} run from {low} to {high}; integers "
                                        "must lie in 0..255 (or save uint8 or uint16)")
        return np.ascontiguousarray(images, dtype=np.float32) / np.float32(255)
    if not (0 <= low and high <= 1):
        raise ConfigError("images", f"{path}: images of {dtype} run from {low} to {high}; floats must lie "
                                    "in [0, 1] (or save uint8 0..255)")
    return np.ascontiguousarray(images, dtype=np.float32)


def _classes(labels: np.ndarray, path: Path) -> tuple[np.ndarray, tuple[str, ...]]:
    if labels.dtype.kind in "ui" and labels.size and labels.min() < 0:
        raise ConfigError("images", f"{path}: labels holds {labels.min()}; class labels are 0 or more "
                                    "(or strings)")
    values, ids = np.unique(labels, return_inverse=True)
    if len(values) < 2:
        only = f" ({values[0]})" if len(values) else ""
        raise ConfigError("images", f"{path}: labels holds a single class{only}; a classifier needs at "
                                    "least two")
    if len(values) > MAX_CLASSES:
        raise ConfigError("images", f"{path}: labels holds {len(values)} classes; gradscope classifies up to "
                                    f"{MAX_CLASSES}")
    return ids.astype(np.int64).reshape(-1), tuple(str(value) for value in values.tolist())
