"""Qt test rules (napari's): a test that leaves a training process running fails."""
from __future__ import annotations

import multiprocessing
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import QSettings  # noqa: E402
from PySide6.QtWidgets import QFileDialog  # noqa: E402

from gradscope.config import RunConfig  # noqa: E402
from gradscope.ui.app import create_application  # noqa: E402
from gradscope.ui.main_window import MainWindow  # noqa: E402


@pytest.fixture(autouse=True)
def _no_training_process_left_behind():
    yield
    children = [child for child in multiprocessing.active_children() if child.name == "gradscope-trainer"]
    for child in children:
        child.kill()
    assert not children, f"{len(children)} training process(es) still alive after the test"


def _window(qtbot, tmp_path, settings_name: str, size: tuple[int, int], **options) -> MainWindow:
    settings = QSettings(str(tmp_path / settings_name), QSettings.Format.IniFormat)
    window = MainWindow(sessions_dir=tmp_path / "sessions", settings=settings, **options)
    qtbot.addWidget(window)
    window.resize(*size)
    window.show()
    return window


def _close(windows: list[MainWindow], training: bool = True) -> None:
    """Close each window, its training process ended with it; Qt deletes the windows after,
    as every widget given to `qtbot.addWidget` (tests/conftest.py, `_widgets_deleted_whole`)."""
    for window in windows:
        window.close()
        if training:
            assert not window.lab.live.process.alive
    windows.clear()


@pytest.fixture
def make_window(qtbot, tmp_path):
    create_application()
    windows = []

    def make(config: RunConfig) -> MainWindow:
        windows.append(_window(qtbot, tmp_path, f"settings{len(windows)}.ini", (1400, 900), config=config))
        return windows[-1]

    yield make
    _close(windows)


@pytest.fixture
def windows_sharing_settings(qtbot, tmp_path):
    """Replay-only windows at 1280x720 that share one settings file, as launches one after
    another do: `make(config=None)`; the settings are read again by each new window."""
    create_application()
    windows = []

    def make(config: RunConfig | None = None) -> MainWindow:
        windows.append(_window(qtbot, tmp_path, "shared.ini", (1280, 720), config=config, training=False))
        return windows[-1]

    yield make
    _close(windows, training=False)


@pytest.fixture
def replay_only_window(qtbot, tmp_path):
    """A window that replays only, as `gradscope export` makes one: it starts no training
    process, so hundreds of opens are cheap."""
    create_application()
    window = _window(qtbot, tmp_path, "settings.ini", (1200, 800), training=False)
    qtbot.waitExposed(window)
    yield window
    _close([window], training=False)


@pytest.fixture
def open_from_menu(monkeypatch):
    """File > Open… as a user goes through it: the file dialog answers `path` and the window's
    Open action is triggered, not the method behind it. True when `path` is on show."""
    def open_(window: MainWindow, path) -> bool:
        with monkeypatch.context() as patch:
            patch.setattr(QFileDialog, "getOpenFileName", staticmethod(lambda *args, **kwargs: (str(path), "")))
            window.open_action.trigger()
        recorded = window.lab.recorded
        return recorded is not None and Path(recorded.path).resolve() == Path(path).resolve()

    return open_


@pytest.fixture(scope="module")
def lenet_session(tmp_path_factory) -> Path:
    """A LeNet on the digits, 21 steps probed every 10, recorded by the command line."""
    path = tmp_path_factory.mktemp("lenet") / "lenet.gscope"
    subprocess.run([sys.executable, "-m", "gradscope", "record", "--arch", "lenet", "--task", "digits", "--steps", "21",
                    "--probe-every", "10", "-o", str(path)], check=True, capture_output=True, timeout=300)
    return path
