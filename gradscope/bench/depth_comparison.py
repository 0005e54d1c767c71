"""Plain against residual: how long the lecture's 20-layer comparison on the digits takes to
show its point, trained as `gradscope record --compare residual=false,true` trains it (the two
runs in lockstep, probes at the default cadence in a thread).

The point is shown once the plain net's loss is still at chance (within 0.05 of ln 10) while
the residual net's has fallen below 0.5, both as the mean of their last 20 steps; the figure is
the wall time from the first step to the first step where that holds, and the losses then.
"""
from __future__ import annotations

import math
import time

import numpy as np

from gradscope.training.callbacks import Callback

LECTURE = dict(arch="cnn", task="digits", depth=20, channels=16, kernel=3, padding=1, nonlinearity="tanh",
               batch_norm=False, init="default", optimizer="momentum", momentum=0.9, lr=0.05, batch=64,
               device="cpu")
WINDOW = 20          # steps averaged for "the loss now"
STUCK_WITHIN = 0.05  # of ln 10
FALLEN_BELOW = 0.5


class _Losses(Callback):
    def __init__(self):
        self.losses: list[float] = []

    def on_step_end(self, trainer, record) -> None:
        self.losses.append(record.scalars["loss"])


def _recent(losses: list[float]) -> float:
    return float(np.mean(losses[-WINDOW:]))


def measure(quick: bool, say) -> dict:
    from gradscope.config import RunConfig
    from gradscope.config.comparison import parse_compare
    from gradscope.training import Trainer
    from gradscope.training.loop import Lockstep

    steps = 40 if quick else 600
    base = RunConfig(**{**LECTURE, **({"depth": 6} if quick else {})}, steps=steps)
    say(f"bench: plain against residual, {base.depth} layers on the digits ...")
    logs = [_Losses(), _Losses()]
    trainers = [Trainer(config, [log], probe_mode="thread")
                for config, log in zip(parse_compare(["residual=false,true"]).configs(base), logs)]
    shown_at = shown_step = None
    began = time.perf_counter()
    try:
        lockstep = Lockstep(trainers)
        while lockstep.step_index < steps:
            lockstep.run(10)
            plain, residual = (_recent(log.losses) for log in logs)
            if shown_at is None and abs(plain - math.log(10)) < STUCK_WITHIN and residual < FALLEN_BELOW:
                shown_at, shown_step = time.perf_counter() - began, lockstep.step_index
                break
    finally:
        for trainer in trainers:
            trainer.close()
    plain, residual = (_recent(log.losses) for log in logs)
    return {"layers": base.depth, "point_shown_s": None if shown_at is None else round(shown_at, 2),
            "point_shown_at_step": shown_step, "plain_loss": round(plain, 4), "residual_loss": round(residual, 4),
            "steps_trained": int(max(len(log.losses) for log in logs)),
            "wall_s": round(time.perf_counter() - began, 2)}
