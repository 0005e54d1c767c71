"""A folder of the user's labelled images, one sub-folder per class, read with Pillow.

    PATH/
      cat/   a.png  b.jpg  ...
      dog/   c.jpeg ...

- The classes are the sub-folders, in the order of their names (code points, so the same on
  every machine); their names are the class names. Names starting with "." and macOS's
  __MACOSX are skipped.
- The images are the files in a class folder whose names end in .png, .jpg or .jpeg (any
  case), in name order; other files (a README, Thumbs.db) are ignored. A folder inside a class
  folder, or an image lying beside the class folders, is an error: guessing its class would
  train on a silently wrong label.
- Every image is brought to the colour and size the run asks for. Mixed colour modes are fine
  and are converted, as documented here: grey, palette, black-and-white, CMYK and colour files
  can share a folder; colour becomes grey with Pillow's ITU-R 601-2 luma, grey becomes three
  equal channels, transparency is laid over white (as a viewer shows it on a page), 16-bit
  greyscale keeps its 16 bits until it is scaled to [0, 1]. The EXIF orientation of a photo
  is applied. Each image is then resized to image_size x image_size with Pillow's antialiased
  bilinear filter, its aspect ratio not kept (a classifier wants one shape).

A folder is a stranger's data: every image is read as a regular file (inputs.read_bounded:
a FIFO, a device or a folder named x.png is refused at once), at most MAX_IMAGE_BYTES of it;
Pillow may open it only as PNG or JPEG; and its pixel count is checked from the header before
anything is decoded: Pillow's own decompression-bomb warning is an error here, and beyond it
gradscope decodes no image over MAX_SOURCE_PIXELS (a JPEG is first drafted to the smallest
scale its decoder offers at or above the size wanted). The number of images and of values is
checked against the caps in dataset.py before the set is allocated, so memory follows the files
actually listed, one decoded image at a time.
"""
from __future__ import annotations

import io
import os
import struct
import warnings
import zlib
from pathlib import Path

import numpy as np
import torch

from gradscope.config import ConfigError
from gradscope.inputs import read_bounded
from gradscope.tasks.images.dataset import CHANNELS, MAX_CLASSES, MAX_IMAGES, MAX_VALUES, ImageSet

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
MAX_IMAGE_BYTES = 50 * 1024 * 1024
MAX_SOURCE_PIXELS = 40_000_000
#: entries listed in all, images or not: a folder of millions of files is refused while listing
MAX_ENTRIES = 2 * MAX_IMAGES
SKIPPED_NAMES = ("__MACOSX",)

EIGHT_BIT_MODES = {"1", "L", "LA", "La", "P", "PA", "RGB", "RGBA", "RGBa", "RGBX", "CMYK", "YCbCr"}
SIXTEEN_BIT_MODES = {"I;16", "I;16B", "I;16L", "I;16N", "I"}   # "I": 16-bit PNGs in older Pillows

# What a damaged or hostile PNG or JPEG makes Pillow's decoders raise.
DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, struct.error, zlib.error, KeyError, IndexError,
                 TypeError)


def read_folder(folder: Path, image_size: int, colour: str) -> ImageSet:
    classes = _class_files(folder)
    count = sum(len(files) for _, files in classes)
    channels = CHANNELS[colour]
    if count > MAX_IMAGES:
        raise ConfigError("images", f"{folder} holds {count:,} images, more than the {MAX_IMAGES:,} "
                                    "gradscope reads; use a smaller set")
    if count * channels * image_size * image_size > MAX_VALUES:
        raise ConfigError("images", f"{folder}: {count:,} images of {channels}x{image_size}x{image_size} "
                                    f"are more than {MAX_VALUES:,} values; use fewer images or a smaller "
                                    "--image-size")
    images = np.empty((count, channels, image_size, image_size), dtype=np.float32)
    labels = np.empty(count, dtype=np.int64)
    at = 0
    for label, (_, files) in enumerate(classes):
        for path in files:
            images[at] = read_image(path, image_size, colour)
            labels[at] = label
            at += 1
    return ImageSet(torch.from_numpy(images), torch.from_numpy(labels),
                    tuple(name for name, _ in classes), str(folder))


