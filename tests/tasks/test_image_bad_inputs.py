"""Every bad or hostile image input is one ConfigError for --images that names the file, before
any training, and none of them hangs or makes gradscope allocate what a header claims."""
from __future__ import annotations

import os
import struct
import zipfile

import numpy as np
import pytest
from image_files import (class_folders, claiming_png, image_bytes, noise, npy, npy_bytes, npz, raw_npz,
                         write)
from PIL import Image, PngImagePlugin

from gradscope.config import ConfigError
from gradscope.tasks.images import folder as folder_reader
from gradscope.tasks.images import load_images
from gradscope.tasks.images import npz as npz_reader

pytestmark = pytest.mark.timeout(60)

LABELS = np.array([0, 1, 0, 1])
IMAGES = np.zeros((4, 8, 8), np.uint8)


def expect(match, path, *, names=None, option="images", **options):
    with pytest.raises(ConfigError) as caught:
        load_images(path, **options)
    message = str(caught.value)
    assert caught.value.option == option and message.startswith(f"--{option.replace('_', '-')}: "), message
    assert match in message, message
    assert str(names or path) in message, f"the message names the file: {message}"
    return message


@pytest.fixture
def pets(tmp_path):
    """A good folder, two classes of two PNGs, for the cases to spoil."""
    return class_folders(tmp_path / "pets", {"cat": 2, "dog": 2})


@pytest.fixture
def never_decoded(monkeypatch):
    """Decoding a PNG of more than 1,000 pixels fails the test (the good ones are 24 x 24): a
    claim must be refused from the header alone."""
    decode = PngImagePlugin.PngImageFile.load

    def load(self):
        if self.size[0] * self.size[1] > 1000:
            raise AssertionError(f"a {self.size} PNG was decoded")
        return decode(self)
    monkeypatch.setattr(PngImagePlugin.PngImageFile, "load", load)


# -- the folder's layout ---------------------------------------------------------------------------

def test_no_class_folders(tmp_path):
    (tmp_path / "empty").mkdir()
    expect("has no class folders", tmp_path / "empty")


def test_images_beside_the_class_folders(pets):
    stray = write(pets / "stray.png", image_bytes(noise(), "PNG"))
    expect("lies beside the class folders", pets, names=stray)


def test_a_single_class(tmp_path):
    root = class_folders(tmp_path / "one", {"cat": 3})
    expect("only one class folder (cat)", root)


def test_a_class_folder_without_images(pets):
    write(pets / "emu" / "notes.txt", b"to do")
    expect("holds no PNG or JPEG images (it holds 1 other file, such as notes.txt)", pets, names=pets / "emu")


def test_a_folder_inside_a_class_folder(pets):
    class_folders(pets / "cat", {"kittens": 1})
    expect("holds a folder (kittens)", pets, names=pets / "cat")


def test_too_many_classes(tmp_path, monkeypatch):
    monkeypatch.setattr(folder_reader, "MAX_CLASSES", 3)
    expect("4 class folders", class_folders(tmp_path / "many", dict.fromkeys("abcd", 1)))


def test_too_many_images_or_values_are_refused_before_any_is_read(pets, monkeypatch, never_decoded):
    monkeypatch.setattr(folder_reader, "MAX_IMAGES", 3)
    expect("4 images, more than the 3", pets)
    monkeypatch.setattr(folder_reader, "MAX_IMAGES", 100)
    monkeypatch.setattr(folder_reader, "MAX_VALUES", 4 * 32 * 32 - 1)
    expect("more than 4,095 values", pets, image_size=32)


def test_too_many_files_are_refused_while_listing(pets, monkeypatch):
    for i in range(6):
        write(pets / "dog" / f"note{i}.txt", b"")
    monkeypatch.setattr(folder_reader, "MAX_ENTRIES", 8)
    expect("more than 8 files in its class folders", pets)


# -- the images themselves -------------------------------------------------------------------------

def test_not_an_image(pets):
    bad = write(pets / "cat" / "2.png", os.urandom(2000))
    expect("is not a PNG or JPEG image", pets, names=bad)


