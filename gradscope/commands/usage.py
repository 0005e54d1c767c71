"""The command line's one kind of user error: a problem with what was typed, or with a file
it names, reported as one line on stderr with exit status 2."""
from __future__ import annotations

EXIT_USAGE = 2


class UsageError(Exception):
    """A problem with the command line or its files, reported as one line, exit 2."""
