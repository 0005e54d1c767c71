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
    parser = commands.add_parser("fork", help="fork a recorded run at a step with other settings, into the same file")
    parser.add_argument("file", metavar="FILE.gscope", help="the session file; the fork is appended to it")
    parser.add_argument("--run", type=int, required=True, metavar="N", help="the run to fork (its id, see `info`)")
    parser.add_argument("--step", type=int, required=True, metavar="S", help="the recorded step to fork at")
    parser.add_argument("--lr", type=float, help="the learning rate from step S on")
    clip = parser.add_mutually_exclusive_group()
    clip.add_argument("--clip-norm", type=float, metavar="X", help="clip the global gradient norm to X from step S on")
    clip.add_argument("--clip-value", type=float, metavar="X", help="clip every gradient entry to [-X, X] from step S on")
    clip.add_argument("--no-clip", action="store_true", help="no clipping from step S on")
    parser.add_argument("--steps", type=int, metavar="K", help="the fork's total number of steps, counted from "
                        "step 0 like its parent's (default: the parent's)")
    parser.add_argument("--json", action="store_true", help="print a JSON summary on stdout")
    return parser


def fork_changes(args) -> dict:
    changes = {}
    if args.lr is not None:
        changes["lr"] = args.lr
    if args.no_clip:
        changes["clip_mode"] = "none"
    elif args.clip_norm is not None:
        changes.update(clip_mode="norm", clip_threshold=args.clip_norm)
    elif args.clip_value is not None:
        changes.update(clip_mode="value", clip_threshold=args.clip_value)
    return changes


def fork(args) -> int:
    from gradscope.commands.record import EXIT_DIVERGED, _finite_or_none, _Progress, run_interruptibly, run_summary
    from gradscope.config import ConfigError
    from gradscope.probes.runner import default_probe_mode
    from gradscope.records import RunState
    from gradscope.session import SessionWriter
    from gradscope.training import SessionRecorder
    from gradscope.training.fork import plan_fork, start_fork

    path = Path(args.file)
    changes = fork_changes(args)
    began = time.perf_counter()
    try:
        plan = plan_fork(path, args.run, args.step, changes, args.steps)
    except ConfigError as exc:
        if exc.option == "clip_threshold":   # not an option anyone typed: name the one they did
            raise ConfigError(f"clip_{changes.get('clip_mode', 'norm')}", exc.problem) from None
        raise
    # the replay to step S happens before the file is opened for writing: a fork that cannot
    # be made leaves the file as it was
    trainer = start_fork(plan, probe_mode=default_probe_mode("process"))
    try:
        with SessionWriter(path, append=True) as writer:
            recorder = SessionRecorder(writer, parent=plan.parent)
            progress = _Progress(plan.config.steps - plan.step)
            trainer.callbacks += [recorder, progress]
            state = run_interruptibly(trainer, progress)
    finally:
        trainer.close()
    summary = run_summary(path, recorder, trainer, progress, state, began, parent=list(plan.parent),
                          changes=plan.changed, first_step=plan.step)
    if args.json:
        print(json.dumps({key: _finite_or_none(value) for key, value in summary.items()}))
    else:
        changed = ", ".join(f"{name} {value}" for name, value in plan.changed.items()) or "no setting changed"
        loss = "none" if summary["final_loss"] is None else f"{summary['final_loss']:.4g}"
        print(f"forked run {plan.run_id} at step {plan.step} ({changed}) as run {recorder.run_id} of {path}: "
              f"steps {plan.step} to {trainer.step_index - 1}, {state.value}, final loss {loss}", file=sys.stderr)
    if state is RunState.DIVERGED:
        print(f"gradscope fork: the fork diverged: {progress.divergence}; try clipping (--clip-norm 1) "
              "or a smaller --lr", file=sys.stderr)
        return EXIT_DIVERGED
    return 0
