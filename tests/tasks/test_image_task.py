"""The image classification task keeps the Task contract: batches from the train split only and
only through the caller's generator, a fixed probe batch, loss = mean of per-image losses."""
from __future__ import annotations

import subprocess
import sys

import pytest
import torch
import torch.nn.functional as F
from image_files import class_folders, npz

from gradscope.config import ConfigError
from gradscope.tasks.images import ImageTask, image_task, load_digits


@pytest.fixture(scope="module")
def digits():
    return image_task("digits")


def batch(task, n=6, seed=7):
    return task.sample(n, torch.Generator().manual_seed(seed))


def test_shapes_and_attributes(digits):
    assert digits.name == "digits" and digits.metric_name == "accuracy" and not digits.many_to_many
    assert digits.input_shape == (1, 8, 8) and digits.input_size == 64 and digits.output_size == 10
    assert digits.length == 1 and digits.class_names == tuple("0123456789")
    images, labels = batch(digits)
    assert images.shape == (6, 1, 8, 8) and images.dtype == torch.float32
    assert labels.shape == (6,) and labels.dtype == torch.int64
    assert digits.output_shape(6) == (6, 10)


def test_the_split_is_stratified_and_disjoint(digits):
    test_images, test_labels = digits.test_split()
    train, test = digits.train_indices.tolist(), digits.test_indices.tolist()
    assert not set(train) & set(test) and sorted(train + test) == list(range(1797))
    assert len(test) == 359 and torch.bincount(test_labels).tolist() == [36, 36, 35, 37, 36, 36, 36, 36, 35, 36]
    everything = load_digits()
    assert torch.equal(test_images, everything.images[digits.test_indices])
    assert torch.equal(digits.train_images, everything.images[digits.train_indices])
    assert torch.equal(digits.train_labels, everything.labels[digits.train_indices])


def test_same_seed_same_batches_and_only_the_given_generator(digits):
    torch.manual_seed(123)
    before = torch.get_rng_state()
    first = batch(digits)
    assert torch.equal(torch.get_rng_state(), before), "sample touched the global RNG"
    torch.manual_seed(999)
    again = batch(digits)
    assert all(torch.equal(a, b) for a, b in zip(first, again))
    assert not torch.equal(first[0], batch(digits, seed=8)[0])
    generator = torch.Generator().manual_seed(0)
    assert not torch.equal(digits.sample(4, generator)[0], digits.sample(4, generator)[0])


def test_batches_come_from_the_train_split_with_the_callers_generator(digits):
    images, labels = batch(digits, n=64, seed=3)
    index = torch.randint(0, len(digits.train_labels), (64,), generator=torch.Generator().manual_seed(3))
    assert torch.equal(images, digits.train_images[index]) and torch.equal(labels, digits.train_labels[index])


def test_the_probe_batch_is_fixed(digits):
    first, again = digits.probe_batch(5, seed=3), digits.probe_batch(5, seed=3)
    assert all(torch.equal(a, b) for a, b in zip(first, again))
    assert not torch.equal(first[0], digits.probe_batch(5, seed=4)[0])


def test_loss_is_the_mean_of_per_image_cross_entropies(digits):
    images, labels = batch(digits)
    logits = torch.randn(6, 10, generator=torch.Generator().manual_seed(1), requires_grad=True)
    per_image = digits.per_sequence_loss(logits, labels)
    assert per_image.shape == (6,)
    for i in range(6):
        assert torch.allclose(per_image[i], F.cross_entropy(logits[i:i + 1], labels[i:i + 1]))
    assert torch.allclose(digits.loss(logits, labels), per_image.mean())
    digits.loss(logits, labels).backward()
    assert logits.grad is not None
    with pytest.raises(ValueError, match="expected"):
        digits.per_sequence_loss(torch.zeros(6, 1, 10), labels)


