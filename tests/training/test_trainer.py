"""The trainer: hook order, setting changes, divergence,
truncated BPTT, clipping and exact reproduction from a checkpoint."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from gradscope.config import ConfigError
from gradscope.records import RunState
from gradscope.training import Callback, Trainer
from trainer_log import Log, small, train


def test_hooks_run_in_order_and_records_arrive_in_step_order():
    trainer, log, state = train(small())
    assert state is RunState.FINISHED
    assert log.calls[0] == ("run_start",)
    assert log.calls[1][:2] == ("event", "run_started")
    assert log.calls[-1] == ("run_end",)
    assert [r.step for r in log.records] == list(range(6))
    # a checkpoint at step s comes before the record of step s
    for step in (0, 3):
        assert log.calls.index(("checkpoint", step)) < log.calls.index(("step", step))
    assert [r.step for r in log.records if r.probed] == [0, 2, 4]
    assert log.states == [RunState.RUNNING, RunState.FINISHED]


def test_every_step_carries_the_training_scalars():
    _, log, _ = train(small(task="recall"))
    for record in log.records:
        for name in ("loss", "grad_norm", "grad_norm_clipped", "clipped", "lr", "clip_threshold", "metric/accuracy"):
            assert name in record.scalars
        assert record.scalars["grad_norm_clipped"] == record.scalars["grad_norm"]
        assert any(name.startswith("param_grad_norm/") for name in record.scalars)


def test_same_seed_same_run_and_another_seed_differs():
    losses = [[r.scalars["loss"] for r in train(small(seed=seed))[1].records] for seed in (1, 1, 2)]
    assert losses[0] == losses[1]
    assert losses[0] != losses[2]


def test_clipping_by_norm_caps_the_norm_and_is_measured():
    _, log, _ = train(small(clip_mode="norm", clip_threshold=1e-3, lr=1e-2))
    for record in log.records:
        assert record.scalars["clipped"] == 1.0
        assert record.scalars["grad_norm"] > 1e-3
        assert record.scalars["grad_norm_clipped"] == pytest.approx(1e-3, rel=1e-3)


def test_clipping_by_value_bounds_every_entry():
    config = small(clip_mode="value", clip_threshold=1e-4)
    trainer = Trainer(config)
    try:
        record = trainer.step()
        assert record.scalars["clipped"] == 1.0
        assert all(float(p.grad.abs().max()) <= 1e-4 + 1e-12 for p in trainer.model.parameters())
    finally:
        trainer.close()


def test_threshold_and_learning_rate_change_between_steps_and_are_recorded():
    class Changer(Callback):
        def on_step_end(self, trainer, record):
            if record.step == 1:
                trainer.change_settings(clip_mode="norm", clip_threshold=0.5, lr=0.05)

    trainer, log, _ = train(small(), Changer())
    changes = [e for e in log.events if e.kind == "settings_changed"]
    assert len(changes) == 1 and dict(changes[0].detail) == {"clip_mode": "norm", "clip_threshold": 0.5, "lr": 0.05}
    change_step = changes[0].step
    assert change_step in (2, 3)   # records are delivered in step order, the change lands at the next step
    for record in log.records:
        expected = 0.05 if record.step >= change_step else small().lr
        assert record.scalars["lr"] == pytest.approx(expected)
        if record.step >= change_step:
            assert record.scalars["clip_threshold"] == 0.5


def test_a_nonsense_setting_is_refused_in_the_callers_thread():
    trainer = Trainer(small())
    with pytest.raises(ConfigError, match="lr"):
        trainer.change_settings(lr=-1.0)
    with pytest.raises(ConfigError, match="clip"):
        trainer.change_settings(clip_threshold=float("nan"))
    with pytest.raises(ConfigError, match="hidden.*starts a new run"):
        trainer.change_settings(hidden=9)
    assert trainer.schedule.take(0).changes == {}
    trainer.close()


def test_divergence_stops_the_run_with_an_event_and_never_raises():
    config = small(lr=5.0, optimizer="sgd", init="identity", rho=3.0, seq_len=30, steps=200, task="sine",
                   nonlinearity="relu")
    trainer, log, state = train(config)
    assert state is RunState.DIVERGED
    diverged = [e for e in log.events if e.kind == "diverged"]
    assert len(diverged) == 1
    step = diverged[0].step
    assert log.records[-1].step == step
    assert diverged[0].detail["non_finite"]
    bad = log.records[-1]
    assert not (math.isfinite(bad.scalars["loss"]) and math.isfinite(bad.scalars["grad_norm"]))



def test_a_nan_weight_diverges_at_once():
    trainer = Trainer(small())
    log = Log()
    trainer.callbacks.append(log)
    with torch.no_grad():
        trainer.model.core.weight_hh_l0[0, 0] = float("nan")
    assert trainer.run() is RunState.DIVERGED
    assert log.events[-2].kind == "diverged" and log.events[-2].step == 0
    trainer.close()


def test_truncated_bptt_cuts_the_gradient_at_the_window():
    trainer = Trainer(small(tbptt=3, seq_len=9, task="sine"))
    inputs, _ = trainer.task.sample(2, torch.Generator().manual_seed(0))
    inputs.requires_grad_(True)
    trainer._forward(inputs).sum().backward()
    reach = inputs.grad.abs().sum(dim=(0, 2))
    assert torch.all(reach[:6] == 0) and torch.all(reach[6:] > 0)
    full = Trainer(small(seq_len=9, task="sine"))
    inputs.grad = None
    full._forward(inputs).sum().backward()
    assert torch.all(inputs.grad.abs().sum(dim=(0, 2)) > 0)
    trainer.close(), full.close()


def test_restoring_a_checkpoint_reproduces_the_run_exactly():
    config = small(steps=8, checkpoint_every=4, optimizer="adam", probe_every=3)
    _, log, _ = train(config)
    fork = Trainer(config)
    fork.restore(log.checkpoints[1])
    replay = Log()
    fork.callbacks.append(replay)
    fork.run()
    fork.close()
    original = {r.step: r.scalars["loss"] for r in log.records}
    assert [r.step for r in replay.records] == [4, 5, 6, 7]
    for record in replay.records:
        assert record.scalars["loss"] == original[record.step]


def test_cuda_request_falls_back_to_the_cpu_with_a_note():
    trainer, log, _ = train(small(device="cuda", steps=1))
    started = next(e for e in log.events if e.kind == "run_started")
    if torch.cuda.is_available():
        assert started.detail["device"].startswith("cuda")
    else:
        assert started.detail["device"] == "cpu"
        assert "no CUDA device" in started.detail["device_note"]


def test_probe_results_arrive_on_their_step_with_every_quantity():
    _, log, _ = train(small(arch="lstm", layers=2, bidirectional=True, probe_every=5))
    probed = [r for r in log.records if r.probed]
    assert [r.step for r in probed] == [0, 5]
    arrays = probed[0].arrays
    for name in ("hidden_grad_norm", "jacobian_norm", "step_jacobian_norm", "cell_jacobian_norm",
                 "hidden_grad_norm/layer0", "hidden_grad_norm/layer0/reverse", "hidden_grad_norm/layer1/reverse",
                 "gates/forget", "gate_saturation/forget"):
        assert name in arrays, name
        assert np.all(np.isfinite(arrays[name]))
    assert arrays["jacobian_norm"][-1] == pytest.approx(1.0)
    assert "spectral_radius/W_hf" in probed[0].scalars


def test_the_char_lm_writes_a_sample_at_each_probe():
    _, log, _ = train(small(task="charlm", seq_len=12, steps=3, probe_every=2, temperature=0.5))
    probed = [r for r in log.records if r.probed]
    assert [r.step for r in probed] == [0, 2]
    for record in probed:
        text = "".join(map(chr, record.arrays["sample/text"]))
        assert len(text) == 200
        vocab = set(Trainer(small(task="charlm", seq_len=12)).task.vocab)
        assert set(text) <= vocab


def test_a_forecast_probe_carries_the_models_own_forecast_of_the_next_value():
    from gradscope import models

    trainer, log, _ = train(small(task="sine", seq_len=10, steps=4, checkpoint_every=2, probe_every=2))
    by_step = {record.step: record for record in log.records}
    for checkpoint in log.checkpoints:
        arrays = by_step[checkpoint.step].arrays
        model = models.build(trainer.config, trainer.task)
        model.load_state_dict({name: torch.from_numpy(np.array(value)) for name, value in checkpoint.weights.items()})
        with torch.no_grad():
            expected = model(trainer.probe_inputs[:1])[0, 0].item()
        assert arrays["forecast/prediction"][0] == pytest.approx(expected, rel=1e-5, abs=1e-7)
        assert np.array_equal(arrays["forecast/input"], trainer.probe_inputs[0, :, 0].numpy())
        assert arrays["forecast/target"][0] == trainer.probe_targets[0, 0].item()


def test_a_final_state_stays_final():
    for config in (small(steps=2), small(lr=5.0, optimizer="sgd", init="identity", rho=3.0, seq_len=30,
                                         steps=200, task="sine", nonlinearity="relu")):
        log = Log()
        trainer = Trainer(config, [log])
        final = trainer.run()
        assert final.is_final
        steps, events = trainer.step_index, len(log.events)
        assert trainer.run() is final and trainer.step() is None
        assert trainer.step_index == steps and len(log.events) == events
        trainer.close()


def test_the_diverged_state_change_carries_the_diverged_step():
    config = small(lr=5.0, optimizer="sgd", init="identity", rho=3.0, seq_len=30, steps=200, task="sine",
                   nonlinearity="relu")
    _, log, _ = train(config)
    diverged = next(e for e in log.events if e.kind == "diverged")
    change = [e for e in log.events if e.kind == "state_changed"][-1]
    assert change.detail["state"] == "diverged" and change.step == diverged.step


def test_a_failing_probe_fails_the_run_but_delivers_every_step(monkeypatch):
    from gradscope.probes.station import ProbeStation

    original = ProbeStation.measure

    def broken(self, step):
        if step == 4:
            raise ValueError("probe exploded")
        return original(self, step)

    monkeypatch.setattr(ProbeStation, "measure", broken)
    log = Log()
    trainer = Trainer(small(steps=8), [log])
    with pytest.raises(ValueError, match="probe exploded"):
        trainer.run()
    assert trainer.state is RunState.FAILED
    failed = next(e for e in log.events if e.kind == "failed")
    assert failed.step == 4 and "probe exploded" in failed.detail["error"]
    assert [r.step for r in log.records] == list(range(trainer.step_index))
    assert 4 in [r.step for r in log.records] and not log.records[4].probed
    trainer.close()


def test_a_closed_trainer_refuses_to_train():
    threads = torch.get_num_threads()
    with Trainer(small()) as trainer:
        trainer.run(2)
    assert torch.get_num_threads() == threads
    with pytest.raises(RuntimeError, match="closed"):
        trainer.run()
    with pytest.raises(RuntimeError, match="closed"):
        trainer.step()


def test_restoring_after_a_setting_change_restores_the_settings_too():
    class Change(Callback):
        def on_step_end(self, trainer, record):
            if record.step == 1:
                trainer.change_settings(lr=0.02, clip_mode="norm", clip_threshold=0.1)

    config = small(steps=8, checkpoint_every=2, probe_every=3)
    _, log, _ = train(config, Change())
    original = {r.step: r for r in log.records}
    late = next(c for c in log.checkpoints if c.step >= 4)
    replay = Log()
    with Trainer(config, [replay]) as fork:
        fork.restore(late)
        fork.run()
    assert replay.records[0].step == late.step
    assert [r.step for r in replay.records if r.probed][0] == late.step   # probing starts again at once
    for record in replay.records:
        assert record.scalars["loss"] == original[record.step].scalars["loss"]
        assert record.scalars["lr"] == 0.02 and record.scalars["clip_threshold"] == 0.1


def test_automatic_cadence_probes_match_a_reprobe_of_the_checkpoint_at_that_step():
    from gradscope.probes.station import ProbeStation

    config = small(arch="gru", steps=40, checkpoint_every=1, probe_every=0)
    trainer, log, _ = train(config)
    assert [r.step for r in log.records] == list(range(40))
    probed = [r for r in log.records if r.probed]
    assert len(probed) >= 2
    checkpoints = {c.step: c for c in log.checkpoints}
    station = ProbeStation(config, trainer.task, trainer.device, trainer.probe_inputs, trainer.probe_targets)
    for record in probed[1:]:
        station.load(checkpoints[record.step].weights)
        again = station.measure(record.step)
        for name, array in record.arrays.items():
            np.testing.assert_array_equal(array, again[name])


def test_every_optimizer_round_trips_through_a_checkpoint():
    for optimizer in ("sgd", "momentum", "rmsprop", "adam"):
        config = small(optimizer=optimizer, steps=6, checkpoint_every=3)
        _, log, _ = train(config)
        replay = Log()
        with Trainer(config, [replay]) as fork:
            fork.restore(log.checkpoints[1])
            fork.run()
        assert [r.scalars["loss"] for r in replay.records] == [r.scalars["loss"] for r in log.records[3:]]
