"""Every bad data file gives a ConfigError that names the option and the file."""
from __future__ import annotations

import os

import pytest

from gradscope import tasks
from gradscope.config import ConfigError, RunConfig
from gradscope.tasks import files

GOOD_CSV = "value\n" + "\n".join(str(i * 0.5 % 7) for i in range(30)) + "\n"


def make(tmp_path, name, content):
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def build_text(path, seq_len=10):
    return tasks.build(RunConfig(task="charlm", text=str(path), seq_len=seq_len))


def build_csv(path, column=None, seq_len=10):
    return tasks.build(RunConfig(task="csv", csv=str(path), csv_column=column, seq_len=seq_len))


def expect(option, match, call, *args, **kwargs):
    with pytest.raises(ConfigError) as caught:
        call(*args, **kwargs)
    message = str(caught.value)
    assert message.startswith(f"--{option.replace('_', '-')}: "), message
    assert caught.value.option == option
    assert match in message, message
    return message


# -- text ---------------------------------------------------------------------------------------

TEXT_CASES = [
    ("missing", None, "does not exist"),
    ("empty.txt", b"", "is empty"),
    ("blank.txt", b"  \n\n\t ", "is empty"),
    ("latin1.txt", "caf\xe9 au lait, ".encode("latin-1") * 20, "not UTF-8"),
    ("nul.txt", b"plain text\x00with a NUL" * 5, "NUL"),
    ("image.png", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, "binary"),
    ("utf16.txt", "hello world, " .encode("utf-16") * 10, "NUL"),
    ("short.txt", "just a few", "needs at least 11"),
]


@pytest.mark.parametrize("name,content,match", TEXT_CASES, ids=[case[0] for case in TEXT_CASES])
def test_bad_text_files(tmp_path, name, content, match):
    path = tmp_path / name if content is None else make(tmp_path, name, content)
    message = expect("text", match, build_text, path)
    assert name in message, "the message names the file"


def test_text_folder_and_unreadable_file(tmp_path):
    expect("text", "is a folder", build_text, tmp_path)
    locked = make(tmp_path, "locked.txt", "some text " * 20)
    os.chmod(locked, 0)
    try:
        if os.access(locked, os.R_OK):
            pytest.skip("running as root: permissions are not enforced")
        expect("text", "cannot read", build_text, locked)
    finally:
        os.chmod(locked, 0o644)


def test_text_too_large(tmp_path, monkeypatch):
    monkeypatch.setattr(files, "MAX_FILE_BYTES", 1000)
    expect("text", "larger than", build_text, make(tmp_path, "big.txt", "x" * 1001))


def test_text_with_too_many_distinct_characters(tmp_path):
    text = "".join(chr(0x4E00 + i) for i in range(600)) * 2
    expect("text", "different characters", build_text, make(tmp_path, "han.txt", text))


# -- csv ----------------------------------------------------------------------------------------

CSV_CASES = [
    ("missing.csv", None, "csv", "does not exist"),
    ("empty.csv", b"", "csv", "is empty"),
    ("latin1.csv", ("prix\n" + "1\n" * 20 + "caf\xe9\n").encode("latin-1"), "csv", "not UTF-8"),
    ("nul.csv", b"1\n2\n\x00\n3\n" * 10, "csv", "NUL"),
    ("words.csv", "name,colour\nann,red\nbob,blue\n" * 10, "csv", "no numeric column"),
    ("short.csv", "value\n1\n2\n3\n4\n5\n", "csv", "needs at least 12"),
    ("nan.csv", "value\n" + "1.0\n" * 20 + "nan\n" + "2.0\n" * 5, "csv", "not a finite number"),
    ("inf.csv", "a,b\n" + "1,2\n" * 20 + "3,inf\n", "csv", "'inf'"),
    ("gap.csv", "t,value\n" + "".join(f"{i},{i % 5}\n" for i in range(20)) + "21,\n", "csv", "no value"),
    ("flat.csv", "value\n" + "3.5\n" * 30, "csv", "constant"),
]


@pytest.mark.parametrize("name,content,option,match", CSV_CASES, ids=[case[0] for case in CSV_CASES])
def test_bad_csv_files(tmp_path, name, content, option, match):
    path = tmp_path / name if content is None else make(tmp_path, name, content)
    message = expect(option, match, build_csv, path)
    assert name in message, "the message names the file"


def test_csv_too_large(tmp_path, monkeypatch):
    monkeypatch.setattr(files, "MAX_FILE_BYTES", 100)
    expect("csv", "larger than", build_csv, make(tmp_path, "big.csv", GOOD_CSV * 10))


def test_unknown_column_lists_the_available_ones(tmp_path):
    path = make(tmp_path, "cols.csv", "time,temp,rain\n" + "1,2,3\n4,5,6\n" * 10)
    message = expect("csv_column", "no column named 'humidity'", build_csv, path, "humidity")
    assert "'time', 'temp', 'rain'" in message


def test_named_column_without_a_header(tmp_path):
    path = make(tmp_path, "bare.csv", "1,2\n3,4\n" * 10)
    expect("csv_column", "no header row", build_csv, path, "temp")


def test_non_numeric_column_chosen(tmp_path):
    path = make(tmp_path, "mixed.csv", "label,value\n" + "".join(f"x{i},{i}\n" for i in range(20)))
    expect("csv_column", "not numeric", build_csv, path, "label")


def test_csv_option_required():
    with pytest.raises(ConfigError, match="--csv"):
        RunConfig(task="csv")


def test_good_csv_still_builds(tmp_path):
    task = build_csv(make(tmp_path, "good.csv", GOOD_CSV))
    assert task.length == 10


# -- hostile data files: what is read is bounded, whatever the file is --------------------------

def test_a_csv_width_bomb_is_refused_at_its_first_line(tmp_path):
    """One line of 100,000 commas (100 KB) would be 100,000 cells in every row."""
    bomb = make(tmp_path, "wide.csv", "1" + "," * 100_000 + "\n" + "2\n" * 2000)
    expect("csv", "line 1 has 100001 columns", build_csv, bomb)


def test_a_csv_of_too_many_cells_is_refused_while_it_is_read(tmp_path):
    # 900 columns on one line, then short lines: every row is padded to the widest
    ragged = make(tmp_path, "ragged.csv", ",".join(["1"] * 900) + "\n" + "2\n" * 6000)
    expect("csv", "5,000,000 cells", build_csv, ragged)


@pytest.mark.parametrize("option", ["text", "csv"])
def test_a_fifo_or_device_is_refused_at_once(tmp_path, option):
    build = build_text if option == "text" else build_csv
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)   # nothing writes to it: opening it blocking would wait for ever
    expect(option, "not a regular file", build, fifo)
    expect(option, "not a regular file", build, "/dev/zero")


def test_a_sparse_text_file_is_refused_without_reading_it_whole(tmp_path, monkeypatch):
    monkeypatch.setattr(files, "MAX_FILE_BYTES", 1 << 20)
    sparse = tmp_path / "sparse.txt"
    with open(sparse, "wb") as handle:
        handle.write(b"some text ")
        handle.truncate(5 << 30)   # 5 GB apparent, nothing on disk
    expect("text", "larger than 1 MB", build_text, sparse)