def test_metrics(digits):
    _, labels = batch(digits)
    perfect = F.one_hot(labels, 10).float() * 5
    assert digits.metrics(perfect, labels)["accuracy"] == 1.0
    wrong = F.one_hot((labels + 1) % 10, 10).float()
    assert digits.metrics(wrong, labels)["accuracy"] == 0.0
    assert digits.metrics(perfect, labels)["chance_accuracy"] == pytest.approx(146 / 1438)


def test_mnist_and_its_options():
    task = image_task("mnist", image_size=14, colour="rgb", test_fraction=0.1, seed=2)
    assert task.input_shape == (3, 14, 14) and task.input_size == 588 and task.output_size == 10
    assert len(task.test_labels) == 500 and torch.bincount(task.test_labels).tolist() == [50] * 10
    images, _ = batch(task)
    assert torch.equal(images[:, 0], images[:, 2])          # grey, repeated
    other = image_task("mnist", test_fraction=0.1, seed=3)
    assert not torch.equal(task.test_indices, other.test_indices)       # the split's seed, its own
    assert torch.equal(image_task("mnist", test_fraction=0.1, seed=2).test_indices, task.test_indices)


def test_the_users_images(tmp_path):
    task = image_task("images", class_folders(tmp_path / "pets", {"cat": 5, "dog": 5}), image_size=12)
    assert task.name == "images" and task.class_names == ("cat", "dog") and task.input_shape == (1, 12, 12)
    assert len(task.test_labels) == 2 and str(tmp_path / "pets") in task.source
    path = npz(tmp_path / "set.npz", images=torch.rand(8, 3, 6, 6).numpy(), labels=[0, 1] * 4)
    assert image_task("images", path, colour="rgb").input_shape == (3, 6, 6)


@pytest.mark.parametrize("call,option,match", [
    (lambda: image_task("cifar"), "task", "'cifar' is not an image task"),
    (lambda: image_task("images"), "images", "needs your images"),
    (lambda: image_task("digits", images_path="x.npz"), "images", "--images is for --task images"),
    (lambda: image_task("digits", colour="cmyk"), "colour", "not a colour"),
    (lambda: image_task("digits", image_size=1), "image_size", "from 4 to 128"),
    (lambda: image_task("digits", test_fraction=0), "test_fraction", "strictly between 0 and 1"),
    (lambda: image_task("digits", test_fraction=1.0), "test_fraction", "strictly between 0 and 1"),
    (lambda: image_task("digits", test_fraction="0.2"), "test_fraction", "strictly between 0 and 1"),
])
def test_bad_task_options(call, option, match):
    with pytest.raises(ConfigError) as caught:
        call()
    assert caught.value.option == option and match in str(caught.value), str(caught.value)


def test_a_class_of_one_image_cannot_be_split(tmp_path):
    root = class_folders(tmp_path / "lonely", {"cat": 3, "dog": 1})
    with pytest.raises(ConfigError) as caught:
        image_task("images", root)
    message = str(caught.value)
    assert caught.value.option == "images" and str(root) in message and "class 'dog'" in message, message


def test_an_image_set_of_one_class_is_no_task():
    data = load_digits()
    single = type(data)(data.images[:10], torch.zeros(10, dtype=torch.int64), ("0",), "ten zeros")
    with pytest.raises(ConfigError, match="ten zeros holds a single class"):
        ImageTask(single, "images")


def test_importing_the_images_package_needs_neither_qt_nor_pillow():
    code = ("import sys, gradscope.tasks.images; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('PIL', 'PySide6', 'pyqtgraph', 'shiboken6')))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize("name", ["digits", "mnist"])
def test_a_linear_model_learns_each_bundled_set(name):
    """Labels that had slipped against their images (MNIST's label column read as a pixel, say)
    would leave this at chance."""
    task = image_task(name)
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(task.input_size, task.output_size))
    optimiser = torch.optim.Adam(model.parameters(), lr=0.02)
    generator = torch.Generator().manual_seed(0)
    for _ in range(200):
        images, labels = task.sample(64, generator)
        loss = task.loss(model(images), labels)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    test_images, test_labels = task.test_split()
    assert task.metrics(model(test_images), test_labels)["accuracy"] > 0.8
