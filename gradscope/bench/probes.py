"""Probe overhead: the trainer with probes at its default cadence against a bare fused loop,
for the recurrent nets on the adding task and for the image nets the CNN lab names (LeNet on
the 5,000 MNIST digits, a 12-layer residual CNN on the 8x8 digits).

The trainer runs as the command line runs it: probes in their own process where a core is
spare (see training/trainer.py). The bare loop is what anyone would write: the same fused model, the same task batches,
Adam, zero_grad/backward/step, one torch thread like the trainer. The two are measured
alternately (bare, probed, bare, probed) and the medians compared, so drift of the machine
hits both.
"""
from __future__ import annotations

import statistics
import time

import torch

from gradscope import models, tasks
from gradscope.config import RunConfig
from gradscope.training import Callback, Trainer
from gradscope.probes.runner import default_probe_mode

def _recurrent(arch: str, hidden: int, length: int) -> tuple[str, dict]:
    return f"{arch}_H{hidden}_T{length}", dict(arch=arch, task="adding", hidden=hidden, seq_len=length)


CASES = [_recurrent(*case) for case in (("rnn", 64, 50), ("lstm", 64, 50), ("gru", 64, 50), ("rnn", 128, 200),
                                        ("lstm", 128, 200), ("gru", 128, 200))] + [
    ("lenet_mnist", dict(arch="lenet", task="mnist", nonlinearity="relu")),
    ("cnn_residual_L12_digits", dict(arch="cnn", task="digits", depth=12, residual=True, nonlinearity="relu",
                                     init="kaiming")),
]
QUICK_CASES = [_recurrent("rnn", 16, 10), _recurrent("lstm", 16, 10),
               ("cnn_residual_L4_digits", dict(arch="cnn", task="digits", depth=4, residual=True, channels=4))]


def _bare_seconds_per_step(config: RunConfig, steps: int) -> float:
    task = tasks.build(config)
    model = models.build(config, task)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    generator = torch.Generator().manual_seed(config.seed)
    def one() -> None:
        x, y = task.sample(config.batch, generator)
        optimizer.zero_grad(set_to_none=True)
        task.loss(model(x), y).backward()
        optimizer.step()
    one()
    began = time.perf_counter()
    for _ in range(steps):
        one()
    return (time.perf_counter() - began) / steps


class _Count(Callback):
    """Counts probed steps and keeps when each step finished training (its record's wall
    time), so the wait for the last probe at the end of a run does not count as training."""

    def __init__(self) -> None:
        self.probed = 0
        self.finished: list[float] = []

    def on_step_end(self, trainer, record) -> None:
        self.probed += int(record.probed)
        self.finished.append(record.wall_time)


def _probed(trainer: Trainer, steps: int) -> tuple[float, int]:
    """(seconds per step, probed steps) over `steps` steps of the real trainer."""
    counter = _Count()
    trainer.callbacks = [counter]
    trainer.run(steps + 1)
    seconds = counter.finished[-1] - counter.finished[0]
    return seconds / steps, counter.probed


def measure(quick: bool, say) -> dict:
    results = {}
    for name, settings in (QUICK_CASES if quick else CASES):
        config = RunConfig(**settings, batch=32, steps=10**6)
        say(f"bench: probe overhead {name} ...")
        trainer = Trainer(config, probe_mode=default_probe_mode("process"))
        # warm up: the first steps pay for imports (and the probe process for its start), and
        # the automatic cadence settles on its first measurements
        warm_seconds = 4.0 if not quick else 0.3
        began = time.perf_counter()
        while (time.perf_counter() - began < warm_seconds or trainer.cadence.probe_time is None) \
                and time.perf_counter() - began < 60:
            trainer.run(5)
        bare_step = _bare_seconds_per_step(config, 5)
        steps = max(10, int((8.0 if not quick else 0.5) / bare_step))
        bare, probed, probe_counts, probed_seconds = [], [], [], 0.0
        for _ in range(2 if not quick else 1):
            bare.append(_bare_seconds_per_step(config, steps))
            per_step, count = _probed(trainer, steps)
            probed.append(per_step)
            probe_counts.append(count)
            probed_seconds += per_step * steps
        trainer.close()
        results[name] = {
            "ratio": round(statistics.median(probed) / statistics.median(bare), 3),
            "probes_per_s": round(sum(probe_counts) / probed_seconds, 2),
            "bare_ms_per_step": round(1000 * statistics.median(bare), 2),
            "probed_ms_per_step": round(1000 * statistics.median(probed), 2),
            "probe_ms": round(1000 * (trainer.cadence.probe_time or 0.0), 1),
            "probe_every": trainer.cadence.every,
            "steps_measured": steps * len(bare),
        }
    return results
