"""Test accuracy and the confusion matrix: rows are true classes, columns predicted ones, the
accuracy is the trace over the total, in eval mode, a batch at a time."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from gradscope.models.feedforward import cnn, lenet, mlp
from gradscope.probes.evaluation import classification_metrics


@pytest.mark.parametrize("build", [
    lambda: cnn((1, 8, 8), 4, depth=3, channels=4, batch_norm=True),
    lambda: lenet((1, 28, 28), 4),
    lambda: mlp((1, 8, 8), 4, hidden_layers=0),
], ids=["cnn-bn", "lenet-28", "mlp-0"])
def test_confusion_agrees_with_the_accuracy_and_the_predictions(build):
    model = build()
    g = torch.Generator().manual_seed(1)
    shape = model.plan.input_shape
    images = torch.randn((37,) + shape, generator=g)
    model.train()
    with torch.no_grad():   # move batch norm's running statistics off their initial values
        model(images)
    labels = torch.randint(0, 4, (37,), generator=g)
    metrics = classification_metrics(model, images, labels, batch_size=8)   # five batches, the last short
    confusion, accuracy = metrics["confusion"], metrics["test_accuracy"]
    assert confusion.shape == (4, 4) and confusion.dtype == np.int64
    assert confusion.sum() == 37
    np.testing.assert_array_equal(confusion.sum(axis=1), np.bincount(labels.numpy(), minlength=4))
    assert accuracy == np.trace(confusion) / confusion.sum()
    model.eval()
    with torch.no_grad():
        predicted = model(images).argmax(1)
    assert accuracy == pytest.approx(float((predicted == labels).double().mean()), abs=0)
    for true, guess in zip(labels.tolist(), predicted.tolist()):
        assert confusion[true, guess] > 0
    np.testing.assert_array_equal(confusion.sum(axis=0), np.bincount(predicted.numpy(), minlength=4))


def test_a_perfect_and_an_empty_test_set():
    model = mlp((1, 2, 2), 3, hidden_layers=0)
    with torch.no_grad():
        model.head.linear.weight.copy_(torch.eye(3, 4) * 10)
        model.head.linear.bias.zero_()
    images = torch.eye(3, 4).view(3, 1, 2, 2)
    metrics = classification_metrics(model, images, torch.arange(3))
    assert metrics["test_accuracy"] == 1.0
    np.testing.assert_array_equal(metrics["confusion"], np.eye(3, dtype=np.int64))
    empty = classification_metrics(model, images[:0], torch.arange(0))
    assert np.isnan(empty["test_accuracy"]) and empty["confusion"].sum() == 0


def test_labels_outside_the_classes_are_refused():
    model = mlp((1, 2, 2), 3, hidden_layers=0)
    with pytest.raises(ValueError, match=r"test labels must lie in 0..2, got 0..3"):
        classification_metrics(model, torch.zeros(2, 1, 2, 2), torch.tensor([0, 3]))
