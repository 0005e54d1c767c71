"""The bundled digits and MNIST subset: their shapes, values and classes, their provenance, and
a damaged copy refused with one message naming the file."""
from __future__ import annotations

import dataclasses
import gzip
import hashlib
import re

import pytest
import torch

from gradscope.bundled import resource_path
from gradscope.config import ConfigError
from gradscope.tasks.images import bundled, load_digits, load_mnist

DIGIT_COUNTS = [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]   # the UCI optdigits test set's


@pytest.fixture(scope="module")
def digits():
    return load_digits()


@pytest.fixture(scope="module")
def mnist():
    return load_mnist()


def test_digits_are_1797_8x8_images_of_the_ten_classes(digits):
    assert digits.images.shape == (1797, 1, 8, 8) and digits.images.dtype == torch.float32
    assert digits.labels.shape == (1797,) and digits.labels.dtype == torch.int64
    assert digits.class_counts().tolist() == DIGIT_COUNTS
    assert digits.class_names == tuple("0123456789")
    assert float(digits.images.min()) == 0 and float(digits.images.max()) == 1
    # the 17 levels 0..16 of the optdigits blocks, divided by 16
    assert torch.equal(torch.unique(digits.images * 16), torch.arange(17, dtype=torch.float32))
    assert digits.labels[:10].tolist() == list(range(10))          # the file's own order
    assert "digits" in digits.source


def test_mnist_is_5000_28x28_images_500_a_class(mnist):
    assert mnist.images.shape == (5000, 1, 28, 28) and mnist.images.dtype == torch.float32
    assert mnist.class_counts().tolist() == [500] * 10
    assert mnist.class_names == tuple("0123456789")
    assert float(mnist.images.min()) == 0 and float(mnist.images.max()) == 1
    assert torch.equal(torch.unique(mnist.images * 255).round(), torch.unique(mnist.images * 255))
    # the label is the last column: the first would be a corner pixel, 0 in every image
    assert torch.equal(mnist.labels, torch.arange(10).repeat_interleave(500))
    assert float(mnist.images[:, 0, 0, 0].max()) == 0
    # a digit is bright strokes on a dark ground: the border is dark, the middle is not
    assert float(mnist.images[:, :, :2].mean()) < 0.01 < 0.2 < float(mnist.images[:, :, 10:18, 10:18].mean())


def test_loads_are_fresh_copies(digits):
    again = load_digits()
    again.images.zero_()
    assert float(digits.images.max()) == 1


@pytest.mark.parametrize("name", ["digits", "mnist_5k"])
def test_each_bundled_file_is_the_one_its_licence_file_describes(name):
    data = resource_path(f"images/{name}.csv.gz").read_bytes()
    notes = resource_path(f"images/{name}.LICENSE.txt").read_text(encoding="utf-8")
    assert hashlib.sha256(data).hexdigest() in notes
    assert f"({len(data):,} bytes)" in notes
    assert "Redistribution and use in source and binary forms" in notes      # the shipper's BSD-3 text
    assert re.search(r"creativecommons\.org/licenses/by(-sa)?/[34]\.0", notes)


# -- a damaged install ---------------------------------------------------------------------------

def _digits_rows(rows: int = 1797, pixel: int = 3, label: int = 4, columns: int = 64) -> bytes:
    return (",".join([str(pixel)] * columns + [str(label)]) + "\n").encode() * rows


DAMAGE = [
    ("missing", None, "is missing"),
    ("not gzip", b"0,1,2\n" * 100, "not a readable gzip file"),
    ("cut short", gzip.compress(_digits_rows())[:-200], "cut short"),
    ("trailing bytes", gzip.compress(_digits_rows()) + b"more", "bytes after its gzip stream"),
    ("too few rows", gzip.compress(_digits_rows(rows=1796)), "holds 1796 x 65 values"),
    ("too few columns", gzip.compress(_digits_rows(columns=63)), "holds 1797 x 64 values"),
    ("pixel too large", gzip.compress(_digits_rows(pixel=17)), "pixel values outside 0..16"),
    ("bad label", gzip.compress(_digits_rows(label=10)), "labels outside 0..9"),
    ("words", gzip.compress(b"a,b,c\n" * 10), "not a table of whole numbers"),
    ("ragged", gzip.compress(b"1,2,3\n1,2\n"), "not a table of whole numbers"),
]


@pytest.mark.parametrize("case,content,match", DAMAGE, ids=[case[0] for case in DAMAGE])
def test_a_damaged_bundled_file_is_one_clear_error(tmp_path, monkeypatch, case, content, match):
    path = tmp_path / "digits.csv.gz"
    if content is not None:
        path.write_bytes(content)
    monkeypatch.setattr(bundled, "resource_path", lambda name: path)
    with pytest.raises(ConfigError) as caught:
        load_digits()
    message = str(caught.value)
    assert caught.value.option == "task" and match in message and str(path) in message, message
    assert "reinstall gradscope" in message


def test_a_gzip_bomb_is_inflated_no_further_than_the_cap(tmp_path, monkeypatch):
    path = tmp_path / "digits.csv.gz"
    path.write_bytes(gzip.compress(b"0," * (8 << 20)))    # 16 MB of text in 16 KB
    monkeypatch.setattr(bundled, "resource_path", lambda name: path)
    monkeypatch.setattr(bundled, "DIGITS", dataclasses.replace(bundled.DIGITS, max_bytes=1 << 20))
    with pytest.raises(ConfigError, match=r"inflates to more than 1,048,576 bytes"):
        load_digits()