def test_another_format_named_png(pets):
    gif = write(pets / "cat" / "2.png", image_bytes(noise(), "GIF"))
    expect("is not a PNG or JPEG image", pets, names=gif)


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
def test_a_truncated_image(pets, fmt):
    data = image_bytes(noise(size=(64, 64)), fmt)
    cut = write(pets / "dog" / f"9.{fmt.lower()}", data[:len(data) // 2])
    expect("is damaged or cut short", pets, names=cut)


def test_a_damaged_png_chunk(pets):
    data = bytearray(image_bytes(noise(size=(32, 32)), "PNG"))
    data[60] ^= 0xFF                                   # inside the image data: its CRC no longer fits
    bad = write(pets / "dog" / "9.png", bytes(data))
    expect("is damaged or cut short", pets, names=bad)


def test_a_decompression_bomb_is_refused_from_its_header(pets, never_decoded):
    """20,000 x 20,000 would be 400 MB decoded; the file is a few dozen bytes."""
    bomb = claiming_png(pets / "cat" / "bomb.png", 20_000, 20_000)
    assert bomb.stat().st_size < 200
    expect("claims more pixels than gradscope decodes", pets, names=bomb)


def test_a_bomb_is_refused_even_with_pillows_guard_off(pets, monkeypatch, never_decoded):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", None)
    bomb = claiming_png(pets / "cat" / "bomb.png", 20_000, 20_000)
    expect("is 20000 x 20000 pixels, more than the 40,000,000", pets, names=bomb)


def test_an_image_below_pillows_warning_but_over_the_cap(pets, never_decoded):
    big = claiming_png(pets / "cat" / "big.png", 9_000, 9_000)           # 81 M: Pillow would decode it
    expect("is 9000 x 9000 pixels", pets, names=big)


def test_pillows_bomb_warning_is_an_error(pets, monkeypatch, never_decoded):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)               # warns above 1,000, fails above 2,000
    warned = claiming_png(pets / "cat" / "warned.png", 40, 40)
    expect("claims more pixels", pets, names=warned)


def test_an_image_file_too_large_to_read(pets, monkeypatch):
    monkeypatch.setattr(folder_reader, "MAX_IMAGE_BYTES", 100)
    expect("is larger than", pets, names=pets / "cat" / "0.png")


def test_a_fifo_a_device_and_a_folder_where_an_image_should_be(pets):
    fifo = pets / "cat" / "pipe.png"
    os.mkfifo(fifo)                       # nothing writes to it: a blocking open would wait for ever
    expect("is not a regular file", pets, names=fifo)
    fifo.unlink()
    (pets / "cat" / "zero.png").symlink_to("/dev/zero")
    expect("is not a regular file", pets, names=pets / "cat" / "zero.png")
    (pets / "cat" / "zero.png").unlink()
    (pets / "cat" / "folder.png").mkdir()
    expect("is a folder, not a file", pets, names=pets / "cat" / "folder.png")


def test_a_broken_link_and_an_unreadable_image(pets):
    (pets / "cat" / "gone.png").symlink_to(pets / "nowhere.png")
    expect("does not exist", pets, names=pets / "cat" / "gone.png")
    (pets / "cat" / "gone.png").unlink()
    locked = pets / "dog" / "0.png"
    os.chmod(locked, 0)
    try:
        if os.access(locked, os.R_OK):
            pytest.skip("running as root: permissions are not enforced")
        expect("cannot read", pets, names=locked)
    finally:
        os.chmod(locked, 0o644)


# -- the path itself -------------------------------------------------------------------------------

def test_a_path_that_is_neither_folder_nor_npz(tmp_path):
    expect("does not exist", tmp_path / "nowhere")
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    expect("neither a folder of class folders nor an .npz file", fifo)
    expect("neither a folder", "/dev/zero")
    expect("neither a folder", write(tmp_path / "list.csv", b"a,b\n"))


def test_an_npz_that_is_a_fifo_a_device_or_a_folder(tmp_path):
    fifo = tmp_path / "pipe.npz"
    os.mkfifo(fifo)
    expect("is not a regular file", fifo)
    (tmp_path / "zero.npz").symlink_to("/dev/zero")
    expect("is not a regular file", tmp_path / "zero.npz")
    (tmp_path / "folder.npz").mkdir()
    expect("is a folder, not a file", tmp_path / "folder.npz")


# -- .npz files ------------------------------------------------------------------------------------

def good_npz_members(**changes):
    members = {"images": npy(IMAGES), "labels": npy(LABELS)}
    members.update(changes)
    return members


NPZ_CASES = [
    ("not a zip", None, "is not an .npz file"),
    ("objects", good_npz_members(images=npy(np.array([None, "x", 3, 4.0], dtype=object))), "Python objects"),
    ("object labels", good_npz_members(labels=npy(np.array([0, 1, "a", None], dtype=object))), "Python objects"),
    ("no labels", {"images": npy(IMAGES)}, "has no 'labels' array (it holds images)"),
    ("short labels", good_npz_members(labels=npy(np.array([0, 1, 0]))), "one label per image ([4])"),
    ("labels 2-D", good_npz_members(labels=npy(LABELS[:, None])), "labels has shape (4, 1)"),
    ("float labels", good_npz_members(labels=npy(LABELS.astype(float))), "integers or strings only"),
    ("one class", good_npz_members(labels=npy(np.zeros(4, int))), "a single class (0)"),
    ("negative", good_npz_members(labels=npy(np.array([0, -1, 0, 1]))), "labels holds -1"),
    ("string images", good_npz_members(images=npy(np.full((4, 8, 8), "x"))), "numbers only"),
    ("structured", good_npz_members(images=npy(np.zeros((4, 8, 8), [("a", "u1"), ("b", "u1")]))), "dtype"),
    ("1-D images", good_npz_members(images=npy(np.zeros(4, np.uint8))), "images has shape (4,)"),
    ("5 channels", good_npz_members(images=npy(np.zeros((4, 5, 8, 8), np.uint8))), "1 or 3 channels"),
    ("no images", good_npz_members(images=npy(np.zeros((0, 8, 8), np.uint8)),
                                   labels=npy(np.zeros(0, int))), "holds no images (images has shape (0, 8, 8))"),
    ("floats 0..255", good_npz_members(images=npy(np.full((4, 8, 8), 255.0))), "floats must lie in [0, 1]"),
    ("nan", good_npz_members(images=npy(np.full((4, 8, 8), np.nan, np.float32))), "floats must lie in [0, 1]"),
    ("int32 too large", good_npz_members(images=npy(np.full((4, 8, 8), 4096, np.int32))),
     "integers must lie in 0..255"),
    ("claims a huge shape", good_npz_members(images=npy_bytes((10**6, 1000, 1000), "<f4", b"\x00" * 256)),
     "claims shape (1000000, 1000, 1000) of float32, but holds 256 bytes"),
    ("claims more than it holds", good_npz_members(images=npy(IMAGES)[:-10]), "the file is damaged"),
    ("negative shape", good_npz_members(images=npy_bytes((-4, 8, 8), "|u1", b"")), "impossible shape"),
    ("not npy", good_npz_members(images=b"just bytes, no magic"), "not a readable .npy array"),
    ("npy version 3", good_npz_members(images=b"\x93NUMPY\x03\x00" + npy(IMAGES)[8:]), "format version 3.0"),
]


@pytest.mark.parametrize("case,members,match", NPZ_CASES, ids=[case[0] for case in NPZ_CASES])
def test_bad_npz_files(tmp_path, case, members, match):
    path = tmp_path / "data.npz"
    if members is None:
        path.write_bytes(os.urandom(500))
    else:
        raw_npz(path, members)
    expect(match, path)


def test_an_object_array_saved_by_numpy_is_never_unpickled(tmp_path, monkeypatch):
    import pickle

    def refuse(*args, **kwargs):
        raise AssertionError("something was unpickled")
    monkeypatch.setattr(pickle, "loads", refuse)
    monkeypatch.setattr(pickle, "load", refuse)
    path = npz(tmp_path / "objects.npz", images=np.array([IMAGES[0], None], dtype=object), labels=LABELS)
    expect("Python objects", path)


def test_an_inflating_member_stops_at_the_cap(tmp_path, monkeypatch):
    monkeypatch.setattr(npz_reader, "MAX_MEMBER_BYTES", 1 << 20)
    zeros = np.zeros((64, 128, 128), np.uint8)                         # 1 MB of zeros in about 1 KB
    path = raw_npz(tmp_path / "bomb.npz", good_npz_members(images=npy(zeros)), zipfile.ZIP_DEFLATED)
    assert path.stat().st_size < 20_000
    expect("its images array is larger than 1 MB", path)


def test_a_member_compressed_as_numpy_never_does(tmp_path):
    path = raw_npz(tmp_path / "bz.npz", good_npz_members(), zipfile.ZIP_BZIP2)   # zipfile inflates it unbounded
    expect("compressed in a way numpy never writes", path)


def test_a_member_whose_crc_is_wrong(tmp_path):
    path = raw_npz(tmp_path / "crc.npz", good_npz_members())
    data = bytearray(path.read_bytes())
    at = data.index(npy(IMAGES)[-64:])                                 # inside the stored images
    data[at] ^= 0x01
    path.write_bytes(bytes(data))
    expect("cannot be read", path)


def test_an_npz_too_large_to_read(tmp_path, monkeypatch):
    monkeypatch.setattr(npz_reader, "MAX_NPZ_BYTES", 1000)
    expect("is larger than", npz(tmp_path / "big.npz", images=np.zeros((40, 8, 8), np.uint8),
                                 labels=np.arange(40) % 2))


def test_too_many_images_or_values_in_an_npz(tmp_path, monkeypatch):
    path = npz(tmp_path / "many.npz", images=IMAGES, labels=LABELS)
    monkeypatch.setattr(npz_reader, "MAX_IMAGES", 3)
    expect("4 images, more than the 3", path)
    monkeypatch.setattr(npz_reader, "MAX_IMAGES", 100)
    monkeypatch.setattr(npz_reader, "MAX_VALUES", 4 * 3 * 8 * 8 - 1)
    expect("4 images of 3x8x8 are more than 767 values", path, colour="rgb")     # what it would become
    expect("4 images of 1x16x16 are more than 767 values", path, image_size=16)
    monkeypatch.setattr(npz_reader, "MAX_VALUES", 4 * 8 * 8 - 1)
    expect("4 images of 1x8x8 are more than 255 values", path, image_size=4)     # what it is


def test_a_deflated_member_that_is_not_deflate(tmp_path):
    path = raw_npz(tmp_path / "garbled.npz", good_npz_members(images=npy(np.arange(4096, dtype=np.uint8))),
                   zipfile.ZIP_DEFLATED)
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo("images.npy")
    data = bytearray(path.read_bytes())
    name_length, extra_length = struct.unpack("<HH", data[info.header_offset + 26:info.header_offset + 30])
    begin = info.header_offset + 30 + name_length + extra_length
    data[begin:begin + info.compress_size] = b"\xff" * info.compress_size     # no valid deflate block
    path.write_bytes(bytes(data))
    expect("its images array cannot be read", path)


# -- the options -----------------------------------------------------------------------------------

@pytest.mark.parametrize("options,option,match", [
    ({"colour": "purple"}, "colour", "'purple' is not a colour"),
    ({"image_size": 2}, "image_size", "from 4 to 128"),
    ({"image_size": 1000}, "image_size", "from 4 to 128"),
    ({"image_size": 3.5}, "image_size", "whole number"),
    ({"image_size": True}, "image_size", "whole number"),
])
def test_bad_options(pets, options, option, match):
    with pytest.raises(ConfigError) as caught:
        load_images(pets, **options)
    assert caught.value.option == option and match in str(caught.value)
