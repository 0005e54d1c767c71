"""Exporting what a run recorded: its series as CSV or NPZ, and animations as GIF or MP4.

    with open_session("lesson.gscope") as session:
        run = find_run(session, 1)
        write_csv(run, "run1.csv", steps=parse_steps("100:500"))
        write_npz(run, "run1.npz")

    with open_animation("loss.gif", fps=15) as writer:   # MP4 needs ffmpeg on PATH
        for frame in frames:                              # uint8 [H, W, 3]
            writer.add(frame)

Qt-free (the GUI grabs its frames and hands them over as arrays) and torch-free. Every file is
written beside its target and renamed into place, so a failed export leaves no half file. Every
problem surfaces as `ExportError`, one line naming it.
"""
from __future__ import annotations


class ExportError(Exception):
    """An export that cannot be done: bad path, unknown run, empty range, missing ffmpeg..."""


# the submodules import ExportError from here, so it is defined before they load
from gradscope.export.media import AnimationWriter, ffmpeg_path, open_animation  # noqa: E402
from gradscope.export.series import (  # noqa: E402
    csv_columns, find_run, parse_steps, write_csv, write_npz,
)

__all__ = [
    "AnimationWriter", "ExportError", "csv_columns", "ffmpeg_path", "find_run", "open_animation",
    "parse_steps", "write_csv", "write_npz",
]
