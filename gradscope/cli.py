"""The command line: `gradscope [gui] | open | record | fork | info | export | recover | bench`.

Every problem with what the user typed is one line on stderr naming the option, and exit
status 2. torch is imported only by the commands that train.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from gradscope.commands.usage import EXIT_USAGE, UsageError
from gradscope.config.options import add_run_options, config_from_args


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, not argparse's usage block
        raise UsageError(f"{self.prog}: {message}")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="gradscope", description="A desktop microscope for the gradients of small neural networks.")
    parser.add_argument("--version", action="version", version=f"gradscope {installed_version()}")
    commands = parser.add_subparsers(dest="command", parser_class=_Parser)
    gui = commands.add_parser("gui", help="open the live lab's window (the default with no command)")
    gui.add_argument("--sessions-dir", default="sessions", metavar="DIR",
                     help="where live runs are recorded (default: ./sessions)")
    gui.add_argument("--exit-after-first-paint", action="store_true", help=argparse.SUPPRESS)
    record = commands.add_parser("record", help="train headless and record a session file")
    add_run_options(record)
    record.add_argument("--config", metavar="FILE.toml", help="read settings from a TOML file (options override it)")
    record.add_argument("--compare", action="append", metavar="KEY=V1,V2[,V3]",
                        help="record two or three runs in lockstep that differ in the setting KEY (as on the "
                             "command line: arch=rnn,lstm,gru, rho=0.5,1.5, clip-norm=1,10); repeat it to vary "
                             "several settings together")
    record.add_argument("-o", "--output", metavar="FILE.gscope", help="the session file to write (needed unless "
                        "--dry-run)")
    record.add_argument("--dry-run", action="store_true",
                        help="print each layer's output shape and stop, before any training or file")
    record.add_argument("--append", action="store_true", help="add the run to an existing session file")
    record.add_argument("--force", action="store_true", help="replace an existing session file")
    record.add_argument("--json", action="store_true", help="print a JSON summary on stdout")
    from gradscope.commands.fork import add_fork_parser

    add_fork_parser(commands)
    from gradscope.commands.export import add_export_parser

    add_export_parser(commands)
    from gradscope.commands.recover import add_recover_parser

    add_recover_parser(commands)
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
    bench.add_argument("--soak", action="store_true",
                       help="drive the window through random actions instead (offscreen) and check that none "
                            "breaks it: no exception, stall, stray record, orphan process or gap in a session")
    bench.add_argument("--actions", type=int, default=2000, metavar="N", help="the soak's number of actions")
    bench.add_argument("--seed", type=int, default=1, metavar="S", help="the soak's seed, to replay a failure")
    return parser


def installed_version() -> str:
    """The version pip installed (the distribution's metadata); a checkout run without being
    installed (PYTHONPATH=.) has none, and says the version its source declares."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("gradscope")
    except PackageNotFoundError:
        from gradscope import __version__

        return __version__


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
        if args.command == "recover":
            from gradscope.commands.recover import recover

            return recover(args)
        if args.command == "bench":
            from gradscope.bench import run_bench

            return run_bench(args)
    except UsageError as exc:
        print(_one_line(str(exc)), file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # known, user-facing problems only; anything else is a bug
        from gradscope.config import ConfigError
        from gradscope.session import SessionError

        if isinstance(exc, (ConfigError, SessionError)):
            print(_one_line(f"gradscope {args.command}: {exc}"), file=sys.stderr)
            return EXIT_USAGE
        raise
    return 0


def _one_line(text: str) -> str:
    """An error as one line for the terminal: a path or a name from the user or from a file may
    hold newlines and escape sequences, which are shown escaped; a line is cut at 2,000 characters."""
    from gradscope.session.info import shown

    return shown(text, 2000)


def _info(args) -> int:
    from gradscope.session import format_info, session_info

    summary = session_info(Path(args.file))
    try:
        print(json.dumps(summary, indent=2, allow_nan=False) if args.json else format_info(summary))
        sys.stdout.flush()
    except BrokenPipeError:   # `gradscope info FILE | head`
        sys.stdout = open(os.devnull, "w")
    return 0
