"""`gradscope export FILE --format png|svg|gif|mp4|csv|npz [--run N] [--steps A:B] [--panel NAME] -o PATH`.

CSV and NPZ come straight from the session file (no Qt). Pictures and animations are drawn by
the window's own panels, offscreen when there is no display, in a window that replays only
(it starts no training process): the same pixels File > Export gives, except that one panel
is drawn on its own at 1280x720 (in the 1920x1200 window it shares with five others, its plot
would be a few pixels tall). An image shows the run as it was at the last step of `--steps`
(the end of the run by default).
"""
from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

FORMATS = ("png", "svg", "gif", "mp4", "csv", "npz")
PANELS = ("window", "timesteps", "grad_norm", "step_jacobians", "loss", "gates", "task")
WINDOW_SIZE = (1920, 1200)


def add_export_parser(commands) -> None:
    export = commands.add_parser("export", help="export a session's pictures, animations or series headless")
    export.add_argument("file", help="the session file")
    export.add_argument("--format", required=True, choices=FORMATS, metavar="|".join(FORMATS))
    export.add_argument("--run", type=int, help="the run id (as `gradscope info` lists them; default: the last)")
    export.add_argument("--steps", metavar="A:B", help="the steps A <= step < B (either end may be left out)")
    export.add_argument("--panel", default="window", choices=PANELS, metavar="NAME",
                        help=f"one panel ({', '.join(PANELS[1:])}) or the whole window (default)")
    export.add_argument("--fps", type=float, default=10.0, help="frames per second of a GIF or MP4")
    export.add_argument("--frames", type=int, default=200, help="at most this many frames in a GIF or MP4")
    export.add_argument("-o", "--output", required=True, metavar="PATH", help="the file to write")
    export.add_argument("--force", action="store_true", help="replace the file when it exists")


def checked_output(text: str, fmt: str, force: bool) -> Path:
    """The file `-o` names, its format's ending added: in a folder that exists and can be
    written, not a folder, a device or a pipe, and not an existing file without --force."""
    from gradscope.commands.usage import UsageError

    given = Path(text)
    if text.endswith(("/", os.sep)) or given.is_dir():
        raise UsageError(f"gradscope export: -o {text}: is a folder; name the file to write in it")
    output = given
    if output.suffix.lower() != f".{fmt}":
        if os.path.lexists(given):
            raise UsageError(f"gradscope export: -o {text}: exists and does not end in .{fmt}; "
                             f"name the {fmt.upper()} file to write")
        output = given.with_name(given.name + f".{fmt}")
    folder = output.parent
    if not folder.is_dir():
        raise UsageError(f"gradscope export: -o {text}: the folder {str(folder)!r} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise UsageError(f"gradscope export: -o {text}: the folder {str(folder)!r} cannot be written")
    if os.path.lexists(output):
        if not output.is_file():
            raise UsageError(f"gradscope export: -o {text}: {output} exists and is not a regular file")
        if not force:
            raise UsageError(f"gradscope export: -o {text}: {output} exists; use --force to replace it")
    return output


def export(args) -> int:
    from gradscope.commands.usage import UsageError
    from gradscope.export import ExportError, find_run, parse_steps
    from gradscope.session import open_session

    try:
        steps = parse_steps(args.steps) if args.steps else (None, None)
    except ValueError as error:
        raise UsageError(f"gradscope export: --steps: {error}") from None
    if not 1 <= args.frames <= 10_000 or not 0.1 <= args.fps <= 120:
        raise UsageError("gradscope export: --frames must be 1 to 10,000 and --fps 0.1 to 120")
    output = checked_output(args.output, args.format, args.force)
    try:
        with open_session(args.file) as session:
            run = find_run(session, args.run) if args.run is not None else (session.runs[-1] if session.runs else None)
            if run is None:
                raise UsageError(f"gradscope export: {args.file} holds no runs")
            if args.format in ("csv", "npz"):
                from gradscope.export import write_csv, write_npz

                count = write_csv(run, output, steps) if args.format == "csv" else len(write_npz(run, output, steps))
                print(f"wrote {count:,} {'rows' if args.format == 'csv' else 'arrays'} of run {run.id} to {output}",
                      file=sys.stderr)
                return 0
            run_id = run.id
            # the declarations are checked here, before Qt starts: a file whose series lie
            # about their shapes is one line, not a window opened for nothing
            run.series_names()
        return _draw(args, run_id, steps, output)
    except ExportError as error:
        raise UsageError(f"gradscope export: {error}") from None


def _draw(args, run_id: int, steps: tuple, output: Path) -> int:
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from gradscope.commands.usage import UsageError
    from gradscope.ui.app import create_application
    from gradscope.ui.exporting import export_animation, export_image, frame_steps
    from gradscope.ui.main_window import MainWindow
    from gradscope.ui.panel_alone import PANEL_SIZE
    from gradscope.ui.qt_noise import drop_offscreen_noise

    create_application()
    drop_offscreen_noise()      # before the window shows: the offscreen plugin's size-hint noise
    with tempfile.TemporaryDirectory(prefix="gradscope-export-") as folder:
        settings = QSettings(str(Path(folder) / "settings.ini"), QSettings.Format.IniFormat)
        window = MainWindow(sessions_dir=Path(folder) / "sessions", settings=settings, training=False)
        try:
            window.resize(*WINDOW_SIZE)
            window.show()
            QApplication.processEvents()
            if not window.open_file(args.file):
                raise UsageError(f"gradscope export: {window.errors[-1] if window.errors else 'cannot open the file'}")
            window.lab.show_runs([run_id])
            if args.format in ("png", "svg"):
                shown = frame_steps(window.lab.recorded.steps, *steps, frames=1_000_000_000)
                window.lab.seek(int(shown[-1]))
                export_image(window, output, args.format, args.panel, size=PANEL_SIZE)
                print(f"wrote run {run_id} at step {int(shown[-1])} to {output}", file=sys.stderr)
                return 0
            bar = _progress_bar()
            frames = export_animation(window, output, args.format, steps, args.panel, fps=args.fps,
                                      frames=args.frames, progress=bar, size=PANEL_SIZE)
            print(f"\nwrote {frames} frames of run {run_id} to {output}", file=sys.stderr)
            return 0
        finally:
            window.close()
            window.deleteLater()
            QApplication.processEvents()


def _progress_bar():
    def show(done: int, total: int) -> bool:
        width = 30
        filled = width * done // max(total, 1)
        print(f"\rrendering frames [{'#' * filled}{'.' * (width - filled)}] {done}/{total}",
              end="", file=sys.stderr, flush=True)
        return True

    return show
