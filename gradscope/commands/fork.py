"""`gradscope fork FILE --run N --step S`: fork a recorded run at step S with other settings.

The fork starts from the run's nearest checkpoint at or before S, replays exactly to S (the
parent's recorded setting changes included), then trains on with the settings given here and
is appended to FILE as a new run whose parent is (N, S). Exit status as `record`: 0, 2 for a
problem with the request (one line), 3 when the fork diverged (it is saved all the same).

Importing this module is cheap (no torch): the command line builds its parser from it.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path


def add_fork_parser(commands) -> argparse.ArgumentParser:
    """The `fork` subcommand, on the command line's subparsers."""
    from gradscope.config import LIVE_SETTINGS
    from gradscope.config.options import add_run_options

    parser = commands.add_parser("fork", help="fork a recorded run at a step with other settings, into the same file")
    parser.add_argument("file", metavar="FILE.gscope", help="the session file; the fork is appended to it")
    parser.add_argument("--run", type=int, required=True, metavar="N", help="the run to fork (its id, see `info`)")
    parser.add_argument("--step", type=int, required=True, metavar="S", help="the recorded step to fork at")
    add_run_options(parser, LIVE_SETTINGS, suffix=" from step S on")
    parser.add_argument("--no-clip", action="store_true", help="no clipping from step S on")
    parser.add_argument("--steps", type=int, metavar="K", help="the fork's total number of steps, counted from "
                        "step 0 like its parent's (default: the parent's)")
    parser.add_argument("--json", action="store_true", help="print a JSON summary on stdout")
    return parser


def fork_changes(args) -> dict:
    """The live settings given on the command line, --no-clip included."""
    from gradscope.commands.usage import UsageError
    from gradscope.config import LIVE_SETTINGS
    from gradscope.config.options import settings_from_args

    changes = settings_from_args(args, LIVE_SETTINGS)
    if args.no_clip:
        if "clip_mode" in changes:
            raise UsageError("gradscope fork: --no-clip goes with neither --clip-norm nor --clip-value")
        changes["clip_mode"] = "none"
    return changes


def fork(args) -> int:
    from gradscope.commands.running import EXIT_DIVERGED, Progress, json_safe, run_interruptibly, run_summary
    from gradscope.config.options import named_as_typed
    from gradscope.config import ConfigError
    from gradscope.probes.runner import default_probe_mode
    from gradscope.records import RunState
    from gradscope.session import SessionWriter, target
    from gradscope.training import SessionRecorder
    from gradscope.training.fork import plan_fork, start_fork

    path = Path(args.file)
    changes = fork_changes(args)
    if path.is_file():
        target.check_writable(path)       # the fork is a new run in this file: said before the replay
    began = time.perf_counter()
    try:
        plan = plan_fork(path, args.run, args.step, changes, args.steps)
    except ConfigError as exc:
        raise named_as_typed(exc, changes) from None
    # the replay to step S happens before the file is opened for writing: a fork that cannot
    # be made leaves the file as it was
    trainer = start_fork(plan, probe_mode=default_probe_mode("process"))
    try:
        with SessionWriter(path, append=True) as writer:
            recorder = SessionRecorder(writer, parent=plan.parent)
            progress = Progress(plan.config.steps - plan.step)
            trainer.callbacks += [recorder, progress]
            run_interruptibly(trainer, [progress], writer)
    finally:
        trainer.close()
    summary = run_summary(path, recorder, trainer, progress, began, parent=list(plan.parent),
                          changes=plan.changed, first_step=plan.step)
    if args.json:
        print(json.dumps(json_safe(summary)))
    else:
        changed = ", ".join(f"{name} {value}" for name, value in plan.changed.items()) or "no setting changed"
        loss = "none" if summary["final_loss"] is None else f"{summary['final_loss']:.4g}"
        print(f"forked run {plan.run_id} at step {plan.step} ({changed}) as run {recorder.run_id} of {path}: "
              f"steps {plan.step} to {trainer.step_index - 1}, {trainer.state.value}, final loss {loss}",
              file=sys.stderr)
    if trainer.state is RunState.DIVERGED:
        print(f"gradscope fork: the fork diverged: {progress.divergence}; try clipping (--clip-norm 1) "
              "or a smaller --lr", file=sys.stderr)
        return EXIT_DIVERGED
    return 0
