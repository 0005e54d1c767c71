"""Animation writers: GIF through Pillow, MP4 through a fake ffmpeg, and clean failures."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from gradscope.export import ExportError, ffmpeg_path, open_animation


def plot_frame(index: int, width: int = 40, height: int = 30) -> np.ndarray:
    """A few flat colours, like a plot: a white background, an axis and a moving bar."""
    frame = np.full((height, width, 3), 255, dtype=np.uint8)
    frame[-3, :] = (40, 40, 40)
    frame[5:20, 2 + index:6 + index] = (31, 119, 180)
    frame[0, index] = (214, 39, 40)
    return frame


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


# -- GIF -------------------------------------------------------------------------------------------

def test_gif_has_every_frame_at_its_size_and_duration_and_loops(tmp_path):
    frames = [plot_frame(i) for i in range(7)]
    with open_animation(tmp_path / "plot.gif", fps=10) as writer:
        for frame in frames:
            writer.add(frame)
    assert writer.frames == 7 and writer.size == (40, 30)
    with Image.open(tmp_path / "plot.gif") as image:
        assert image.format == "GIF" and image.n_frames == 7 and image.size == (40, 30)
        assert image.info["loop"] == 0
        for index, frame in enumerate(frames):
            image.seek(index)
            assert image.info["duration"] == 100
            # a frame of few colours gets an exact palette: it comes back pixel for pixel
            np.testing.assert_array_equal(np.asarray(image.convert("RGB")), frame)
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("fps, duration", [(15, 70), (30, 30), (50, 20), (100, 20), (0.5, 2000)])
def test_gif_delays_are_whole_hundredths_and_at_least_20_ms(tmp_path, fps, duration):
    with open_animation(tmp_path / "a.gif", "gif", fps) as writer:
        writer.add(plot_frame(0))
        writer.add(plot_frame(1))
    assert writer.duration_ms == duration
    with Image.open(tmp_path / "a.gif") as image:
        assert image.info["duration"] == duration


def test_gif_of_many_colours_is_quantised(tmp_path):
    rng = np.random.default_rng(0)
    frames = [rng.integers(0, 256, size=(24, 33, 3), dtype=np.uint8) for _ in range(3)]
    with open_animation(tmp_path / "noise.gif", fps=5) as writer:
        for frame in frames:
            writer.add(frame)
    with Image.open(tmp_path / "noise.gif") as image:
        assert image.n_frames == 3 and image.size == (33, 24)
        image.seek(2)
        error = np.abs(np.asarray(image.convert("RGB"), dtype=int) - frames[2]).mean()
        assert error < 40   # an adaptive palette, not a fixed web palette


def test_frames_of_another_size_are_refused_and_no_file_remains(tmp_path):
    with pytest.raises(ExportError, match=r"frame 3 is 41x30 but the first frame was 40x30: every frame "
                                          r"of an animation must have the first frame's size"):
        with open_animation(tmp_path / "plot.gif", fps=10) as writer:
            writer.add(plot_frame(0))
            writer.add(plot_frame(1))
            writer.add(plot_frame(2, width=41))
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("frame, problem", [(np.zeros((4, 4, 3), dtype=np.float32), "float32"),
                                            (np.zeros((4, 4, 4), dtype=np.uint8), r"\[4, 4, 4\]"),
                                            (np.zeros((4, 4), dtype=np.uint8), r"\[4, 4\]"),
                                            (np.zeros((0, 4, 3), dtype=np.uint8), "empty")])
def test_frames_that_are_not_rgb_bytes_are_refused(tmp_path, frame, problem):
    writer = open_animation(tmp_path / "a.gif", fps=10)
    with pytest.raises(ExportError, match=problem):
        writer.add(frame)
    writer.abort()
    assert list(tmp_path.iterdir()) == []


def test_an_exception_mid_animation_leaves_no_file_and_keeps_the_old_one(tmp_path):
    old = tmp_path / "plot.gif"
    old.write_bytes(b"previous")
    with pytest.raises(KeyError):
        with open_animation(old, fps=10) as writer:
            writer.add(plot_frame(0))
            raise KeyError("the window closed")
    assert old.read_bytes() == b"previous" and leftovers(tmp_path) == []
    with pytest.raises(ExportError, match="already closed"):
        writer.add(plot_frame(1))


def test_no_frames_bad_rates_bad_formats_and_bad_paths_are_refused(tmp_path):
    with pytest.raises(ExportError, match="no frames were added"):
        with open_animation(tmp_path / "empty.gif", fps=10):
            pass
    for fps in (0, -1, float("nan"), float("inf"), "fast"):
        with pytest.raises(ExportError, match="frame rate"):
            open_animation(tmp_path / "a.gif", fps=fps)
    with pytest.raises(ExportError, match="unknown animation format 'avi'"):
        open_animation(tmp_path / "a.avi", fps=10)
    with pytest.raises(ExportError, match="does not exist"):
        open_animation(tmp_path / "missing" / "a.gif", fps=10)
    assert list(tmp_path.iterdir()) == []


# -- MP4 -------------------------------------------------------------------------------------------

def test_mp4_pipes_raw_rgb_frames_to_ffmpeg(tmp_path, fake_ffmpeg):
    assert ffmpeg_path() == str(fake_ffmpeg.folder / "ffmpeg")
    with open_animation(tmp_path / "plot.mp4", fps=24) as writer:
        for index in range(5):
            writer.add(plot_frame(index))
    assert (tmp_path / "plot.mp4").read_text() == str(40 * 30 * 3 * 5)
    (args,) = fake_ffmpeg.calls
    assert args[args.index("-s") + 1] == "40x30" and args[args.index("-r") + 1] == "24"
    assert args[args.index("-i") + 1] == "-" and "-an" in args
    assert args[-3:-1] == ["-f", "mp4"] and Path(args[-1]).parent == tmp_path
    assert leftovers(tmp_path) == []


def test_mp4_pads_odd_sizes_to_even_by_repeating_the_edge(tmp_path, fake_ffmpeg):
    frames = [plot_frame(index, width=5, height=3) for index in range(2)]
    with open_animation(tmp_path / "odd.mp4", fps=29.97) as writer:
        for frame in frames:
            writer.add(frame)
    assert (tmp_path / "odd.mp4").read_text() == str(6 * 4 * 3 * 2)
    (args,) = fake_ffmpeg.calls
    assert args[args.index("-s") + 1] == "6x4" and args[args.index("-r") + 1] == "2997/100"
    received = np.frombuffer(fake_ffmpeg.raw.read_bytes(), dtype=np.uint8).reshape(2, 4, 6, 3)
    for sent, got in zip(frames, received):
        np.testing.assert_array_equal(got[:3, :5], sent)
        np.testing.assert_array_equal(got[3, :5], sent[2])
        np.testing.assert_array_equal(got[:3, 5], sent[:, 4])


def test_an_exception_mid_mp4_stops_ffmpeg_and_leaves_no_file(tmp_path, fake_ffmpeg):
    with pytest.raises(KeyError):
        with open_animation(tmp_path / "plot.mp4", fps=10) as writer:
            writer.add(plot_frame(0))
            raise KeyError("the window closed")
    assert writer._process.poll() is not None
    assert not (tmp_path / "plot.mp4").exists() and leftovers(tmp_path) == []


@pytest.mark.parametrize("size", [(8, 6), (200, 200)])   # small frames fail at close, big ones mid-write
def test_an_ffmpeg_error_is_raised_with_its_last_lines_and_no_file(tmp_path, fake_ffmpeg, monkeypatch, size):
    monkeypatch.setenv("FAKE_FFMPEG_FAIL", "1")
    with pytest.raises(ExportError) as caught:
        with open_animation(tmp_path / "bad.mp4", fps=10) as writer:
            for index in range(20):
                writer.add(plot_frame(index % 4, *size))
    message = str(caught.value)
    assert "ffmpeg failed" in message and "exit code 1" in message
    assert "broken encoder" in message and "Conversion failed!" in message
    assert not (tmp_path / "bad.mp4").exists() and leftovers(tmp_path) == []


def test_without_ffmpeg_mp4_says_so_and_points_at_gif(tmp_path, no_ffmpeg):
    assert ffmpeg_path() is None
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(ExportError, match="MP4 export needs ffmpeg.*GIF, which works without it"):
        open_animation(out / "plot.mp4", fps=10)
    assert list(out.iterdir()) == []
    with open_animation(out / "plot.gif", fps=10) as writer:   # and GIF still works
        writer.add(plot_frame(0))
    assert [p.name for p in out.iterdir()] == ["plot.gif"]


def test_the_export_package_imports_neither_qt_nor_torch_nor_pillow():
    code = ("import sys, gradscope.export\n"
            "heavy = sorted(m for m in sys.modules if m.split('.')[0] in "
            "('PySide6', 'pyqtgraph', 'shiboken6', 'torch', 'PIL'))\n"
            "print(','.join(heavy))\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""
