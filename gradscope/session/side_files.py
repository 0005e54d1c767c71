"""The files SQLite keeps beside a session, `FILE-journal`, `FILE-wal` and `FILE-shm`, looked at
before SQLite is let near them.

SQLite trusts them: a rollback journal beside a file is rolled back into it on the next write
(and a read-only reader cannot do that, so any junk `-journal` made every read fail); a `-wal`
is applied whatever file it came from, and one whose checksums fail is dropped from the first
bad frame without a word. So a reader inspects them first (`inspect`) and decides:

- a `-journal` that is not an SQLite journal (wrong magic) is ignored: the file is read with
  `immutable=1`, which leaves SQLite blind to it, and a notice says so;
- a real journal (a write a crash left unfinished) is refused, with the way out;
- a `-wal` whose header is not a valid log of a file of this page size is ignored, with a notice;
- a `-wal` with frames of its own log that fail their checksums is read up to its last good
  commit, and a notice says how much of it could not be read;
- a WAL-flagged file with no `-wal` content is read with `immutable=1`, so reading it creates
  no side files (and works on a read-only mount).

`gradscope recover FILE` is the way out each notice names: it sets aside what is not this
file's and folds the rest back into it.

The WAL format (sqlite.org/fileformat2.html#walformat): a 32-byte header, then frames of a
24-byte header and one page. Checksums run over 32-bit words in the byte order the magic
names, two at a time: s0 += x0 + s1; s1 += x1 + s0 (mod 2^32), carried from the header to
each frame in turn.
"""
from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

JOURNAL_MAGIC = bytes.fromhex("d9d505f920a163d7")
WAL_MAGICS = {0x377F0682: "<", 0x377F0683: ">"}   # the low bit names the checksums' byte order
WAL_VERSION = 3007000
WAL_HEADER, FRAME_HEADER = 32, 24
_MASK = np.uint64(0xFFFFFFFF)


@dataclass(frozen=True)
class SideFiles:
    """What lies beside a session file and how to read it."""

    immutable: bool = False                   # open with immutable=1: SQLite ignores the side files
    notices: tuple[str, ...] = ()             # what a reader should be told, one line each
    refusal: str | None = None                # why the file cannot be read as it stands
    wal_frames: int = 0                       # frames of the -wal a reader will see (its good commits)
    wal_without_shm: bool = False             # a -wal to apply but no -shm: read a private copy
    foreign_wal: bool = field(default=False)  # set aside by `recover`
    junk_journal: bool = False                # set aside by `recover`


def side_path(path: Path, suffix: str) -> Path:
    return Path(f"{path}{suffix}")


def inspect(path: Path, header: bytes) -> SideFiles:
    """Look at FILE-journal and FILE-wal (whose 100-byte header is `header`) without SQLite."""
    name = path.name
    notices: list[str] = []
    immutable = junk = False
    journal = _read_start(side_path(path, "-journal"), len(JOURNAL_MAGIC))
    if journal is not None and journal.strip(b"\x00"):
        if journal == JOURNAL_MAGIC:
            return SideFiles(refusal=f"{name}-journal beside it holds a write that a crash left unfinished; "
                             f"`gradscope recover {path}` rolls it back (it needs write access to the folder)")
        # SQLite would take it for a hot journal and fail every read-only open
        notices.append(f"{name}-journal beside it is not an SQLite journal and was ignored; "
                       f"`gradscope recover {path}` sets it aside")
        immutable = junk = True
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    wal_flagged = header[18] == 2 or header[19] == 2
    wal = check_wal(side_path(path, "-wal"), page_size)
    if wal.problem is not None:
        notices.append(f"{name}-wal beside it {wal.problem}; it was ignored, so what it holds is not "
                       f"shown; `gradscope recover {path}` sets it aside")
        return SideFiles(immutable=True, notices=tuple(notices), foreign_wal=True, junk_journal=junk)
    if wal.damaged:
        notices.append(f"{name}-wal beside it is damaged after its commit {wal.commits}: the {wal.damaged} "
                       "frame(s) written after it cannot be read (one fails its checksum)")
    if wal.frames == 0:
        # nothing to apply: reading with immutable=1 creates no -wal or -shm beside the file
        return SideFiles(immutable=immutable or wal_flagged, notices=tuple(notices), junk_journal=junk)
    if immutable:
        # a junk journal and a log to apply: read a private copy of the file and its log
        return SideFiles(notices=tuple(notices), wal_frames=wal.frames, wal_without_shm=True, junk_journal=junk)
    shm = side_path(path, "-shm")
    return SideFiles(notices=tuple(notices), wal_frames=wal.frames, wal_without_shm=not shm.exists())


@dataclass(frozen=True)
class WalCheck:
    problem: str | None = None   # why the log cannot be this file's at all
    frames: int = 0              # frames up to and with its last good commit
    commits: int = 0             # good commits
    damaged: int = 0             # frames of this log after that, lost to a frame that fails its checksum


