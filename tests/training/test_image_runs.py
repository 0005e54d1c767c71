"""Convolutional and dense runs take the recurrent runs' path through the trainer, the session
and forks: clipping by norm and by value, divergence, pause and step, an exact fork, and a
replay that yields the records the live run delivered."""
from __future__ import annotations

import pytest

from gradscope.config import RunConfig
from gradscope.records import RunState
from gradscope.series import lookup
from gradscope.session import SessionWriter, open_session
from gradscope.tasks.images import ImageTask, image_task
from gradscope.training import SessionRecorder, Trainer
from gradscope.training.fork import plan_fork, start_fork
from trainer_log import Log, assert_same_records


def image_config(**changes) -> RunConfig:
    settings = dict(arch="cnn", task="digits", depth=3, channels=4, batch=8, steps=12, probe_every=3,
                    checkpoint_every=4, optimizer="momentum", lr=0.05, device="cpu")
    settings.update(changes)
    return RunConfig(**settings)


def record_run(path, config: RunConfig) -> Log:
    log = Log()
    with SessionWriter(path, append=path.exists()) as writer, Trainer(config, [SessionRecorder(writer), log]) as t:
        t.run()
    return log


@pytest.mark.parametrize("mode, threshold", [("norm", 0.01), ("value", 1e-4)])
def test_clipping_fires_on_a_cnn_run(mode, threshold):
    log = Log()
    with Trainer(image_config(clip_mode=mode, clip_threshold=threshold, steps=4), [log]) as trainer:
        assert trainer.run() is RunState.FINISHED
    assert all(record.scalars["clipped"] == 1.0 for record in log.records)
    if mode == "norm":
        assert all(record.scalars["grad_norm_clipped"] == pytest.approx(threshold, rel=1e-5)
                   for record in log.records)
    assert all(record.scalars["grad_norm_clipped"] < record.scalars["grad_norm"] for record in log.records)


class PoisonedDigits(ImageTask):
    """The digits, with a NaN pixel in the batch of one step: what a run's divergence looks like
    to the trainer (cross entropy's bounded gradient keeps a too-large learning rate finite for
    hundreds of steps)."""

    def __init__(self, poisoned_step: int):
        digits = image_task("digits")
        self.__dict__.update(digits.__dict__)
        self.poisoned_step, self.drawn = poisoned_step, 0

    def sample(self, batch, generator):
        images, labels = super().sample(batch, generator)
        if batch == 8:                     # a training batch, not the probe batch
            if self.drawn == self.poisoned_step:
                images = images.clone()
                images[0, 0, 0, 0] = float("nan")
            self.drawn += 1
        return images, labels


def test_a_non_finite_loss_ends_a_cnn_run_diverged_with_an_event():
    log = Log()
    with Trainer(image_config(), [log], task=PoisonedDigits(5)) as trainer:
        assert trainer.run() is RunState.DIVERGED
    diverged = [event for event in log.events if event.kind == "diverged"]
    assert len(diverged) == 1 and diverged[0].step == 5 == log.records[-1].step
    assert "loss" in diverged[0].detail["non_finite"]


def test_a_run_stopped_short_then_stepped_by_hand_finishes_where_it_would_have():
    log = Log()
    with Trainer(image_config(), [log]) as trainer:
        assert trainer.run(steps=4) is RunState.PAUSED and trainer.step_index == 4
        assert trainer.step().step == 4 and trainer.state is RunState.PAUSED
        assert trainer.run() is RunState.FINISHED
    assert [record.step for record in log.records] == list(range(12))
    with Trainer(image_config()) as uninterrupted:
        uninterrupted.run()
        assert uninterrupted.last_record.scalars == log.records[-1].scalars


def test_a_replayed_cnn_session_yields_the_live_records_all_declared(tmp_path):
    path = tmp_path / "cnn.gscope"
    log = record_run(path, image_config(residual=True, probe_batch=3))
    with open_session(path) as session:
        run = session.runs[0]
        assert run.config.arch == "cnn" and run.config.residual
        assert_same_records(run, log.records)
        probed = [record for record in log.records if record.probed]
        assert [record.step for record in probed] == [0, 3, 6, 9]
        for name, (kind, _, shape) in run.series_names().items():
            spec = lookup(name)
            assert spec is not None and spec.kind == kind and spec.rank == len(shape), name


def test_an_unchanged_fork_of_a_cnn_run_reproduces_it_and_a_changed_one_differs(tmp_path):
    path = tmp_path / "cnn.gscope"
    record_run(path, image_config(batch_norm=True))
    for changes in ({}, {"lr": 0.2}):
        log = Log()
        plan = plan_fork(path, 0, 6, changes)
        with SessionWriter(path, append=True) as writer:
            with start_fork(plan, [SessionRecorder(writer, parent=plan.parent), log]) as trainer:
                trainer.run()
        assert [record.step for record in log.records] == list(range(6, 12))
        with open_session(path) as session:
            parent = session.runs[0]
            if not changes:
                assert_same_records(parent, log.records)
            else:
                assert log.records[-1].scalars["loss"] != parent.record(11).scalars["loss"]