def _class_files(folder: Path) -> list[tuple[str, list[Path]]]:
    """[(class name, its image paths)], both in name order, checked for the mistakes above."""
    listed = [0]   # entries listed so far, shared by the calls below
    class_folders = []
    for entry in _entries(folder, folder, listed):
        if _is_dir(entry):
            class_folders.append(entry)
        elif entry.name.lower().endswith(IMAGE_SUFFIXES):
            raise ConfigError("images", f"{folder / entry.name} lies beside the class folders of {folder}; "
                                        "put every image in the folder of its class")
    if not class_folders:
        raise ConfigError("images", f"{folder} has no class folders: put the PNG or JPEG images of each "
                                    "class in a sub-folder named after it (or give an .npz file)")
    if len(class_folders) == 1:
        raise ConfigError("images", f"{folder} has only one class folder ({class_folders[0].name}); "
                                    "a classifier needs at least two")
    if len(class_folders) > MAX_CLASSES:
        raise ConfigError("images", f"{folder} has {len(class_folders)} class folders; gradscope "
                                    f"classifies up to {MAX_CLASSES} classes")
    classes = []
    for class_entry in class_folders:
        class_folder = folder / class_entry.name
        images, others = [], []
        for entry in _entries(class_folder, folder, listed):
            if entry.name.lower().endswith(IMAGE_SUFFIXES):
                images.append(class_folder / entry.name)   # whatever it is: reading it will say
            elif _is_dir(entry):
                raise ConfigError("images", f"{class_folder} holds a folder ({entry.name}); put the "
                                            "images directly in each class folder")
            else:
                others.append(entry.name)
        if not images:
            files = "file" if len(others) == 1 else "files"
            held = f" (it holds {len(others)} other {files}, such as {others[0]})" if others else ""
            raise ConfigError("images", f"the class folder {class_folder} holds no PNG or JPEG images{held}")
        classes.append((class_entry.name, images))
    return classes


def _entries(folder: Path, root: Path, listed: list[int]) -> list[os.DirEntry]:
    entries = []
    try:
        with os.scandir(folder) as scan:
            for entry in scan:
                if entry.name.startswith(".") or entry.name in SKIPPED_NAMES:
                    continue
                entries.append(entry)
                listed[0] += 1
                if listed[0] > MAX_ENTRIES:
                    raise ConfigError("images", f"{root} holds more than {MAX_ENTRIES:,} files in its class "
                                                "folders; use a smaller set")
    except OSError as exc:
        raise ConfigError("images", f"cannot list {folder}: {exc.strerror or exc}") from None
    return sorted(entries, key=lambda entry: entry.name)


def _is_dir(entry: os.DirEntry) -> bool:
    try:
        return entry.is_dir()   # follows a link, as the reader will
    except OSError:
        return False


def read_image(path: Path, image_size: int, colour: str) -> np.ndarray:
    """One image file as float32 [C, image_size, image_size] in [0, 1], or a ConfigError naming it."""
    from PIL import Image, ImageOps   # only those who read image folders pay for importing Pillow

    data = read_bounded(path, "images", MAX_IMAGE_BYTES)
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(data), formats=["PNG", "JPEG"]) as image:
                image.draft(image.mode, (image_size, image_size))   # a JPEG decodes smaller; else nothing
                width, height = image.size
                if width * height > MAX_SOURCE_PIXELS:
                    raise ConfigError("images", f"{path} is {width} x {height} pixels, more than the "
                                                f"{MAX_SOURCE_PIXELS:,} gradscope decodes; make it smaller")
                image.load()
                ImageOps.exif_transpose(image, in_place=True)
                return _pixels(image, path, image_size, colour)
        except ConfigError:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise ConfigError("images", f"{path} claims more pixels than gradscope decodes ({exc})") from None
        except Image.UnidentifiedImageError:
            raise ConfigError("images", f"{path} is not a PNG or JPEG image") from None
        except DECODE_ERRORS as exc:
            raise ConfigError("images", f"{path} is damaged or cut short ({type(exc).__name__}: {exc})") from None


def _pixels(image, path: Path, image_size: int, colour: str) -> np.ndarray:
    from PIL import Image

    size = (image_size, image_size)
    if image.mode in SIXTEEN_BIT_MODES:
        values = np.asarray(image).astype(np.float32)
        if values.min() < 0 or values.max() > 65535:
            raise ConfigError("images", f"{path} holds values outside 16 bits (mode {image.mode})")
        grey = np.asarray(Image.fromarray(values / 65535).resize(size, Image.Resampling.BILINEAR))
        grey = np.clip(grey, 0, 1)[None]
        return grey if colour == "grey" else np.repeat(grey, 3, axis=0)
    if image.mode not in EIGHT_BIT_MODES:
        raise ConfigError("images", f"{path} has pixel mode {image.mode}, which gradscope does not read; "
                                    "save it as an 8-bit PNG or JPEG")
    if "A" in image.mode or "a" in image.mode or "transparency" in image.info:
        image = Image.alpha_composite(Image.new("RGBA", image.size, (255, 255, 255, 255)), image.convert("RGBA"))
    if image.mode not in ("L", "RGB"):
        image = image.convert("RGB")
    image = image.convert("L" if colour == "grey" else "RGB").resize(size, Image.Resampling.BILINEAR)
    pixels = np.asarray(image, dtype=np.float32) / 255
    return pixels[None] if colour == "grey" else pixels.transpose(2, 0, 1)
