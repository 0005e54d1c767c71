"""The command line: `gradscope [gui] | open | record | fork | info | export | bench`.

Every problem with what the user typed is one line on stderr naming the option, and exit
status 2. torch is imported only by the commands that train.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

EXIT_USAGE = 2


class UsageError(Exception):
    """A problem with the command line or its files, reported as one line, exit 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, not argparse's usage block
        raise UsageError(f"{self.prog}: {message}")


def _add_run_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("model")
    group.add_argument("--arch", help="rnn (Elman), jordan, lstm or gru")
    group.add_argument("--hidden", type=int, help="hidden units per layer, 2 to 512")
    group.add_argument("--layers", type=int, help="stacked layers, 1 to 3")
    group.add_argument("--bidirectional", action="store_true", default=None, help="add a reverse direction")
    group.add_argument("--nonlinearity", help="tanh or relu (rnn and jordan)")
    group.add_argument("--init", help="default, orthogonal (scaled to --rho) or identity (IRNN, scaled to --rho)")
    group.add_argument("--rho", type=float, help="spectral radius of the recurrent weights for --init orthogonal/identity")
    group.add_argument("--forget-bias", type=float, help="LSTM forget-gate bias")
    group = parser.add_argument_group("task")
    group.add_argument("--task", help="adding, copy, recall, sine, charlm or csv")
    group.add_argument("--seq-len", type=int, help="sequence length T (the delay for copy)")
    group.add_argument("--copy-symbols", type=int, help="symbols to remember in the copy task")
    group.add_argument("--text", help="UTF-8 text file for charlm (default: Shakespeare's sonnets)")
    group.add_argument("--csv", help="CSV file with a time series for the csv task")
    group.add_argument("--csv-column", help="column of the CSV to forecast (default: the last numeric one)")
    group.add_argument("--temperature", type=float, help="sampling temperature of the char LM")
    group = parser.add_argument_group("training")
    group.add_argument("--optimizer", help="sgd, momentum, rmsprop or adam")
    group.add_argument("--lr", type=float, help="learning rate")
    group.add_argument("--momentum", type=float, help="momentum for --optimizer momentum")
    group.add_argument("--batch", type=int, help="batch size")
    group.add_argument("--seed", type=int, help="seed for the weights and the data")
    group.add_argument("--device", help="cpu, cuda or auto")
    clip = group.add_mutually_exclusive_group()
    clip.add_argument("--clip-norm", type=float, metavar="X", help="clip the global gradient norm to X")
    clip.add_argument("--clip-value", type=float, metavar="X", help="clip every gradient entry to [-X, X]")
    group.add_argument("--tbptt", type=int, help="truncated BPTT window k (0: full BPTT)")
    group.add_argument("--steps", type=int, help="training steps")
    group = parser.add_argument_group("probes and recording")
    group.add_argument("--probe-every", type=int, help="probe every K steps (0: automatic, within the cost budget)")
    group.add_argument("--probe-batch", type=int, help="sequences in the fixed probe batch")
    group.add_argument("--checkpoint-every", type=int, help="save the weights every N steps")
    parser.add_argument("--config", metavar="FILE.toml", help="read settings from a TOML file (options override it)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="gradscope", description="A desktop microscope for the gradients of small neural networks.")
    commands = parser.add_subparsers(dest="command", parser_class=_Parser)
    gui = commands.add_parser("gui", help="open the live lab's window (the default with no command)")
    gui.add_argument("--sessions-dir", default="sessions", metavar="DIR",
                     help="where live runs are recorded (default: ./sessions)")
    gui.add_argument("--exit-after-first-paint", action="store_true", help=argparse.SUPPRESS)
    record = commands.add_parser("record", help="train headless and record a session file")
    _add_run_options(record)
    record.add_argument("-o", "--output", required=True, metavar="FILE.gscope", help="the session file to write")
    record.add_argument("--append", action="store_true", help="add the run to an existing session file")
    record.add_argument("--force", action="store_true", help="replace an existing session file")
    record.add_argument("--json", action="store_true", help="print a JSON summary on stdout")
    from gradscope.commands.fork import add_fork_parser

    add_fork_parser(commands)
    from gradscope.commands.export import add_export_parser

    add_export_parser(commands)
    opener = commands.add_parser("open", help="open a session file in the window, to replay it")
    opener.add_argument("file")
    opener.add_argument("--sessions-dir", default="sessions", metavar="DIR",
                        help="where new live runs are recorded (default: ./sessions)")
    info = commands.add_parser("info", help="describe a session file")
    info.add_argument("file")
    info.add_argument("--json", action="store_true", help="print JSON")
    bench = commands.add_parser("bench", help="measure the engine's costs side by side")
    bench.add_argument("--json", action="store_true", help="print the figures as JSON")
    bench.add_argument("--quick", action="store_true", help="small sizes, for a smoke test")
    bench.add_argument("--gui", action="store_true",
                       help="measure the window instead (offscreen): tick gaps, refresh, memory, first paint")
    bench.add_argument("--replay", action="store_true",
                       help="measure the replay instead (offscreen): opening and seeking a 10,000-step session")
    return parser


def config_from_args(args: argparse.Namespace):
    """Settings from the TOML file, then the command line over them. A TOML file uses the
    option names (seq-len or seq_len), clip-norm / clip-value included."""
    from gradscope.config import ConfigError, RunConfig, load_toml

    settings = load_toml(args.config) if getattr(args, "config", None) else {}
    for clip_option, mode in (("clip_norm", "norm"), ("clip_value", "value")):
        if clip_option in settings:
            settings.update(clip_mode=mode, clip_threshold=settings.pop(clip_option))
    names = ("arch", "hidden", "layers", "bidirectional", "nonlinearity", "init", "rho", "forget_bias", "task",
             "seq_len", "copy_symbols", "text", "csv", "csv_column", "temperature", "optimizer", "lr", "momentum",
             "batch", "seed", "device", "tbptt", "steps", "probe_every", "probe_batch", "checkpoint_every")
    for name in names:
        value = getattr(args, name, None)
        if value is not None:
            settings[name] = value
    if args.clip_norm is not None:
        settings.update(clip_mode="norm", clip_threshold=args.clip_norm)
    elif args.clip_value is not None:
        settings.update(clip_mode="value", clip_threshold=args.clip_value)
    for name in ("text", "csv", "config"):
        if settings.get(name):
            # the session stores the configuration: an absolute path still finds the data
            # when the session is opened from another folder
            settings[name] = str(Path(settings[name]).expanduser().absolute())
    try:
        return RunConfig.from_dict(settings)
    except ConfigError as exc:
        if exc.option == "clip_threshold":   # not an option anyone typed: name the one they did
            raise ConfigError(f"clip_{settings.get('clip_mode', 'norm')}", exc.problem) from None
        raise


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if args.command in (None, "gui", "open"):
            from gradscope.ui.app import run_gui

            if args.command == "open":
                from gradscope.session import open_session

                open_session(args.file).close()     # a bad file: one line here, not a window
            return run_gui(getattr(args, "sessions_dir", "sessions"),
                           exit_after_first_paint=getattr(args, "exit_after_first_paint", False),
                           open_path=getattr(args, "file", None))
        if args.command == "record":
            from gradscope.commands.record import record

            return record(args, config_from_args(args))
        if args.command == "fork":
            from gradscope.commands.fork import fork

            return fork(args)
        if args.command == "export":
            from gradscope.commands.export import export

            return export(args)
        if args.command == "info":
            return _info(args)
        if args.command == "bench":
            from gradscope.bench import run_bench

            return run_bench(args)
    except UsageError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # known, user-facing problems only; anything else is a bug
        from gradscope.config import ConfigError
        from gradscope.session import SessionError

        if isinstance(exc, (ConfigError, SessionError)):
            print(f"gradscope {args.command}: {exc}", file=sys.stderr)
            return EXIT_USAGE
        raise
    return 0


def _info(args) -> int:
    from gradscope.session import format_info, session_info

    summary = session_info(Path(args.file))
    try:
        print(json.dumps(summary, indent=2) if args.json else format_info(summary))
        sys.stdout.flush()
    except BrokenPipeError:   # `gradscope info FILE | head`
        sys.stdout = open(os.devnull, "w")
    return 0
