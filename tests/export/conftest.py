"""Fixtures for the export tests: a sample session, and a fake ffmpeg on PATH."""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from export_samples import write_sample

from gradscope.session import open_session

# Stands in for ffmpeg: checks the arguments MP4 export must pass, logs them, reads stdin to the
# end and writes its byte count to the output file (the last argument). FAKE_FFMPEG_FAIL makes it
# complain on stderr and exit 1 without reading a byte.
FAKE_FFMPEG = """#!{python}
import json, os, sys
args = sys.argv[1:]
with open(os.environ["FAKE_FFMPEG_LOG"], "a") as log:
    log.write(json.dumps(args) + "\\n")
if os.environ.get("FAKE_FFMPEG_FAIL"):
    sys.stderr.write("Input #0, rawvideo, from 'pipe:':\\n\\n[libx264 @ 0x1] broken encoder\\n"
                     "Conversion failed!\\n")
    sys.exit(1)
def after(flag):
    return args[args.index(flag) + 1]
assert after("-f") == "rawvideo" and after("-pix_fmt") == "rgb24" and after("-i") == "-", args
assert after("-c:v") == "libx264" and "yuv420p" in args and after("-movflags") == "+faststart", args
data = sys.stdin.buffer.read()
if os.environ.get("FAKE_FFMPEG_RAW"):
    with open(os.environ["FAKE_FFMPEG_RAW"], "wb") as raw:
        raw.write(data)
with open(args[-1], "w") as out:
    out.write(str(len(data)))
"""


@pytest.fixture
def sample(tmp_path: Path):
    path = tmp_path / "sample.gscope"
    records = write_sample(path)
    with open_session(path) as session:
        yield session.runs[0], records


class FakeFfmpeg:
    def __init__(self, folder: Path):
        self.folder = folder
        self.log = folder / "calls.jsonl"
        self.raw = folder / "raw.bin"

    @property
    def calls(self) -> list[list[str]]:
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines()]


@pytest.fixture
def fake_ffmpeg(tmp_path: Path, monkeypatch) -> FakeFfmpeg:
    folder = tmp_path / "fakebin"
    folder.mkdir()
    script = folder / "ffmpeg"
    script.write_text(FAKE_FFMPEG.format(python=sys.executable))
    script.chmod(0o755)
    fake = FakeFfmpeg(folder)
    monkeypatch.setenv("PATH", str(folder) + os.pathsep + os.environ.get("PATH", ""))
    monkeypatch.setenv("FAKE_FFMPEG_LOG", str(fake.log))
    monkeypatch.setenv("FAKE_FFMPEG_RAW", str(fake.raw))
    monkeypatch.delenv("FAKE_FFMPEG_FAIL", raising=False)
    return fake


@pytest.fixture
def no_ffmpeg(tmp_path: Path, monkeypatch) -> None:
    empty = tmp_path / "emptybin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
