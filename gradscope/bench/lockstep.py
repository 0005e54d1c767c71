"""`gradscope bench --gui`'s figures for runs compared side by side.

* Which keeps the window smoother while three LSTMs (H=64, T=50) train side by side: one
  training process stepping the three runs round-robin (what the lab does), or one process per
  run? Both are measured in the same window, drawing the same three slots, one after the other:
  the gaps between 16 ms ticks of the GUI thread, and the steps per second each run makes.
* What the lockstep costs: the same three runs trained round-robin against trained one after
  the other, in a child process of their own (torch stays out of the window's process), with a
  fixed probe cadence so both do the same work.
"""
from __future__ import annotations

import multiprocessing
import time

from gradscope.bench.window import tick_gaps_for, wait_until

COMPARED = dict(arch="lstm", hidden=64, seq_len=50, task="adding", steps=1_000_000)
LEARNING_RATES = (1e-3, 3e-3, 1e-2)      # the setting the three runs differ in
READY_TIMEOUT_S = 120.0
FLOWING_STEPS = 20


def compared_configs():
    from gradscope.config import RunConfig

    return [RunConfig(**COMPARED, lr=lr) for lr in LEARNING_RATES]


def comparison_ticks(window, seconds: float, say) -> dict:
    """Tick gaps with three runs in lockstep in the lab's process, then with one process each."""
    from gradscope.config.comparison import parse_compare

    lab = window.lab
    say(f"bench --gui: tick gaps while three LSTMs train in lockstep in one process ({seconds:g} s) ...")
    lab.show_config(compared_configs()[0])
    lab.compare(parse_compare(["lr=" + ",".join(f"{lr:g}" for lr in LEARNING_RATES)]))
    lab.start_runs(autorun=True)
    one_process = _measure(window, lambda: lab.slots, seconds)
    lab.pause()
    lab.compare(None)
    lab.new_live_session()
    say(f"bench --gui: tick gaps while the same three train in a process each ({seconds:g} s) ...")
    merged = _PerProcess(window, compared_configs())
    try:
        per_process = _measure(window, lambda: merged.slots, seconds)
    finally:
        merged.close()
    return {"lockstep_one_process": one_process, "one_process_per_run": per_process}


def _measure(window, slots, seconds: float) -> dict:
    def flowing() -> bool:
        shown = slots()
        return len(shown) == 3 and min(slot.history.last_step for slot in shown) > FLOWING_STEPS

    if not wait_until(lambda: bool(window.errors) or flowing(), READY_TIMEOUT_S):
        raise RuntimeError(f"bench --gui: the compared runs gave no records within {READY_TIMEOUT_S:.0f} s")
    if window.errors:
        raise RuntimeError(f"bench --gui: a compared run failed:\n{window.errors[-1]}")
    first, began = [slot.history.last_step for slot in slots()], time.perf_counter()
    figures = tick_gaps_for(seconds)
    elapsed = time.perf_counter() - began
    figures["steps_per_s_each"] = round(sum(slot.history.last_step - step for slot, step in zip(slots(), first))
                                        / 3 / elapsed, 1)
    return figures


class _PerProcess:
    """Three live sources, a training process each, shown as the three slots of the window's
    lab: the other way of training a comparison, measured beside the lab's own."""

    def __init__(self, window, configs):
        from PySide6.QtCore import QTimer

        from gradscope.config.comparison import difference_labels
        from gradscope.lab.live import LiveSource
        from gradscope.session.files import new_session_path

        self.window, self.lab = window, window.lab
        self.labels = difference_labels(configs)
        self.slots: list = []
        self.sources = []
        for index, config in enumerate(configs):
            source = LiveSource(new_session_path(self.lab.sessions_dir).with_name(f"per-process-{index}.gscope"))
            source.attach(self)
            source.begin([config], autorun=True)
            self.sources.append(source)
        self.timer = QTimer()
        self.timer.setInterval(33)
        self.timer.timeout.connect(self._pump)
        self.timer.start()

    def _pump(self) -> None:
        for source in self.sources:
            source.pump()
        self.lab.pump()

    # what a source tells its lab: the slots gathered, the rest passed on
    def show_slots(self, slots, live: bool) -> None:
        for slot in slots:
            slot.index = len(self.slots)
            slot.label = self.labels[slot.index]
            self.slots.append(slot)
        if len(self.slots) == len(self.sources):
            self.lab.show_slots(self.slots, live=True)

    def __getattr__(self, name):
        return getattr(self.lab, name)

    def close(self) -> None:
        self.timer.stop()
        for source in self.sources:
            source.close()
        self.lab.show_slots([], live=False)


def lockstep_cost(quick: bool) -> dict:
    """Three runs round-robin against one after the other, in a spawned child process."""
    context = multiprocessing.get_context("spawn")
    with context.Pool(1) as pool:
        return pool.apply(_train_both_ways, (60 if quick else 300,))


def _train_both_ways(steps: int) -> dict:
    import torch

    from gradscope.config import RunConfig
    from gradscope.training import Trainer
    from gradscope.training.loop import Lockstep

    torch.set_num_threads(1)
    configs = [RunConfig(**{**COMPARED, "steps": steps}, lr=lr, probe_every=10, device="cpu")
               for lr in LEARNING_RATES]
    timings = {"lockstep_s": [], "sequential_s": []}
    for _ in range(2):                  # alternated, the best of two each: the machine's speed swings
        for way in ("sequential_s", "lockstep_s"):
            trainers = [Trainer(config, probe_mode="thread") for config in configs]
            try:
                began = time.perf_counter()
                if way == "lockstep_s":
                    Lockstep(trainers).run()
                else:
                    for trainer in trainers:
                        trainer.run()
                timings[way].append(time.perf_counter() - began)
            finally:
                for trainer in trainers:
                    trainer.close()
    lockstep, sequential = min(timings["lockstep_s"]), min(timings["sequential_s"])
    return {"steps_each": steps, "lockstep_s": round(lockstep, 2), "sequential_s": round(sequential, 2),
            "lockstep_over_sequential": round(lockstep / sequential, 3)}
