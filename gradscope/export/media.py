"""Animations written one RGB frame at a time: GIF with Pillow, MP4 through an ffmpeg binary.

    with open_animation("gradients.mp4", fps=30) as writer:
        for frame in frames:            # numpy uint8 [H, W, 3], all of the first frame's size
            writer.add(frame)

The file appears at `path` only when the block ends cleanly; an exception (or `abort()`) deletes
what was written. The caller drives progress: it knows how many frames it will grab.

GIF needs nothing outside Python. Each frame gets its own adaptive palette: exact when the
frame has at most 256 colours, as a plot usually has, and otherwise a median cut without
dithering, which would only speckle flat backgrounds. GIF delays count in hundredths of a
second and most viewers slow anything under 20 ms down to 100 ms, so the delay is rounded to
10 ms and kept at 20 ms or more (at most 50 frames a second). Each frame is written to the
file as it comes, with Pillow's per-frame encoder (`GifImagePlugin.getheader` and `getdata`),
so memory stays at one frame however many there are: Pillow's own `save_all` holds them all
(at 1920x1200 a frame is 2.3 MB as a palette image; 10,000 frames would be 23 GB).

MP4 pipes raw rgb24 frames to `ffmpeg` (H.264, yuv420p, faststart). yuv420p needs even sizes,
so an odd width or height gets its last column or row repeated once.
"""
from __future__ import annotations

import math
import os
import shutil
import subprocess
import tempfile
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from gradscope.export import ExportError
from gradscope.export.atomic import commit, discard, reserve_temp

FORMATS = ("gif", "mp4")
MAX_FPS = 1000.0


def ffmpeg_path() -> str | None:
    """The ffmpeg binary MP4 export would use, or None when there is none on PATH."""
    return shutil.which("ffmpeg")


def open_animation(path: str | os.PathLike, fmt: str | None = None, fps: float = 10.0) -> AnimationWriter:
    """A writer for `path`; `fmt` is "gif" or "mp4", taken from the file's suffix when None."""
    fmt = (fmt if fmt is not None else Path(path).suffix.lstrip(".")).lower()
    if fmt == "gif":
        return GifWriter(path, fps)
    if fmt == "mp4":
        return Mp4Writer(path, fps)
    raise ExportError(f"cannot write {str(path)!r}: unknown animation format {fmt!r} "
                      f"(use {' or '.join(FORMATS)})")


class AnimationWriter:
    """Frames in, one file out. Use as a context manager, or call `close()` (or `abort()`)."""

    def __init__(self, path: str | os.PathLike, fps: float):
        try:
            fps = float(fps)
        except (TypeError, ValueError):
            raise ExportError(f"frame rate {fps!r} is not a number") from None
        if not (math.isfinite(fps) and 0 < fps <= MAX_FPS):
            raise ExportError(f"frame rate {fps:g} must be above 0 and at most {MAX_FPS:g} frames a second")
        self.path, self.fps = Path(path), fps
        self.frames = 0
        self.size: tuple[int, int] | None = None   # (width, height) of the first frame
        self._closed = False
        self._temp = reserve_temp(path)   # an unwritable path fails now, not after the last frame

    def add(self, frame: np.ndarray) -> None:
        """Append one frame: uint8 [H, W, 3] RGB, of the first frame's size."""
        if self._closed:
            raise ExportError(f"{str(self.path)!r}: the animation is already closed")
        self._add(self._checked(frame))
        self.frames += 1

    def close(self) -> None:
        """Finish the file and move it into place; ExportError if nothing could be written."""
        if self._closed:
            return
        self._closed = True
        try:
            if self.frames == 0:
                raise ExportError(f"cannot write {str(self.path)!r}: no frames were added")
            self._finish()
        except BaseException:
            self._release()
            discard(self._temp)
            raise
        self._release()
        commit(self._temp, self.path)

    def abort(self) -> None:
        """Stop and delete what was written; the target path is left as it was."""
        if self._closed:
            return
        self._closed = True
        self._release()
        discard(self._temp)

    def __enter__(self) -> AnimationWriter:
        return self

    def __exit__(self, exc_type: Any, *exc_info: Any) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {str(self.path)!r}: {self.frames} frame(s) at {self.fps:g} fps>"

    def _checked(self, frame: Any) -> np.ndarray:
        array = np.asarray(frame)
        number = self.frames + 1
        if array.dtype != np.uint8 or array.ndim != 3 or array.shape[2] != 3:
            raise ExportError(f"frame {number}: expected RGB uint8 [height, width, 3], "
                              f"got {array.dtype} {list(array.shape)}")
        height, width = array.shape[:2]
        if height == 0 or width == 0:
            raise ExportError(f"frame {number} is empty ({width}x{height})")
        if self.size is None:
            self.size = (width, height)
        elif self.size != (width, height):
            raise ExportError(f"frame {number} is {width}x{height} but the first frame was "
                              f"{self.size[0]}x{self.size[1]}: every frame of an animation must "
                              "have the first frame's size")
        return array

    # the format's part
    def _add(self, frame: np.ndarray) -> None:
        raise NotImplementedError

    def _finish(self) -> None:
        raise NotImplementedError

    def _release(self) -> None:
        """Free what the writer holds (frames, a process); called once, on success or not."""


