"""`gradscope record`: train headless, record every step into a session file.

Ctrl-C (or SIGTERM) stops the run between two steps; the file then holds every step up to
there, committed, and its state says `stopped`.
"""
from __future__ import annotations

import json
import math
import signal
import sys
import time
from pathlib import Path

from gradscope.config import ConfigError, RunConfig
from gradscope.records import EventKind, RunState
from gradscope.training import Callback, SessionRecorder, Trainer
from gradscope.probes.runner import default_probe_mode

EXIT_DIVERGED = 3   # the session is saved, but the run went NaN/inf


class _Progress(Callback):
    """A progress bar on stderr, and the counts the summary needs."""

    def __init__(self, total: int):
        from tqdm import tqdm

        self.bar = tqdm(total=total, file=sys.stderr, unit="step", mininterval=0.5, dynamic_ncols=True)
        self.clip_events = 0
        self.probed_steps = 0
        self.divergence: str | None = None
        self.sample: str | None = None

    def on_step_end(self, trainer, record) -> None:
        self.clip_events += int(record.scalars.get("clipped", 0.0) > 0)
        self.probed_steps += int(record.probed)
        self.bar.update(1)
        if "sample/text" in record.arrays:
            self.sample = "".join(map(chr, record.arrays["sample/text"]))
        if record.step % 10 == 0:
            self.bar.set_postfix(loss=f"{record.scalars['loss']:.4g}", probe_every=trainer.cadence.every, refresh=False)

    def on_event(self, trainer, event) -> None:
        if event.kind == EventKind.DIVERGED.value:
            self.divergence = event.describe()
        if event.kind == EventKind.RUN_STARTED.value and event.detail.get("device_note"):
            self.bar.write(f"gradscope record: {event.detail['device_note']}", file=sys.stderr)

    def close(self) -> None:
        self.bar.close()


def record(args, config: RunConfig) -> int:
    from gradscope.session import SessionWriter
    from gradscope.session.files import SESSION_SUFFIX

    output = Path(args.output)
    if output.suffix != SESSION_SUFFIX:
        raise ConfigError("output", f"session files end in {SESSION_SUFFIX}, not {output.name!r}")
    if not output.parent.exists():
        raise ConfigError("output", f"the folder {str(output.parent)!r} does not exist")
    if output.exists() and not (args.append or args.force):
        raise ConfigError("output", f"{output} exists; use --append to add this run to it, or --force to replace it")
    began = time.perf_counter()
    # reads and checks the data first, so a bad file leaves no session behind; the probes get a
    # process of their own, which shares no interpreter lock with the training
    trainer = Trainer(config, probe_mode=default_probe_mode("process"))
    with SessionWriter(output, append=args.append) as writer:
        recorder = SessionRecorder(writer)
        progress = _Progress(config.steps)
        trainer.callbacks += [recorder, progress]
        try:
            state = run_interruptibly(trainer, progress)
        finally:
            trainer.close()
    summary = run_summary(output, recorder, trainer, progress, state, began)
    if trainer.device_note:
        summary["device_note"] = trainer.device_note
    if args.json:
        # JSON has no NaN: a diverged loss is reported as null beside the "divergence" text
        print(json.dumps({key: _finite_or_none(value) for key, value in summary.items()}))
    else:
        print(f"recorded {summary['steps']} steps of {config.arch} on {config.task} to {output} "
              f"({state.value}, final loss {summary['final_loss']:.4g}, {summary['clip_events']} clip events)",
              file=sys.stderr)
    if state is RunState.DIVERGED:
        print(f"gradscope record: the run diverged: {progress.divergence}; try clipping (--clip-norm 1) "
              "or a smaller --lr", file=sys.stderr)
        return EXIT_DIVERGED
    return 0


def run_summary(path, recorder, trainer, progress, state, began: float, **extra) -> dict:
    """What `record --json` and `fork --json` print about a finished run (`extra` after "run")."""
    last = trainer.last_record
    summary = {"file": str(path), "run": recorder.run_id, **extra, "state": state.value,
               "steps": trainer.step_index,
               "final_loss": None if last is None else last.scalars["loss"],
               "metric_name": trainer.task.metric_name,
               "final_metric": None if last is None else last.scalars.get(f"metric/{trainer.task.metric_name}"),
               "clip_events": progress.clip_events, "probed_steps": progress.probed_steps,
               "probe_every": trainer.cadence.every, "device": str(trainer.device),
               "wall_seconds": round(time.perf_counter() - began, 3)}
    if progress.divergence:
        summary["divergence"] = progress.divergence
    if progress.sample is not None:
        summary["sample"] = progress.sample
    return summary


def _finite_or_none(value):
    return None if isinstance(value, float) and not math.isfinite(value) else value


def run_interruptibly(trainer, progress):
    """Run `trainer` to the end; the first Ctrl-C (or SIGTERM) stops it between two steps, a
    second one interrupts at once. Returns the run's final state."""
    def stop(signum, frame):
        trainer.stop()
        signal.signal(signum, signal.SIG_DFL if signum == signal.SIGTERM else signal.default_int_handler)

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        return trainer.run()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        progress.close()
