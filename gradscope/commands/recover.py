"""`gradscope recover FILE`: give a session file back after a crash or a stranger's side files.

Prints what it did, one line each, and what the file holds now; exit status 0, or 2 with one
line when the file cannot be recovered (see gradscope/session/recovery.py)."""
from __future__ import annotations

import sys


def add_recover_parser(commands) -> None:
    parser = commands.add_parser("recover", help="roll back a crashed write, fold in the log and set aside "
                                 "side files that are not the file's own")
    parser.add_argument("file", metavar="FILE.gscope")


def recover(args) -> int:
    from gradscope.session.info import shown
    from gradscope.session.recovery import recover as recover_file

    done = recover_file(args.file)
    for action in done.actions:
        print(shown(action, 500), file=sys.stderr)
    print(f"{shown(str(done.path), 500)}: {done.runs} run(s), {done.steps} step(s), readable", file=sys.stderr)
    return 0