class GifWriter(AnimationWriter):
    """An endlessly looping GIF, each frame with its own adaptive palette, streamed to disk."""

    def __init__(self, path: str | os.PathLike, fps: float):
        from PIL import GifImagePlugin, Image   # only those who export pay for importing Pillow

        self._image_module, self._gif = Image, GifImagePlugin
        super().__init__(path, fps)
        self._file = None

    @property
    def duration_ms(self) -> int:
        """The delay of each frame as the GIF stores it (see the module notes)."""
        return max(20, int(round(100.0 / self.fps)) * 10)

    def _add(self, frame: np.ndarray) -> None:
        image = _palette_image(self._image_module, frame)
        if self._file is None:
            self._file = open(self._temp, "wb")
            header, _ = self._gif.getheader(image, info={"loop": 0, "duration": self.duration_ms})
            self._file.write(b"".join(header))
        for part in self._gif.getdata(image, duration=self.duration_ms, include_color_table=True):
            self._file.write(part)

    def _finish(self) -> None:
        self._file.write(b";")            # the GIF trailer
        self._file.close()
        self._file = None

    def _release(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


def _palette_image(Image: Any, frame: np.ndarray) -> Any:
    height, width = frame.shape[:2]
    packed = (frame[..., 0].astype(np.uint32) << 16) | (frame[..., 1].astype(np.uint32) << 8) | frame[..., 2]
    colours, index = np.unique(packed.ravel(), return_inverse=True)
    if len(colours) > 256:
        return Image.fromarray(frame, "RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT,
                                                      dither=Image.Dither.NONE)
    image = Image.fromarray(index.astype(np.uint8).reshape(height, width))   # "L" until it has a palette
    palette = np.stack([colours >> 16, (colours >> 8) & 255, colours & 255], axis=1).astype(np.uint8)
    image.putpalette(palette.tobytes())
    return image


class Mp4Writer(AnimationWriter):
    """H.264 MP4 through the ffmpeg on PATH, started when the first frame gives the size."""

    def __init__(self, path: str | os.PathLike, fps: float):
        executable = ffmpeg_path()
        if executable is None:
            raise ExportError(f"cannot write {str(path)!r}: MP4 export needs ffmpeg, and none was found "
                              "on PATH; install ffmpeg, or export a GIF, which works without it")
        super().__init__(path, fps)
        self.executable = executable
        self._process: subprocess.Popen | None = None
        self._stderr: Any = None   # a file, not a pipe: nothing can block on a full stderr
        self._pad = (0, 0)

    def arguments(self, width: int, height: int) -> list[str]:
        """The ffmpeg command line for frames of `width` x `height` (already even)."""
        rate = Fraction(self.fps).limit_denominator(1001)
        return [self.executable, "-hide_banner", "-loglevel", "error", "-y",
                "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{width}x{height}", "-r", str(rate),
                "-i", "-", "-an", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-movflags", "+faststart",
                "-f", "mp4", str(self._temp)]

    def _add(self, frame: np.ndarray) -> None:
        if self._process is None:
            self._start()
        if self._pad != (0, 0):
            frame = np.pad(frame, ((0, self._pad[1]), (0, self._pad[0]), (0, 0)), mode="edge")
        try:
            self._process.stdin.write(np.ascontiguousarray(frame).data)
        except OSError:   # ffmpeg quit early; its stderr says why
            raise self._failure(self._stop()) from None

    def _start(self) -> None:
        width, height = self.size
        self._pad = (width % 2, height % 2)
        self._stderr = tempfile.TemporaryFile()
        try:
            self._process = subprocess.Popen(
                self.arguments(width + self._pad[0], height + self._pad[1]),
                stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=self._stderr)
        except OSError as exc:
            raise ExportError(f"cannot run ffmpeg ({self.executable}): {exc.strerror or exc}") from None

    def _finish(self) -> None:
        code = self._stop()
        if code != 0:
            raise self._failure(code)

    def _stop(self) -> int:
        try:
            self._process.stdin.close()
        except OSError:
            pass
        return self._process.wait()

    def _failure(self, code: int) -> ExportError:
        self._stderr.seek(0, os.SEEK_END)
        self._stderr.seek(max(0, self._stderr.tell() - 4000))
        lines = [line.strip() for line in self._stderr.read().decode("utf-8", "replace").splitlines()]
        tail = [line for line in lines if line][-6:]
        said = ":\n  " + "\n  ".join(tail) if tail else " and said nothing"
        return ExportError(f"ffmpeg failed writing {str(self.path)!r} (exit code {code}){said}")

    def _release(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
            try:
                self._process.stdin.close()
            except OSError:
                pass
            self._process.wait()
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None
