"""Image classification in the Task contract: one image in, one class out.

The contract (tasks/base.py) speaks of sequences; here a "sequence" is one image. So
`per_sequence_loss` is each image's cross-entropy, [B], and the batch loss is their mean, as
the probes expect; `length` is 1 and `many_to_many` False. The input is not [B, T, features]
but `input_shape` = (C, H, W) per image, and `input_size` = C * H * W is what a dense model
flattens it to.

Batches are drawn from the train split only, with replacement, with the caller's generator;
`test_split()` hands the held-out images to whoever scores test accuracy and the confusion
matrix. The split (split.py) is fixed by its own seed, apart from the training seed.
"""
from __future__ import annotations

import os

import torch
import torch.nn.functional as F

from gradscope.config import ConfigError
from gradscope.tasks.base import Task
from gradscope.tasks.images.bundled import load_digits, load_mnist
from gradscope.tasks.images.dataset import ImageSet
from gradscope.tasks.images.split import stratified_split
from gradscope.tasks.images.user import check_image_options, load_images

IMAGE_TASK_NAMES = ("digits", "mnist", "images")
DESCRIPTIONS = {"digits": "classify the bundled 8x8 handwritten digits",
                "mnist": "classify the bundled 28x28 MNIST digits",
                "images": "classify your own images"}


class ImageTask(Task):
    many_to_many = False
    metric_name = "accuracy"
    length = 1

    def __init__(self, data: ImageSet, name: str = "images", test_fraction: float = 0.2, seed: int = 0):
        option = "images" if name == "images" else "task"
        counts = data.class_counts()
        if len(data.class_names) < 2:
            raise ConfigError(option, f"{data.source} holds a single class; a classifier needs at least two")
        if bool((counts < 2).any()):
            small = int(torch.argmax((counts < 2).to(torch.int64)))
            raise ConfigError(option, f"class {data.class_names[small]!r} of {data.source} has "
                                      f"{int(counts[small])} image(s); every class needs at least two, one "
                                      "to train on and one to test")
        train, test = stratified_split(data.labels.numpy(), test_fraction, seed)
        train, test = torch.from_numpy(train), torch.from_numpy(test)
        self.name = name
        self.description = DESCRIPTIONS.get(name, "classify images")
        self.source = data.source
        self.class_names = data.class_names
        self.input_shape = data.image_shape
        self.input_size = data.image_shape[0] * data.image_shape[1] * data.image_shape[2]
        self.output_size = len(data.class_names)
        self.test_fraction, self.split_seed = test_fraction, seed
        #: int64 indices into `data`, ascending: which images each split holds
        self.train_indices, self.test_indices = train, test
        self.train_images, self.train_labels = data.images[train].contiguous(), data.labels[train]
        self.test_images, self.test_labels = data.images[test].contiguous(), data.labels[test]
        train_counts = torch.bincount(self.train_labels, minlength=self.output_size)
        #: the accuracy of always answering the commonest class of the train split
        self.chance_accuracy = float(train_counts.max()) / len(self.train_labels)

    def sample(self, batch: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """(images float32 [B, C, H, W], labels int64 [B]) drawn from the train split."""
        index = torch.randint(0, len(self.train_labels), (batch,), generator=generator)
        return self.train_images[index], self.train_labels[index]

    def test_split(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(images [N_test, C, H, W], labels [N_test]) of the held-out images, in index order."""
        return self.test_images, self.test_labels

    def strip(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(images, labels) of the test strip the Images panel shows: the first test image of
        each class, in class order (`gradscope.probes.strip`)."""
        from gradscope.probes.strip import strip_indices

        index = torch.from_numpy(strip_indices(self.test_labels.numpy()))
        return self.test_images[index], self.test_labels[index]

    def per_sequence_loss(self, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """[B] cross-entropies, one per image (an image is this task's sequence)."""
        self.check_output(output, target)
        return F.cross_entropy(output, target, reduction="none")

    def metrics(self, output: torch.Tensor, target: torch.Tensor) -> dict[str, float]:
        with torch.no_grad():
            return {"accuracy": float((output.argmax(dim=1) == target).to(torch.float32).mean()),
                    "chance_accuracy": self.chance_accuracy}

    def __repr__(self) -> str:
        return (f"<{type(self).__name__} {self.name}: {len(self.train_labels)} train and {len(self.test_labels)} "
                f"test images of {self.input_shape}, {self.output_size} classes>")


def image_task(name: str, images_path: str | os.PathLike | None = None, image_size: int | None = None,
               colour: str = "grey", test_fraction: float = 0.2, seed: int = 0) -> ImageTask:
    """The image task `name` ("digits", "mnist" or "images"), with every option checked here.

    images_path is the user's folder or .npz, for "images" only. image_size None keeps the
    bundled sets' and an .npz's own size (8 for digits, 28 for MNIST) and resizes a folder's
    images to 28; colour "rgb" repeats a grey set into three channels. test_fraction of each
    class is held out by the split seeded with `seed`.
    """
    if name not in IMAGE_TASK_NAMES:
        raise ConfigError("task", f"{name!r} is not an image task; give one of {', '.join(IMAGE_TASK_NAMES)}")
    check_image_options(image_size, colour)
    if isinstance(test_fraction, bool) or not isinstance(test_fraction, (int, float)) or not 0 < test_fraction < 1:
        raise ConfigError("test_fraction", f"{test_fraction!r} is not a fraction strictly between 0 and 1")
    if name == "images":
        if images_path is None:
            raise ConfigError("images", "the images task needs your images (--images PATH: a folder with a "
                                        "sub-folder of PNG or JPEG files per class, or an .npz file)")
        data = load_images(images_path, image_size, colour)
    else:
        if images_path is not None:
            raise ConfigError("images", f"--images is for --task images; the {name} task uses its bundled data")
        data = (load_digits() if name == "digits" else load_mnist()).conformed(image_size, colour)
    return ImageTask(data, name, test_fraction=test_fraction, seed=seed)
