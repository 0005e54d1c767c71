"""ImageSet: the one layout every loader hands on, checked when it is made."""
from __future__ import annotations

import pytest
import torch

from gradscope.tasks.images import ImageSet

LABELS = torch.tensor([0, 1])


def images(*shape, fill=0.5, dtype=torch.float32):
    return torch.full(shape, fill, dtype=dtype)


@pytest.mark.parametrize("pixels,labels,names,match", [
    (images(2, 1, 4, 4, dtype=torch.float64), LABELS, ("a", "b"), "float32"),
    (images(2, 2, 4, 4), LABELS, ("a", "b"), "1 or 3"),
    (images(2, 4, 4), LABELS, ("a", "b"), "float32 \\[N"),
    (images(2, 1, 4, 4), LABELS.to(torch.int32), ("a", "b"), "int64"),
    (images(2, 1, 4, 4), torch.tensor([0, 1, 1]), ("a", "b"), "int64 \\[2\\]"),
    (images(0, 1, 4, 4), torch.zeros(0, dtype=torch.int64), ("a",), "at least one image"),
    (images(2, 1, 4, 4, fill=1.5), LABELS, ("a", "b"), "\\[0, 1\\]"),
    (images(2, 1, 4, 4, fill=float("nan")), LABELS, ("a", "b"), "\\[0, 1\\]"),
    (images(2, 1, 4, 4), torch.tensor([0, 2]), ("a", "b"), "0..1"),
    (images(2, 1, 4, 4), torch.tensor([-1, 0]), ("a", "b"), "0..1"),
])
def test_a_malformed_set_is_refused_where_it_is_made(pixels, labels, names, match):
    with pytest.raises(ValueError, match=match):
        ImageSet(pixels, labels, names, "the set")


def test_conformed_changes_only_what_is_asked():
    data = ImageSet(torch.rand(3, 3, 10, 10), torch.tensor([0, 1, 0]), ("a", "b"), "the set")
    assert data.conformed(None, "rgb") is data
    grey = data.conformed(None, "grey")
    assert grey.image_shape == (1, 10, 10) and grey.class_names == data.class_names
    assert torch.allclose(grey.images[:, 0], 0.299 * data.images[:, 0] + 0.587 * data.images[:, 1]
                          + 0.114 * data.images[:, 2])
    small = grey.conformed(5, "rgb")
    assert small.image_shape == (3, 5, 5) and small.images.is_contiguous()
    assert torch.equal(small.images[:, 0], small.images[:, 1])
    assert small.class_counts().tolist() == [2, 1] and len(small) == 3
