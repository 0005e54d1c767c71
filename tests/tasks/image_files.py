"""Image files for the image-loader tests, good ones and crafted ones, written into tmp_path.

The crafted ones are made from bytes, as a hostile or broken file would be: a PNG whose header
claims 20,000 x 20,000 pixels over a few bytes of data (https://www.w3.org/TR/png/, 5.3 and
11.2.1: a chunk is length, type, data, CRC-32 of type and data), and .npy members whose header
claims a shape the bytes behind it do not hold (numpy.lib.format).
"""
from __future__ import annotations

import io
import struct
import zipfile
import zlib
from pathlib import Path

import numpy as np
from PIL import Image

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def claiming_png(path: Path, width: int, height: int) -> Path:
    """An 8-bit greyscale PNG header claiming width x height, with one tiny IDAT behind it."""
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    path.write_bytes(PNG_SIGNATURE + png_chunk(b"IHDR", header)
                     + png_chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + png_chunk(b"IEND", b""))
    return path


def image_bytes(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def noise(mode: str = "L", size: tuple[int, int] = (24, 24), seed: int = 0) -> Image.Image:
    channels = {"L": 1, "RGB": 3, "RGBA": 4}[mode]
    values = np.random.default_rng(seed).integers(0, 256, (size[1], size[0], channels), dtype=np.uint8)
    return Image.fromarray(values[:, :, 0] if channels == 1 else values, mode)


def write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def class_folders(root: Path, per_class: dict[str, int], fmt: str = "PNG") -> Path:
    """root/<class>/<i>.png of grey noise, `per_class[name]` images each; returns root."""
    suffix = {"PNG": "png", "JPEG": "jpg"}[fmt]
    for number, (name, count) in enumerate(per_class.items()):
        for i in range(count):
            write(root / name / f"{i}.{suffix}", image_bytes(noise(seed=100 * number + i), fmt))
    return root


def npz(path: Path, **arrays) -> Path:
    np.savez(path, **arrays)
    return path


def npy_bytes(shape: tuple, descr: str, payload: bytes) -> bytes:
    """An .npy file whose header says `shape` and `descr`, whatever `payload` holds."""
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, {"descr": descr, "fortran_order": False, "shape": shape})
    return buffer.getvalue() + payload


def raw_npz(path: Path, members: dict[str, bytes], compression: int = zipfile.ZIP_STORED) -> Path:
    """An .npz of hand-made members: name (without .npy) -> the member's bytes."""
    with zipfile.ZipFile(path, "w", compression=compression) as archive:
        for name, data in members.items():
            archive.writestr(f"{name}.npy", data)
    return path


def npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=True)
    return buffer.getvalue()
