"""What `record` and `fork` share about a run they train in the foreground: the progress bar,
stopping on Ctrl-C, and the summary they print."""
from __future__ import annotations

import math
import multiprocessing
import os
import signal
import sys
import threading
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


# After a first Ctrl-C the step under way may finish and the run stop cleanly within this
# long; a long step (a big LSTM's backward pass can take a minute, in C++, where no Python
# signal handler runs) is not waited for.
GRACE_SECONDS = 1.0
# then the steps trained before the long one, still held for a probe in flight, are handed to
# the file within this long (the training thread may be handing some over itself)
SALVAGE_SECONDS = 0.5


def run_interruptibly(loop, progress: list[Progress], writer=None):
    """Run `loop` (a Trainer or a Lockstep) to the end; returns what its run() returns.

    It trains in a worker thread, so the main thread hears Ctrl-C (or SIGTERM) at once, even
    in the middle of a step. The first asks the loop to stop between two steps; if the step
    under way is still running GRACE_SECONDS later, or at a second Ctrl-C, the process ends
    now (`_quit_now`): `writer`'s runs are marked interrupted where their saved steps end."""
    outcome: dict = {}

    def train():
        try:
            outcome["value"] = loop.run()
        except BaseException as error:       # handed to the main thread, which raises it
            outcome["error"] = error

    asked: list[float] = []

    def stop(signum, frame):
        asked.append(time.monotonic())
        loop.stop()
        if len(asked) == 1:
            print("\ngradscope: stopping after this step (Ctrl-C again to quit at once)", file=sys.stderr)

    worker = threading.Thread(target=train, name="gradscope-train", daemon=True)
    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        worker.start()
        while worker.is_alive():
            worker.join(0.05)
            if asked and worker.is_alive() and (len(asked) > 1 or time.monotonic() - asked[0] > GRACE_SECONDS):
                _quit_now(loop, writer)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        for bar in progress:
            bar.close()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def _quit_now(loop, writer) -> None:
    """End the process in the middle of a step: mark what the file holds, stop the probe
    processes, say what was kept, exit 130 (as a shell reports SIGINT)."""
    if writer is not None:
        try:
            loop.salvage(SALVAGE_SECONDS)   # Trainer.salvage or Lockstep.salvage
        except Exception:
            pass    # a failed write is noted in the file; the process must end all the same
    saved = None if writer is None else writer.interrupt("Ctrl-C in the middle of a step")
    for child in multiprocessing.active_children():
        child.kill()
    if writer is None:
        kept = "nothing was being saved"
    elif saved is None:
        kept = f"{writer.path} keeps every step committed before (it was busy writing)"
    elif not saved:
        kept = "no step was saved, so no file is left behind"
    else:
        runs = ", ".join(f"run {run}: " + ("no step" if last is None else f"steps up to {last}")
                         for run, last in sorted(saved.items()))
        kept = f"{writer.path} keeps {runs}, marked interrupted"
    print(f"gradscope: interrupted in the middle of a step; {kept}", file=sys.stderr)
    sys.stderr.flush()
    os._exit(130)


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
