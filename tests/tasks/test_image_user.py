"""The user's own images as they should be read: class folders of PNGs and JPEGs, and .npz files."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from image_files import class_folders, image_bytes, noise, npz, write
from PIL import Image

from gradscope.tasks.images import load_images
from gradscope.tasks.images.dataset import GREY_WEIGHTS


def flat(mode, value, size=(20, 12)):
    return Image.new(mode, size, value)


def test_a_folder_of_class_folders_in_name_order(tmp_path):
    root = class_folders(tmp_path / "pets", {"dog": 3, "cat": 2, "emu": 4})
    data = load_images(root, image_size=16)
    assert data.class_names == ("cat", "dog", "emu")
    assert data.labels.tolist() == [0, 0, 1, 1, 1, 2, 2, 2, 2]
    assert data.images.shape == (9, 1, 16, 16) and data.images.dtype == torch.float32
    assert 0 <= float(data.images.min()) < float(data.images.max()) <= 1
    assert data.source == str(root)
    # a file's place: cat/0.png comes first, cat/1.png second
    first = np.asarray(noise(seed=100).resize((16, 16), Image.Resampling.BILINEAR), dtype=np.float32) / 255
    assert np.allclose(data.images[0, 0].numpy(), first)


def test_other_files_and_hidden_entries_are_passed_over(tmp_path):
    root = class_folders(tmp_path / "set", {"a": 2, "b": 2})
    write(root / "README.txt", b"my images")
    write(root / "a" / "Thumbs.db", b"\x00" * 10)
    write(root / "a" / ".DS_Store", b"\x00")
    write(root / ".hidden" / "x.png", b"not even a png")
    write(root / "__MACOSX" / "a" / "._0.png", b"resource fork")
    data = load_images(root, image_size=8)
    assert data.class_names == ("a", "b") and len(data) == 4


def test_mixed_modes_are_converted_as_documented(tmp_path):
    root = tmp_path / "mixed"
    write(root / "grey" / "l.png", image_bytes(flat("L", 128), "PNG"))
    write(root / "grey" / "one.png", image_bytes(flat("1", 1), "PNG"))
    write(root / "grey" / "sixteen.png", image_bytes(Image.fromarray(np.full((12, 20), 32768, np.uint16)), "PNG"))
    write(root / "colour" / "rgb.png", image_bytes(flat("RGB", (255, 0, 0)), "PNG"))
    write(root / "colour" / "palette.png", image_bytes(flat("RGB", (0, 0, 255)).convert("P"), "PNG"))
    write(root / "colour" / "clear.png", image_bytes(flat("RGBA", (0, 0, 0, 0)), "PNG"))
    write(root / "colour" / "photo.JPG", image_bytes(flat("RGB", (0, 255, 0)), "JPEG", quality=100))
    write(root / "colour" / "cmyk.jpeg", image_bytes(flat("CMYK", (0, 0, 0, 0)), "JPEG", quality=100))

    grey = load_images(root, image_size=6, colour="grey")
    assert grey.class_names == ("colour", "grey")
    means = [float(image.mean()) for image in grey.images]
    # colour/: clear, cmyk, palette, photo, rgb; grey/: l, one, sixteen (name order within each)
    expected = [1.0, 1.0, GREY_WEIGHTS[2], GREY_WEIGHTS[1], GREY_WEIGHTS[0], 128 / 255, 1.0, 32768 / 65535]
    assert means == pytest.approx(expected, abs=0.01)

    rgb = load_images(root, image_size=6, colour="rgb")
    assert rgb.images.shape == (8, 3, 6, 6)
    assert rgb.images[4].mean(dim=(1, 2)).tolist() == pytest.approx([1, 0, 0], abs=0.01)      # rgb.png
    assert rgb.images[2].mean(dim=(1, 2)).tolist() == pytest.approx([0, 0, 1], abs=0.01)      # palette.png
    assert torch.equal(rgb.images[5, 0], rgb.images[5, 2])                               # l.png, repeated


def test_a_photo_is_turned_upright_by_its_exif_orientation(tmp_path):
    picture = np.zeros((10, 20), np.uint8)
    picture[:, 10:] = 255                                    # dark left half, bright right half
    exif = Image.Exif()
    exif[0x0112] = 6                                         # "rotate 90 degrees clockwise to show"
    write(tmp_path / "set" / "a" / "p.jpg", image_bytes(Image.fromarray(picture), "JPEG", exif=exif.tobytes()))
    class_folders(tmp_path / "set", {"b": 1})
    image = load_images(tmp_path / "set", image_size=8).images[0, 0]
    assert float(image[:3].mean()) < 0.1 and float(image[5:].mean()) > 0.9     # now dark on top


def test_a_large_jpeg_is_read_at_the_size_asked(tmp_path):
    big = Image.fromarray(np.random.default_rng(0).integers(0, 256, (3000, 4000, 3), dtype=np.uint8))
    write(tmp_path / "set" / "a" / "big.jpg", image_bytes(big, "JPEG"))
    class_folders(tmp_path / "set", {"b": 1})
    data = load_images(tmp_path / "set", image_size=32, colour="rgb")
    assert data.images.shape == (2, 3, 32, 32)


def test_npz_layouts_and_dtypes(tmp_path):
    rng = np.random.default_rng(1)
    labels = np.array([7, 3, 3, 7, 7, 3])
    nhwc = rng.integers(0, 256, (6, 10, 12, 3), dtype=np.uint8)
    data = load_images(npz(tmp_path / "nhwc.npz", images=nhwc, labels=labels), colour="rgb")
    assert data.images.shape == (6, 3, 10, 12)                         # its own size, not a square
    assert np.allclose(data.images.numpy(), nhwc.transpose(0, 3, 1, 2) / 255)
    assert data.class_names == ("3", "7") and data.labels.tolist() == [1, 0, 0, 1, 1, 0]

    grey = load_images(tmp_path / "nhwc.npz", colour="grey")
    luma = (nhwc / 255 * np.array(GREY_WEIGHTS)).sum(axis=3)
    assert np.allclose(grey.images[:, 0].numpy(), luma, atol=1e-6)

    nchw = rng.random((6, 1, 9, 9)).astype(np.float32)
    data = load_images(npz(tmp_path / "nchw.npz", images=nchw, labels=labels.astype(np.uint8)), image_size=9)
    assert np.array_equal(data.images.numpy(), nchw)

    sixteen = np.full((6, 5, 5), 65535, dtype=">u2")                   # big-endian, as some tools write
    data = load_images(npz(tmp_path / "u16.npz", images=sixteen, labels=np.array(list("abcabc"))), image_size=10)
    assert data.images.shape == (6, 1, 10, 10) and float(data.images.min()) == 1.0
    assert data.class_names == ("a", "b", "c")

    compressed = tmp_path / "packed.npz"
    np.savez_compressed(compressed, images=np.zeros((4, 8, 8), bool), labels=np.array([0, 1, 0, 1]), extra=np.ones(3))
    assert load_images(compressed).images.shape == (4, 1, 8, 8)


def test_resizing_is_the_same_for_every_source(tmp_path):
    grey = np.random.default_rng(2).integers(0, 256, (4, 28, 28), dtype=np.uint8)
    data = load_images(npz(tmp_path / "g.npz", images=grey, labels=np.array([0, 1, 0, 1])), image_size=14)
    expected = torch.nn.functional.interpolate(torch.from_numpy(grey / 255).float()[:, None], size=(14, 14),
                                               mode="bilinear", antialias=True, align_corners=False)
    assert torch.allclose(data.images, expected.clamp(0, 1))
