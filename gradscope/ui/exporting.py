"""Pictures for slides: a panel or the whole window at the step on show as PNG or SVG (a panel
through pyqtgraph's exporters), the replay of a step range as an animated GIF or an MP4
(frames grabbed from the window, encoded by `gradscope.export.media`), and a run's series as
CSV or NPZ (`gradscope.export.series`). The window's File > Export menu and the headless
`gradscope export` both come here.

A panel is drawn as it is on screen, or, given a `size`, on its own at that size
(`gradscope.ui.panel_alone`; the headless export asks for 1280x720). The menu's file dialog
opens in the folder of the last export (QSettings `export/folder`; the Pictures folder, or
home, the first time), and each export names the file it wrote in the status bar."""
from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Callable

import numpy as np
from PySide6.QtCore import QPoint, QRectF, QSize, QStandardPaths
from PySide6.QtGui import QImage, QPainter
from PySide6.QtWidgets import QApplication, QWidget

from gradscope.export import ExportError, open_animation, write_csv, write_npz
from gradscope.export.atomic import commit, discard, reserve_temp
from gradscope.ui.panel_alone import panel_alone
from gradscope.ui.panels.base import drawn_as_vectors
from gradscope.ui.qt_noise import drop_offscreen_noise

IMAGE_FORMATS = ("png", "svg")
ANIMATION_FORMATS = ("gif", "mp4")
SERIES_FORMATS = ("csv", "npz")
FORMATS = IMAGE_FORMATS + ANIMATION_FORMATS + SERIES_FORMATS
MAX_FRAMES = 200
WINDOW = "window"
FOLDER_KEY = "export/folder"


def export_image(window, path: str | Path, fmt: str, panel: str = WINDOW, size: tuple[int, int] | None = None) -> Path:
    """The panel named `panel` (or the whole window) as it is on screen now, or the panel
    alone at `size` (width, height)."""
    path = Path(path)
    if fmt not in IMAGE_FORMATS:
        raise ExportError(f"{fmt!r} is not an image format (png or svg)")
    target = window if panel == WINDOW else _panel(window, panel)
    drop_offscreen_noise()
    with _sized(target, panel, size):
        window.redraw(everything=True)
        QApplication.processEvents()
        _render_image(window, target, path, fmt, panel)
    return path


def _sized(target, panel: str, size: tuple[int, int] | None):
    return panel_alone(target, size) if size is not None and panel != WINDOW else contextlib.nullcontext(target)


def _render_image(window, target, path: Path, fmt: str, panel: str) -> None:
    temporary = reserve_temp(path)
    try:
        if panel == WINDOW:
            ok = (target.grab().save(str(temporary), "PNG") if fmt == "png"
                  else _widget_svg(target, temporary, window.panels.values()))
        else:
            import pyqtgraph.exporters

            scene = target.graphics.scene()
            if fmt == "png" and not target.drawn_in_scene:
                ok = target.grab().save(str(temporary), "PNG")
            elif fmt == "png":
                exporter = pyqtgraph.exporters.ImageExporter(scene)
                exporter.parameters()["width"] = max(int(target.graphics.width()), 16)
                ok = exporter.export(toBytes=True).save(str(temporary), "PNG")
            else:
                # pyqtgraph's SVGExporter cannot parse the paths this Qt writes (pyqtgraph issue
                # #3485: "x,y = c.split(',')" fails); Qt's own SVG generator draws the panel instead
                ok = _widget_svg(target, temporary, [target])
        if not ok or temporary.stat().st_size == 0:
            raise ExportError(f"could not render {panel} as {fmt.upper()} into {path}")
    except BaseException:
        discard(temporary)
        raise
    commit(temporary, path)


def _widget_svg(widget: QWidget, path: Path, panels) -> bool:
    from PySide6.QtSvg import QSvgGenerator

    generator = QSvgGenerator()
    generator.setFileName(str(path))
    generator.setSize(QSize(widget.width(), widget.height()))
    generator.setViewBox(QRectF(0, 0, widget.width(), widget.height()))
    generator.setTitle("gradscope")
    painter = QPainter(generator)
    try:
        with drawn_as_vectors(panels):
            widget.render(painter, QPoint(0, 0))
    finally:
        painter.end()
    return path.exists()


