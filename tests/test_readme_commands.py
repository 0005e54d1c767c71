"""Every command block of the README runs as written.

The README's fenced blocks are shell commands (no language), Python (```python) or a command's
output (```text). Each shell command and each Python block runs, in the README's order, in a
folder of its own that holds the example sessions and this checkout's .venv, with HOME there
too, so nothing outside it is touched: it must exit with status 0 and leave every file it names
with -o. A few are not run, and their text is checked instead: the bootstrap, the commands
that open the window and wait for it, and those that delete settings or the .venv. The
benchmarks take minutes, so their command lines are only parsed, by gradscope's own parser."""
from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from gradscope.cli import build_parser

ROOT = Path(__file__).parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
FENCE = re.compile(r"^(?P<indent> *)```(?P<lang>\w*)\n(?P<body>.*?)^(?P=indent)```$", re.MULTILINE | re.DOTALL)
COMMANDS = (".venv/bin/", "bash ", "xvfb-run ", "rm ")

# what each one would do here, and why it is not run
NOT_RUN = {
    "bash .ci/bootstrap && .venv/bin/gradscope": "installs system packages, then opens the window",
    "bash .ci/bootstrap && .venv/bin/python -m pytest": "installs, then runs the whole suite, this test included",
    ".venv/bin/gradscope open sessions/vanishing-rnn.gscope": "opens the window until it is closed",
    ".venv/bin/gradscope open sessions/exploding-rnn.gscope": "opens the window until it is closed",
    "xvfb-run -a .venv/bin/gradscope open sessions/vanishing-rnn.gscope": "opens the window until it is closed",
    "rm -f ~/.config/gradscope/gradscope.conf": "removes the user's window settings",
    "rm -rf .venv ~/.config/gradscope": "uninstalls",
}
PARSED_ONLY = ".venv/bin/gradscope bench"


def blocks() -> list[tuple[int, str, str]]:
    """(line, language, text) of every fenced block, indented ones (in a list item) dedented."""
    found = []
    for match in FENCE.finditer(README):
        indent = len(match.group("indent"))
        body = "".join(line[indent:] for line in match.group("body").splitlines(keepends=True))
        found.append((README.count("\n", 0, match.start()) + 1, match.group("lang"), body))
    return found


def commands(body: str) -> list[str]:
    """The commands of a shell block: continuation lines joined, comments dropped."""
    joined = body.replace("\\\n", " ")
    lines = [line.split("  #")[0].strip() for line in joined.splitlines()]
    return [" ".join(line.split()) for line in lines if line and not line.startswith("#")]


def shell_commands() -> list[tuple[int, str]]:
    return [(line, command) for line, lang, body in blocks() if lang == "" for command in commands(body)]


def written(command: str) -> list[str]:
    """The files a command says it writes: its -o; export adds the format's ending when missing."""
    words = shlex.split(command)
    outputs = [words[i + 1] for i, word in enumerate(words[:-1]) if word in ("-o", "--output")]
    if "export" in words and "--format" in words:
        ending = "." + words[words.index("--format") + 1]
        outputs = [path if path.endswith(ending) else path + ending for path in outputs]
    return outputs


def test_every_block_is_shell_python_or_output():
    found = blocks()
    assert len(found) >= 15
    for line, lang, body in found:
        assert lang in ("", "python", "text"), f"README line {line}: a block in {lang!r}"
        first = body.lstrip().splitlines()[0]
        if lang == "":
            assert all(command.startswith(COMMANDS) for command in commands(body)), f"README line {line}: {first}"
        elif lang == "text":
            assert not first.startswith(COMMANDS), f"README line {line} is a command shown as output"


def test_the_commands_not_run_are_the_documented_ones_exactly():
    skipped = {command for _, command in shell_commands() if command in NOT_RUN}
    assert skipped == set(NOT_RUN)
    for command in NOT_RUN:
        if " open " in command:          # the file exists and the command line parses
            words = command.split()
            start = words.index(".venv/bin/gradscope")
            args = build_parser().parse_args(words[start + 1:])
            assert args.command == "open" and (ROOT / args.file).is_file()


def test_the_benchmark_commands_parse():
    benches = [command for _, command in shell_commands() if command.startswith(PARSED_ONLY)]
    assert len(benches) == 4
    for command in benches:
        args = build_parser().parse_args(shlex.split(command)[1:])
        assert args.command == "bench"


@pytest.fixture
def folder(tmp_path):
    """A folder like this one, as a newcomer's: the examples, the .venv, and a session of their
    own that the README's `recover` names."""
    (tmp_path / "sessions").mkdir()
    for example in (ROOT / "sessions").glob("*.gscope"):
        if not example.name.startswith("live-"):
            shutil.copy(example, tmp_path / "sessions" / example.name)
    shutil.copy(ROOT / "sessions" / "vanishing-rnn.gscope", tmp_path / "sessions" / "lecture.gscope")
    (tmp_path / ".venv").symlink_to(ROOT / ".venv")
    (tmp_path / "home").mkdir()
    return tmp_path


def test_every_other_command_and_python_block_runs_and_writes_what_it_names(folder):
    env = {key: value for key, value in os.environ.items() if key not in ("DISPLAY", "WAYLAND_DISPLAY", "XDG_CONFIG_HOME")}
    env.update(HOME=str(folder / "home"), QT_QPA_PLATFORM="offscreen")
    ran = []
    for line, lang, body in blocks():
        if lang == "python":
            # as a notebook runs it: no file for multiprocessing's spawn to import again
            result = subprocess.run([sys.executable, "-c", body], cwd=folder, env=env, capture_output=True,
                                    text=True, timeout=300)
            assert result.returncode == 0, f"README line {line}:\n{result.stderr[-3000:]}"
            ran.append(f"python block at line {line}")
            continue
        if lang != "":
            continue
        for command in commands(body):
            if command in NOT_RUN or command.startswith(PARSED_ONLY):
                continue
            result = subprocess.run(["bash", "-c", command], cwd=folder, env=env, capture_output=True, text=True,
                                    timeout=300)
            assert result.returncode == 0, f"README line {line}: {command}\n{result.stderr[-3000:]}"
            for path in written(command):
                assert (folder / path).is_file() and (folder / path).stat().st_size > 0, f"{command}: no {path}"
            ran.append(command)
    assert len(ran) >= 10, ran
    assert not (folder / "home" / ".config").exists()     # no command wrote settings
