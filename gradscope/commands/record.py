"""`gradscope record`: train headless, record every step into a session file.

With `--compare KEY=V1,V2[,V3]` it records two or three runs that differ in KEY, trained in
lockstep (step s of each, then step s + 1), into the one file, each run marked with the runs
it is compared with. Ctrl-C (or SIGTERM) stops the runs between two steps; the file then holds
every step up to there, committed, and their state says `stopped`.
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


def record(args, config: RunConfig) -> int:
    from gradscope.probes.runner import default_probe_mode
    from gradscope.session import SessionWriter
    from gradscope.session.files import SESSION_SUFFIX
    from gradscope.training import Trainer
    from gradscope.training.loop import Lockstep

    output = Path(args.output)
    if output.suffix != SESSION_SUFFIX:
        raise ConfigError("output", f"session files end in {SESSION_SUFFIX}, not {output.name!r}")
    if not output.parent.exists():
        raise ConfigError("output", f"the folder {str(output.parent)!r} does not exist")
    if output.exists() and not (args.append or args.force):
        raise ConfigError("output", f"{output} exists; use --append to add this run to it, or --force to replace it")
    comparison = parse_compare(args.compare) if getattr(args, "compare", None) else None
    configs = comparison.configs(config) if comparison is not None else [config]
    began = time.perf_counter()
    # reads and checks the data first, so a bad file leaves no session behind; the probes get a
    # process of their own, which shares no interpreter lock with the training
    trainers = []
    try:
        for run_config in configs:
            trainers.append(Trainer(run_config, probe_mode=default_probe_mode("process")))
        with SessionWriter(output, append=args.append) as writer:
            recorders = [SessionRecorder(writer) for _ in trainers]
            if comparison is not None:
                for recorder in recorders:
                    recorder.compared_with([other.run_id for other in recorders], comparison.varies)
            progress = [Progress(config.steps, bar=index == 0) for index, config in enumerate(configs)]
            for trainer, recorder, bar in zip(trainers, recorders, progress):
                trainer.callbacks += [recorder, bar]
            loop = trainers[0] if len(trainers) == 1 else Lockstep(trainers)
            run_interruptibly(loop, progress)
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
