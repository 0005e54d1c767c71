"""`gradscope record`: train headless, record every step into a session file.

With `--compare KEY=V1,V2[,V3]` it records two or three runs that differ in KEY, trained in
lockstep (step s of each, then step s + 1), into the one file, each run marked with the runs
it is compared with. Ctrl-C (or SIGTERM) stops the runs between two steps; the file then holds
every step up to there, committed, and their state says `stopped`. A step still running a
second later is not waited for (commands/running.py): the runs are marked interrupted where
their saved steps end, and the exit status is 130.
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from gradscope.commands.running import EXIT_DIVERGED, Progress, json_safe, run_interruptibly, run_summary
from gradscope.config import ConfigError, RunConfig
from gradscope.config.comparison import difference_labels, parse_compare
from gradscope.records import RunState
from gradscope.training import SessionRecorder


def checked_output(args) -> Path:
    """The session file `-o` names: a .gscope path in a folder that exists and can be written,
    not a folder, a pipe or a device; an existing file only with --append or --force (an empty
    one, left by a start that failed, counts as none)."""
    import os
    import stat

    from gradscope.session.files import SESSION_SUFFIX

    output = Path(args.output)
    if args.output.endswith(("/", os.sep)) or output.is_dir():
        raise ConfigError("output", f"{args.output} is a folder; name the session file to write in it")
    if output.suffix != SESSION_SUFFIX:
        raise ConfigError("output", f"session files end in {SESSION_SUFFIX}, not {output.name!r}")
    folder = output.parent
    if not folder.is_dir():
        problem = "is not a folder" if folder.exists() else "is a folder that does not exist"
        raise ConfigError("output", f"{str(folder)!r} {problem}")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ConfigError("output", f"the folder {str(folder)!r} cannot be written")
    if os.path.lexists(output):
        mode = os.stat(output).st_mode if os.path.exists(output) else 0
        if not stat.S_ISREG(mode):
            raise ConfigError("output", f"{output} exists and is not a regular file")
        if os.stat(output).st_size and not (args.append or args.force):
            raise ConfigError("output", f"{output} exists; use --append to add this run to it, "
                              "or --force to replace it")
        if args.append and not os.access(output, os.W_OK):
            raise ConfigError("output", f"{output} cannot be written (it is read-only)")
        if args.append and os.stat(output).st_size:
            from gradscope.session.reader import open_session, refuse_to_write_past

            # the file is vetted now, not after the trainers are built (seconds): a crafted
            # file, a crash's journal or another session's log beside it is said at once
            with open_session(output) as session:
                refuse_to_write_past(session)
    return output


def record(args, config: RunConfig) -> int:
    if getattr(args, "dry_run", False):
        from gradscope.commands.dry_run import dry_run

        return dry_run(config, as_json=args.json)
    if not args.output:
        raise ConfigError("output", "name the session file to write (-o FILE.gscope), or ask for --dry-run")
    output = checked_output(args)           # before torch is imported: a bad -o is said at once

    from gradscope.probes.runner import default_probe_mode
    from gradscope.session import SessionError, SessionWriter
    from gradscope.training import Trainer
    from gradscope.training.loop import Lockstep

    comparison = parse_compare(args.compare) if getattr(args, "compare", None) else None
    configs = comparison.configs(config) if comparison is not None else [config]
    began = time.perf_counter()
    # reads and checks the data first, so a bad file leaves no session behind; the probes get a
    # process of their own, which shares no interpreter lock with the training
    trainers = []
    fresh = not (args.append and output.exists() and output.stat().st_size)
    try:
        for run_config in configs:
            trainers.append(Trainer(run_config, probe_mode=default_probe_mode("process")))
        writer = SessionWriter(output, append=args.append)
        recorders = []
        try:
            recorders = [SessionRecorder(writer) for _ in trainers]
            if comparison is not None:
                for recorder in recorders:
                    recorder.compared_with([other.run_id for other in recorders], comparison.varies)
            progress = [Progress(config.steps, bar=index == 0) for index, config in enumerate(configs)]
            for trainer, recorder, bar in zip(trainers, recorders, progress):
                trainer.callbacks += [recorder, bar]
            loop = trainers[0] if len(trainers) == 1 else Lockstep(trainers)
            run_interruptibly(loop, progress, writer)
        finally:
            written = any(recorder.written for recorder in recorders) and (writer.failure is None
                                                                           or writer.saved_a_step)
            if fresh and not written:
                writer.discard()             # the runs never started: no file is left behind
                if writer.failure is not None:
                    raise SessionError(output, f"cannot write ({writer.failure_reason}); nothing was saved, "
                                       "so no file is left behind") from None
            else:
                writer.close()
    finally:
        for trainer in trainers:
            trainer.close()
    labels = difference_labels(configs)
    summaries = [run_summary(output, recorder, trainer, bar, began, **({"compared": label} if comparison else {}))
                 for trainer, recorder, bar, label in zip(trainers, recorders, progress, labels)]
    for summary, trainer in zip(summaries, trainers):
        if args.json:
            print(json.dumps(json_safe(summary)))
        else:
            what = f" ({summary['compared']})" if comparison else ""
            loss = "none" if summary["final_loss"] is None else f"{summary['final_loss']:.4g}"
            print(f"recorded {summary['steps']} steps of {trainer.config.arch} on {trainer.config.task}{what} to "
                  f"{output} as run {summary['run']} ({summary['state']}, final loss {loss}, "
                  f"{summary['clip_events']} clip events)", file=sys.stderr)
    diverged = [summary for summary in summaries if summary["state"] == RunState.DIVERGED.value]
    for summary in diverged:
        print(f"gradscope record: run {summary['run']} diverged: {summary['divergence']}; try clipping "
              "(--clip-norm 1) or a smaller --lr", file=sys.stderr)
    return EXIT_DIVERGED if diverged else 0