def _panel(window, name: str):
    if name not in window.panels:
        raise ExportError(f"no panel {name!r}; panels: {', '.join(window.panels)} (or {WINDOW})")
    return window.panels[name]


def frame_rgb(widget: QWidget) -> np.ndarray:
    """The widget as it is drawn now, as uint8 [H, W, 3]."""
    image = widget.grab().toImage().convertToFormat(QImage.Format.Format_RGB888)
    width, height, stride = image.width(), image.height(), image.bytesPerLine()
    buffer = np.frombuffer(image.constBits(), dtype=np.uint8, count=stride * height)
    return buffer.reshape(height, stride)[:, :width * 3].reshape(height, width, 3).copy()


def frame_steps(steps: np.ndarray, first: int | None, stop: int | None, frames: int = MAX_FRAMES) -> np.ndarray:
    """Up to `frames` recorded steps spread evenly over [first, stop)."""
    steps = np.asarray(steps)
    chosen = steps[(steps >= (first if first is not None else steps.min(initial=0)))
                   & (steps < (stop if stop is not None else steps.max(initial=0) + 1))]
    if not len(chosen):
        raise ExportError("no recorded steps in the range asked for")
    if len(chosen) > frames:
        chosen = chosen[np.unique(np.linspace(0, len(chosen) - 1, frames).round().astype(int))]
    return chosen


def export_animation(window, path: str | Path, fmt: str, steps: tuple[int | None, int | None] = (None, None),
                     panel: str = WINDOW, fps: float = 10.0, frames: int = MAX_FRAMES,
                     progress: Callable[[int, int], bool] | None = None, size: tuple[int, int] | None = None) -> int:
    """Replay the run on show over a step range into a GIF or MP4 (a panel alone at `size`
    where given); `progress(done, total)` returning False cancels (nothing is written).
    Returns the frame count."""
    replay = window.lab.recorded
    if replay is None:
        raise ExportError("open a session first: an animation replays a recorded run")
    chosen = frame_steps(replay.steps, *steps, frames=frames)
    target = window if panel == WINDOW else _panel(window, panel)
    back_to = replay.cursor
    replay.pause()
    drop_offscreen_noise()
    try:
        with _sized(target, panel, size), open_animation(path, fmt, fps=fps) as writer:
            for done, step in enumerate(chosen):
                if progress is not None and progress(done, len(chosen)) is False:
                    raise _Cancelled()
                replay.seek(int(step))
                window.redraw(everything=True)
                QApplication.processEvents()
                writer.add(frame_rgb(target))
    except _Cancelled:
        return 0
    finally:
        replay.seek(back_to)
    if progress is not None:
        progress(len(chosen), len(chosen))
    return len(chosen)


class _Cancelled(Exception):
    pass


def export_series(run, path: str | Path, fmt: str, steps: tuple[int | None, int | None] | None = None) -> int:
    """A run's recorded series as CSV (rows) or NPZ (arrays); how many were written."""
    if fmt == "csv":
        return write_csv(run, path, steps=steps)
    if fmt == "npz":
        return len(write_npz(run, path, steps=steps))
    raise ExportError(f"{fmt!r} is not a series format (csv or npz)")


# -- the window's File > Export menu --------------------------------------------------------------

def build_export_menu(window, menu) -> None:
    from gradscope.export import ffmpeg_path

    def add(text: str, slot, enabled: bool = True, tip: str = "") -> None:
        action = menu.addAction(text)
        action.triggered.connect(lambda checked=False: _guarded(window, slot))
        action.setEnabled(enabled)
        action.setToolTip(tip)

    add("Window as PNG…", lambda: _image(window, "png", WINDOW))
    add("Window as SVG…", lambda: _image(window, "svg", WINDOW))
    add("Panel as PNG…", lambda: _image(window, "png", None))
    add("Panel as SVG…", lambda: _image(window, "svg", None))
    menu.addSeparator()
    add("Replay as GIF…", lambda: _animation(window, "gif"))
    add("Replay as MP4…", lambda: _animation(window, "mp4"), enabled=ffmpeg_path() is not None,
        tip="" if ffmpeg_path() else "needs an ffmpeg on the PATH; GIF works without it")
    menu.setToolTipsVisible(True)
    menu.addSeparator()
    add("Run's series as CSV…", lambda: _series(window, "csv"))
    add("Run's series as NPZ…", lambda: _series(window, "npz"))


