"""What `record` and `fork` share about a run they train in the foreground: the progress bar,
stopping on Ctrl-C, and the summary they print."""
from __future__ import annotations

import math
import signal
import sys
import time

from gradscope.records import EventKind
from gradscope.training import Callback

EXIT_DIVERGED = 3   # the session is saved, but the run went NaN/inf


class Progress(Callback):
    """A progress bar on stderr, and the counts the summary needs; one per run trained (a
    comparison's runs each have theirs, the bar on the first only)."""

    def __init__(self, total: int, bar: bool = True):
        from tqdm import tqdm

        self.bar = tqdm(total=total, file=sys.stderr, unit="step", mininterval=0.5, dynamic_ncols=True) if bar else None
        self.clip_events = 0
        self.probed_steps = 0
        self.divergence: str | None = None
        self.sample: str | None = None

    def on_step_end(self, trainer, record) -> None:
        self.clip_events += int(record.scalars.get("clipped", 0.0) > 0)
        self.probed_steps += int(record.probed)
        if "sample/text" in record.arrays:
            self.sample = "".join(map(chr, record.arrays["sample/text"]))
        if self.bar is not None:
            self.bar.update(1)
            if record.step % 10 == 0:
                self.bar.set_postfix(loss=f"{record.scalars['loss']:.4g}", probe_every=trainer.cadence.every,
                                     refresh=False)

    def on_event(self, trainer, event) -> None:
        if event.kind == EventKind.DIVERGED.value:
            self.divergence = event.describe()
        if event.kind == EventKind.RUN_STARTED.value and event.detail.get("device_note") and self.bar is not None:
            self.bar.write(f"gradscope: {event.detail['device_note']}", file=sys.stderr)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def run_interruptibly(loop, progress: list[Progress]):
    """Run `loop` (a Trainer or a Lockstep) to the end; the first Ctrl-C (or SIGTERM) stops it
    between two steps, a second one interrupts at once. Returns what its run() returns."""
    def stop(signum, frame):
        loop.stop()
        signal.signal(signum, signal.SIG_DFL if signum == signal.SIGTERM else signal.default_int_handler)

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        return loop.run()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        for bar in progress:
            bar.close()


def run_summary(path, recorder, trainer, progress: Progress, began: float, **extra) -> dict:
    """What `record --json` and `fork --json` print about a finished run (`extra` after "run")."""
    last = trainer.last_record
    summary = {"file": str(path), "run": recorder.run_id, **extra, "state": trainer.state.value,
               "steps": trainer.step_index,
               "final_loss": None if last is None else last.scalars["loss"],
               "metric_name": trainer.task.metric_name,
               "final_metric": None if last is None else last.scalars.get(f"metric/{trainer.task.metric_name}"),
               "clip_events": progress.clip_events, "probed_steps": progress.probed_steps,
               "probe_every": trainer.cadence.every, "device": str(trainer.device),
               "wall_seconds": round(time.perf_counter() - began, 3)}
    if trainer.device_note:
        summary["device_note"] = trainer.device_note
    if progress.divergence:
        summary["divergence"] = progress.divergence
    if progress.sample is not None:
        summary["sample"] = progress.sample
    return summary


def json_safe(summary: dict) -> dict:
    """JSON has no NaN: a diverged loss is reported as null (beside the "divergence" text)."""
    return {key: None if isinstance(value, float) and not math.isfinite(value) else value
            for key, value in summary.items()}
