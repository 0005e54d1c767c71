"""The test strip and the probe image: which test images the strip holds, its probabilities
and feature maps against the model's own forward pass, and the probe image as a live setting
that a trainer hands to its probes (in a probe thread and in a probe process)."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from gradscope import models, tasks
from gradscope.config import RunConfig, SETTINGS
from gradscope.models.feedforward import lenet
from gradscope.probes.strip import STRIP_SIZE, strip_indices, strip_probe
from gradscope.session import SessionWriter, open_session
from gradscope.training import SessionRecorder, Trainer


def test_the_strip_holds_the_first_image_of_each_class_in_class_order():
    labels = np.array([3, 1, 3, 0, 1, 2, 0])
    assert strip_indices(labels).tolist() == [3, 1, 5, 0]
    assert strip_indices(np.arange(30) % 15).tolist() == list(range(STRIP_SIZE))
    assert SETTINGS["probe_image"].high == STRIP_SIZE - 1   # the setting's range is the strip's


def test_probabilities_and_maps_are_the_forward_pass_and_the_probe_image_is_clamped():
    model = lenet((1, 8, 8), 10, nonlinearity="relu")
    images = torch.rand(4, 1, 8, 8, generator=torch.Generator().manual_seed(0))
    labels = torch.tensor([0, 1, 2, 3])
    model.train()
    result = strip_probe(model, images, labels, probe_image=2)
    assert model.training                                  # its mode is given back
    model.eval()
    with torch.no_grad():
        logits = model(images)
        first = model.layers[0](images)[1]
    np.testing.assert_allclose(result["strip/probabilities"], torch.softmax(logits.double(), 1), rtol=1e-6)
    np.testing.assert_allclose(result["strip/probabilities"].sum(axis=1), 1, rtol=1e-6)
    np.testing.assert_allclose(result["feature_maps/layer0"], first[2].numpy(), rtol=1e-6, atol=1e-7)
    assert result["strip/probed"].tolist() == [0, 0, 1, 0]
    assert strip_probe(model, images, labels, probe_image=9)["strip/probed"].tolist() == [0, 0, 0, 1]


@pytest.mark.parametrize("mode", ["thread", "process"])
def test_a_live_change_of_the_probe_image_reaches_the_next_probe(tmp_path, mode):
    config = RunConfig(arch="lenet", task="digits", batch=8, steps=8, probe_every=2, checkpoint_every=2,
                       probe_batch=2, device="cpu")
    path = tmp_path / "strip.gscope"
    with SessionWriter(path) as writer, Trainer(config, [SessionRecorder(writer)], probe_mode=mode) as trainer:
        trainer.change_settings(step=3, probe_image=7)
        trainer.run()
    task = tasks.build(config)
    test_images, test_labels = task.test_split()
    seven = int(np.flatnonzero(test_labels.numpy() == 7)[0])
    with open_session(path) as session:
        run = session.runs[0]
        chosen = {step: int(run.record(step).arrays["strip/probed"].argmax()) for step in (0, 2, 4, 6)}
        assert chosen == {0: 0, 2: 0, 4: 7, 6: 7}
        record = run.record(6)
        np.testing.assert_array_equal(record.arrays["strip/images"][7], test_images[seven].numpy())
        model = models.build(config, task)
        weights = run.checkpoint(6).weights
        model.load_state_dict({name: torch.from_numpy(np.array(value)) for name, value in weights.items()})
        model.eval()
        with torch.no_grad():
            maps = model.layers[0](test_images[seven:seven + 1])[1][0]
        np.testing.assert_allclose(record.arrays["feature_maps/layer0"], maps.numpy(), rtol=1e-5, atol=1e-6)
