"""What the window tests that train live share: a small, fast run's settings and how long to
wait for it (the training process imports torch first: seconds on a busy machine)."""
from __future__ import annotations

from gradscope.config import RunConfig

START = 60_000      # ms, for a run's first steps
WAIT = 30_000       # ms, for what follows


def small(**changes) -> RunConfig:
    settings = dict(arch="rnn", task="adding", seq_len=12, hidden=8, batch=8, steps=1_000_000, probe_every=3,
                    checkpoint_every=50)
    settings.update(changes)
    return RunConfig(**settings)


def steps_seen(window) -> int:
    run = window.lab.current
    return run.last_step + 1 if run is not None else 0


def state(window) -> str:
    return window.lab.state