def _guarded(window, slot) -> None:
    from gradscope.session import SessionError

    try:
        slot()
    except (ExportError, SessionError, ValueError, OSError) as error:
        window.files.show_error("Export failed", error)


def export_folder(window) -> Path:
    """Where the export dialog opens: the folder of the last export while it exists, else the
    user's Pictures folder, else home (never the sessions folder: slides are not kept there)."""
    saved = window.settings.value(FOLDER_KEY)
    if isinstance(saved, str) and saved and Path(saved).is_dir():
        return Path(saved)
    pictures = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.PicturesLocation)
    return Path(pictures) if pictures and Path(pictures).is_dir() else Path.home()


def _ask_path(window, fmt: str, name: str) -> str | None:
    from PySide6.QtWidgets import QFileDialog

    start = str(export_folder(window) / f"{name}.{fmt}")
    path, _ = QFileDialog.getSaveFileName(window, f"Export as {fmt.upper()}", start, f"{fmt.upper()} (*.{fmt})")
    if not path:
        return None
    return path if path.lower().endswith(f".{fmt}") else f"{path}.{fmt}"


def _exported(window, path: str, what: str) -> None:
    """Remember the folder for the next export and say what was written where: the file's
    name before its folder, which a narrow status bar may cut."""
    written = Path(path).resolve()
    window.settings.setValue(FOLDER_KEY, str(written.parent))
    window.statusBar().showMessage(f"Exported {what}: {written.name} in {written.parent}", 10_000)


def _image(window, fmt: str, panel: str | None) -> None:
    from PySide6.QtWidgets import QInputDialog

    if panel is None:
        titles = {p.title: name for name, p in window.panels.items()}
        title, ok = QInputDialog.getItem(window, "Export a panel", "Panel:", list(titles), 0, False)
        if not ok:
            return
        panel = titles[title]
    path = _ask_path(window, fmt, f"{panel}-step{max(_shown_step(window), 0)}")
    if path:
        export_image(window, path, fmt, panel)
        _exported(window, path, "the window" if panel == WINDOW else f"the {window.panels[panel].title} panel")


def _shown_step(window) -> int:
    return max(window.lab.cursor, 0)


def _animation(window, fmt: str) -> None:
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QInputDialog, QProgressDialog

    from gradscope.export import parse_steps

    if window.lab.recorded is None:
        raise ExportError("an animation replays a recorded run: open a session first (File > Open)")
    text, ok = QInputDialog.getText(window, "Replay as an animation",
                                    f"Steps A:B to replay (empty for the whole run; at most {MAX_FRAMES} frames):")
    if not ok:
        return
    steps = parse_steps(text.strip() or ":")
    path = _ask_path(window, fmt, f"run{window.lab.recorded.run_ids[0]}-replay")
    if not path:
        return
    dialog = QProgressDialog("Rendering frames…", "Cancel", 0, 100, window)
    dialog.setWindowModality(Qt.WindowModality.WindowModal)
    dialog.setMinimumDuration(0)

    def progress(done: int, total: int) -> bool:
        dialog.setMaximum(total)
        dialog.setValue(done)
        return not dialog.wasCanceled()

    frames = export_animation(window, path, fmt, steps, progress=progress)
    dialog.close()
    if frames:
        _exported(window, path, f"{frames} frames")
    else:
        window.statusBar().showMessage("Export cancelled: nothing was written", 8000)


def _series(window, fmt: str) -> None:
    from gradscope.session import open_session

    recorded = window.lab.recorded
    if recorded is not None:
        run_id, source = recorded.run_ids[0], recorded.path
    else:
        run_id, source = None, window.lab.session_path
        if source is None or not Path(source).exists():
            raise ExportError("nothing recorded yet: press Run first, or open a session")
    with open_session(source) as session:
        run = session.run(run_id) if run_id is not None else session.runs[-1]
        path = _ask_path(window, fmt, f"run{run.id}-series")
        if path:
            count = export_series(run, path, fmt)
            _exported(window, path, f"{count:,} {'rows' if fmt == 'csv' else 'arrays'} of run {run.id}")
