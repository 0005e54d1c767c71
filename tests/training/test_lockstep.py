"""Runs in lockstep: each records exactly what it records trained alone; they stand at one step
whenever the loop looks up; their probes share one probe thread; a run that diverges leaves
the lockstep and the others go on."""
from __future__ import annotations

import threading

import numpy as np

from gradscope.config import RunConfig
from gradscope.records import RunState
from gradscope.training import Trainer
from gradscope.training.loop import Lockstep
from trainer_log import Log

BASE = dict(arch="lstm", task="adding", seq_len=8, hidden=6, batch=4, steps=24, probe_every=3, checkpoint_every=10)


def test_each_run_of_a_lockstep_records_what_it_records_alone():
    configs = [RunConfig(**BASE, lr=lr) for lr in (1e-3, 1e-2, 5e-2)]
    alone = []
    for config in configs:
        log = Log()
        with Trainer(config, [log]) as trainer:
            trainer.run()
        alone.append(log)
    together = [Log() for _ in configs]
    trainers = [Trainer(config, [log]) for config, log in zip(configs, together)]
    probe_threads = []

    class Count(Log):
        def on_step_end(self, trainer, record):
            probe_threads.append(sum(t.name == "gradscope-probe" for t in threading.enumerate()))

    trainers[0].callbacks.append(Count())
    try:
        assert Lockstep(trainers).run() == [RunState.FINISHED] * 3
    finally:
        for trainer in trainers:
            trainer.close()
    assert max(probe_threads) == 1                   # one probe thread for the three runs
    for solo, shared in zip(alone, together):
        assert [r.step for r in shared.records] == list(range(24))
        for a, b in zip(solo.records, shared.records):
            assert dict(a.scalars) == dict(b.scalars) and set(a.arrays) == set(b.arrays)
            for name in a.arrays:
                np.testing.assert_array_equal(a.arrays[name], b.arrays[name])


def test_a_run_that_diverges_leaves_the_lockstep_and_the_others_finish():
    wild = RunConfig(**{**BASE, "arch": "rnn", "optimizer": "sgd", "lr": 5.0, "init": "identity", "rho": 3.0,
                        "task": "sine", "nonlinearity": "relu", "seq_len": 30, "steps": 200})
    calm = wild.replace(lr=1e-3, rho=0.5)
    logs = [Log(), Log()]
    trainers = [Trainer(config, [log]) for config, log in zip((wild, calm), logs)]
    try:
        states = Lockstep(trainers).run()
    finally:
        for trainer in trainers:
            trainer.close()
    assert states == [RunState.DIVERGED, RunState.FINISHED]
    assert len(logs[1].records) == 200 and len(logs[0].records) < 200
    assert any(event.kind == "diverged" for event in logs[0].events)
