"""A labelled set of images in the one layout every image loader hands on, and its limits.

Whatever the source (the bundled digits or MNIST, a folder of PNGs, an .npz), the images leave
their loader as float32 [N, C, H, W] in [0, 1] with int64 labels 0..K-1 and K class names: the
conv models, the probes' feature maps and the panels then never need to know where they came
from. `ImageSet` checks this on construction, so a loader's mistake fails there and not as a
strange loss curve later.

`conformed` brings a set to the size and colour a run asks for: the same resampling and the same
grey formula for every source, so that --image-size 14 means the same thing for MNIST and an .npz.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

#: the colours a run can ask for, and their channel counts
CHANNELS = {"grey": 1, "rgb": 3}

#: ITU-R 601-2 luma, the weights Pillow's convert("L") uses: an RGB .npz made grey and the same
#: pictures saved as PNGs and read grey give the same pixels (to rounding)
GREY_WEIGHTS = (0.299, 0.587, 0.114)

# A user's data is read into memory whole, so its size is capped by what was read, never by
# what a header claims: at most this many images, and this many float32 values (200 MB) in the
# set as read and as conformed.
MAX_IMAGES = 60_000
MAX_VALUES = 50_000_000
MAX_CLASSES = 100
MIN_IMAGE_SIZE = 4
MAX_IMAGE_SIZE = 128


@dataclass(frozen=True, eq=False)   # eq=False: comparing tensors with == is elementwise
class ImageSet:
    """images float32 [N, C, H, W] in [0, 1] (C is 1 or 3), labels int64 [N] in 0..K-1,
    class_names the K names in label order, source the words that name the data in messages."""

    images: torch.Tensor
    labels: torch.Tensor
    class_names: tuple[str, ...]
    source: str

    def __post_init__(self):
        images, labels = self.images, self.labels
        if images.dtype != torch.float32 or images.dim() != 4 or images.shape[1] not in (1, 3):
            raise ValueError(f"{self.source}: images must be float32 [N, 1 or 3, H, W], "
                             f"not {images.dtype} {tuple(images.shape)}")
        if labels.dtype != torch.int64 or tuple(labels.shape) != (images.shape[0],):
            raise ValueError(f"{self.source}: labels must be int64 [{images.shape[0]}], "
                             f"not {labels.dtype} {tuple(labels.shape)}")
        if images.shape[0] == 0 or len(self.class_names) == 0:
            raise ValueError(f"{self.source}: an image set needs at least one image and one class")
        low, high = torch.aminmax(images)   # NaN propagates, and fails the test
        if not (float(low) >= 0 and float(high) <= 1):
            raise ValueError(f"{self.source}: pixel values must lie in [0, 1]")
        if int(labels.min()) < 0 or int(labels.max()) >= len(self.class_names):
            raise ValueError(f"{self.source}: labels must lie in 0..{len(self.class_names) - 1}")

    def __len__(self) -> int:
        return self.images.shape[0]

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """(C, H, W) of one image."""
        return tuple(self.images.shape[1:])

    def class_counts(self) -> torch.Tensor:
        """int64 [K]: how many images each class has."""
        return torch.bincount(self.labels, minlength=len(self.class_names))

    def conformed(self, image_size: int | None, colour: str) -> ImageSet:
        """This set as `colour` ("grey" or "rgb") images of image_size x image_size (None keeps
        the size): colour made grey with GREY_WEIGHTS, grey repeated into three channels, sizes
        changed with antialiased bilinear resampling (torch's, the same on every source)."""
        images = self.images
        channels = CHANNELS[colour]
        if images.shape[1] == 3 and channels == 1:
            weights = torch.tensor(GREY_WEIGHTS, dtype=torch.float32).view(1, 3, 1, 1)
            images = (images * weights).sum(dim=1, keepdim=True)
        elif images.shape[1] == 1 and channels == 3:
            images = images.expand(-1, 3, -1, -1)
        if image_size is not None and tuple(images.shape[2:]) != (image_size, image_size):
            images = F.interpolate(images, size=(image_size, image_size), mode="bilinear",
                                   align_corners=False, antialias=True)
        if images is self.images:
            return self
        # the weights sum to 1 and bilinear weights are positive, but float rounding may step
        # a hair outside [0, 1]
        images = images.clamp(0, 1).contiguous()
        return ImageSet(images, self.labels, self.class_names, self.source)
