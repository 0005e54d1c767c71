"""The probes of recorded convolutional and dense runs, against the session's own checkpoints:
filters equal the checkpoint's weights, the test strip's feature maps and probabilities
equal an eval-mode forward pass, the layer and
weight gradient norms equal brute-force autograd on the checkpoint and the probe batch, and
the confusion matrix agrees with the test accuracy."""
from __future__ import annotations

import functools

import numpy as np
import pytest
import torch

from gradscope import models, tasks
from gradscope.config import RunConfig
from gradscope.session import SessionWriter, open_session
from gradscope.training import SessionRecorder, Trainer
from depth_helpers import brute_force, flushed_denormals  # noqa: F401  (autouse)

RUNS = {
    "cnn-residual-relu": dict(arch="cnn", depth=4, residual=True, nonlinearity="relu", init="kaiming"),
    "cnn-plain-bn-avg": dict(arch="cnn", depth=3, channels=6, batch_norm=True, pool="avg"),
    "lenet-tanh": dict(arch="lenet", nonlinearity="tanh"),
    "mlp-2-sigmoid": dict(arch="mlp", layers=2, hidden=24, nonlinearity="sigmoid"),
}
PROBED = (0, 5, 10)   # every probed step has a checkpoint


@functools.lru_cache(maxsize=None)
def recorded(name: str, folder: str):
    config = RunConfig(task="digits", batch=16, steps=11, probe_every=5, checkpoint_every=5, probe_batch=4,
                       optimizer="momentum", lr=0.05, device="cpu", **RUNS[name])
    path = f"{folder}/{name}.gscope"
    with SessionWriter(path) as writer, Trainer(config, [SessionRecorder(writer)]) as trainer:
        trainer.run()
    return path


def checkpointed_model(run, step):
    task = tasks.build(run.config)
    model = models.build(run.config, task)
    weights = run.checkpoint(step).weights
    model.load_state_dict({name: torch.from_numpy(np.array(value)) for name, value in weights.items()})
    return model, task


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return str(tmp_path_factory.mktemp("image-runs"))


@pytest.mark.parametrize("name", RUNS)
def test_recorded_depth_series_equal_the_checkpoint_and_brute_force(folder, name):
    with open_session(recorded(name, folder)) as session:
        run = session.runs[0]
        images = torch.from_numpy(np.array(run.probe_batch["inputs"]))
        labels = torch.from_numpy(np.array(run.probe_batch["targets"]))
        assert images.shape == (4, 1, 8, 8)
        for step in PROBED:
            record = run.record(step)
            model, _ = checkpointed_model(run, step)
            layer_norms, weight_norms, _, outputs = brute_force(model, images, labels)
            np.testing.assert_allclose(record.arrays["layer_grad_norm"], layer_norms, rtol=2e-5, atol=1e-35)
            np.testing.assert_allclose(record.arrays["weight_grad_norm"], weight_norms, rtol=2e-5, atol=1e-35)
            convs = model.conv_layers()
            assert bool(convs) == (RUNS[name]["arch"] != "mlp")
            for k in convs:
                np.testing.assert_array_equal(record.arrays[f"filters/layer{k}"],
                                              model.layers[k].weight.detach().numpy())


def eval_outputs(model, images):
    """Each layer's output for `images`, caught by forward hooks on the ordinary forward pass
    in eval mode, with the logits (the model's own code, not its trace)."""
    caught = {}
    hooks = [layer.register_forward_hook(lambda module, args, out, k=k: caught.__setitem__(k, out))
             for k, layer in enumerate(model.layers)]
    model.eval()
    with torch.no_grad():
        logits = model(images)
    for hook in hooks:
        hook.remove()
    return [caught[k][1] if isinstance(caught[k], tuple) else caught[k] for k in range(len(model.layers))], logits


@pytest.mark.parametrize("name", RUNS)
def test_the_strip_is_the_test_split_and_its_maps_and_probabilities_a_forward_pass(folder, name):
    with open_session(recorded(name, folder)) as session:
        run = session.runs[0]
        task = tasks.build(run.config)
        test_images, test_labels = task.test_split()
        first_of_each = [int(np.flatnonzero(test_labels.numpy() == c)[0]) for c in range(10)]
        for step in PROBED:
            record = run.record(step)
            np.testing.assert_array_equal(record.arrays["strip/labels"], np.arange(10))
            np.testing.assert_array_equal(record.arrays["strip/images"], test_images[first_of_each].numpy())
            np.testing.assert_array_equal(record.arrays["strip/probed"], np.eye(10)[0])
            model, _ = checkpointed_model(run, step)
            outputs, logits = eval_outputs(model, test_images[first_of_each])
            np.testing.assert_allclose(record.arrays["strip/probabilities"], torch.softmax(logits.double(), 1),
                                       rtol=1e-5, atol=1e-7)
            for k in model.conv_layers():
                np.testing.assert_allclose(record.arrays[f"feature_maps/layer{k}"], outputs[k][0].numpy(),
                                           rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", RUNS)
def test_the_confusion_matrix_agrees_with_the_test_accuracy(folder, name):
    with open_session(recorded(name, folder)) as session:
        run = session.runs[0]
        for step in PROBED:
            record = run.record(step)
            confusion, accuracy = record.arrays["confusion"], record.scalars["test_accuracy"]
            model, task = checkpointed_model(run, step)
            test_images, test_labels = task.test_split()
            assert confusion.shape == (10, 10) and confusion.sum() == len(test_labels)
            assert np.trace(confusion) / confusion.sum() == pytest.approx(accuracy, abs=1e-12)
            np.testing.assert_array_equal(confusion.sum(axis=1), np.bincount(test_labels.numpy(), minlength=10))
            model.eval()
            with torch.no_grad():
                predicted = model(test_images).argmax(dim=1)
            assert float((predicted == test_labels).double().mean()) == pytest.approx(accuracy, abs=1e-12)