def check_wal(wal: Path, page_size: int) -> WalCheck:
    """Walk the -wal's frames and their checksums as SQLite does, counting what it will apply."""
    try:
        descriptor = os.open(wal, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        return WalCheck()
    except OSError as exc:
        return WalCheck(problem=f"cannot be read ({exc.strerror or exc})")
    try:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            return WalCheck(problem="is not a regular file")
        with os.fdopen(descriptor, "rb", closefd=False) as handle:
            return _walk(handle, page_size)
    except OSError as exc:
        return WalCheck(problem=f"cannot be read ({exc.strerror or exc})")
    finally:
        os.close(descriptor)


def _walk(handle, page_size: int) -> WalCheck:
    head = handle.read(WAL_HEADER)
    if len(head) < WAL_HEADER:
        # SQLite ignores a log shorter than its header; an empty one is what a clean reader leaves
        return WalCheck() if not head.strip(b"\x00") else WalCheck(problem="is truncated inside its header")
    magic = int.from_bytes(head[0:4], "big")
    if magic not in WAL_MAGICS:
        return WalCheck(problem="is not a write-ahead log (wrong magic)")
    order = WAL_MAGICS[magic]
    words = np.dtype(f"{order}u4")
    version, size = int.from_bytes(head[4:8], "big"), int.from_bytes(head[8:12], "big")
    if version != WAL_VERSION:
        return WalCheck(problem=f"is a write-ahead log of an unknown version ({version})")
    if size != page_size:
        return WalCheck(problem=f"is a log of {size}-byte pages, and this file has {page_size}-byte pages: "
                        "it is another file's")
    salts = head[16:24]
    checksum = _checksum(np.frombuffer(head[:24], dtype=words), (0, 0))
    if checksum != tuple(int.from_bytes(head[at:at + 4], "big") for at in (24, 28)):
        return WalCheck(problem="is damaged (its header fails its checksum)")
    frames = commits = good = 0
    intact, lost_commit = True, False
    while True:
        frame = handle.read(FRAME_HEADER + page_size)
        if len(frame) < FRAME_HEADER + page_size:
            break
        if frame[8:16] != salts:
            break    # a frame of an earlier round of the log: SQLite stops here too, and so it should
        frames += 1
        is_commit = int.from_bytes(frame[4:8], "big") != 0   # the database size: set on a commit's last frame
        if intact:
            data = np.frombuffer(frame[:8], dtype=words), np.frombuffer(frame[FRAME_HEADER:], dtype=words)
            after = _checksum(data[1], _checksum(data[0], checksum))
            stored = tuple(int.from_bytes(frame[at:at + 4], "big") for at in (16, 20))
            if after == stored:
                checksum = after
                if is_commit:
                    commits, good = commits + 1, frames
                continue
            intact = False
        lost_commit = lost_commit or is_commit
    # Frames past the last good commit are lost either way. They are damage only when a commit
    # is among them: a transaction that was rolled back (a full disk) leaves frames of its own
    # past the next commit's, stale and never committed, whose checksums no longer chain.
    return WalCheck(frames=good, commits=commits, damaged=frames - good if lost_commit else 0)


_POWERS: dict[int, np.ndarray] = {}


def _checksum(values: np.ndarray, start: tuple[int, int]) -> tuple[int, int]:
    """SQLite's WAL checksum of `values` (32-bit words, an even count) from `start`.

    Each pair (a, b) maps (s0, s1) to M (s0, s1) + (a, a + b) with M = [[1, 1], [1, 2]], so n
    pairs give M^n s + sum_k M^(n-1-k) v_k: one vectorised sum instead of a Python loop over
    4,096 pairs a page. uint64 arithmetic wraps mod 2^64, which keeps it right mod 2^32."""
    pairs = values.astype(np.uint64).reshape(-1, 2)
    n = len(pairs)
    powers = _matrix_powers(n)                       # powers[j] = M^j, j = 0..n
    a, b = pairs[:, 0], pairs[:, 1]
    v = np.stack([a, (a + b) & _MASK], axis=1)       # (n, 2)
    weights = powers[n - 1 - np.arange(n)]           # (n, 2, 2): M^(n-1-k)
    with np.errstate(over="ignore"):
        summed = np.einsum("kij,kj->i", weights, v)
        s = np.array(start, dtype=np.uint64)
        total = (powers[n] @ s + summed) & _MASK
    return int(total[0]), int(total[1])


def _matrix_powers(n: int) -> np.ndarray:
    cached = _POWERS.get(n)
    if cached is None:
        step = np.array([[1, 1], [1, 2]], dtype=np.uint64)
        cached = np.empty((n + 1, 2, 2), dtype=np.uint64)
        cached[0] = np.eye(2, dtype=np.uint64)
        with np.errstate(over="ignore"):
            for j in range(1, n + 1):
                cached[j] = (step @ cached[j - 1]) & _MASK
        _POWERS[n] = cached
    return cached


def _read_start(path: Path, count: int) -> bytes | None:
    try:
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            return b"\xff"    # a FIFO or a device where a journal should be: junk
        return os.read(descriptor, count)
    except OSError:
        return None
    finally:
        os.close(descriptor)
