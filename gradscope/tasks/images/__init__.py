"""Images for the convolutional lab: the bundled digits and MNIST, the user's own, and a task.

    task = image_task("digits")                                   # or "mnist", or "images" with a path
    images, labels = task.sample(64, generator)                   # float32 [64, 1, 8, 8], int64 [64]
    loss = task.loss(model(images), labels)                       # mean of per-image cross-entropies
    test_images, test_labels = task.test_split()

| name   | data                                       | input shape  | classes |
|--------|--------------------------------------------|--------------|---------|
| digits | 1,797 UCI digits (resources/images/)       | 1 x 8 x 8    | 10      |
| mnist  | 5,000 MNIST digits, 500 a class            | 1 x 28 x 28  | 10      |
| images | a folder of class folders, or an .npz      | C x S x S    | K       |

Every loader returns an `ImageSet` (dataset.py): float32 [N, C, H, W] in [0, 1], int64 labels,
class names, and the words naming its source. Nothing here imports Qt, and Pillow is imported
only when a folder of images is read.
"""
from __future__ import annotations

from gradscope.tasks.images.bundled import load_digits, load_mnist
from gradscope.tasks.images.dataset import ImageSet
from gradscope.tasks.images.split import stratified_split
from gradscope.tasks.images.task import IMAGE_TASK_NAMES, ImageTask, image_task
from gradscope.tasks.images.user import load_images

__all__ = ["IMAGE_TASK_NAMES", "ImageSet", "ImageTask", "image_task", "load_digits", "load_images", "load_mnist",
           "stratified_split"]
