"""The live lab's window: controls on the left, six dockable panels, Run / Pause / Step / Reset
with shortcuts, a status bar, and a banner when a run diverges.

The window owns the training worker (a QThread that owns the training process) from start to
close. Records come through the buffer and the bridge's timer; after a tick that brought
anything the window draws one frame, never one per record, and a frame redraws only the
visible panels that fit its time budget (see `redraw`).
"""
from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from PySide6.QtCore import QSettings, Qt, Slot
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDockWidget, QLabel, QMainWindow, QMessageBox, QToolBar, QWidget

from gradscope.config import ConfigError, RunConfig
from gradscope.records import RunState
from gradscope.session.files import new_session_path
from gradscope.ui import theme
from gradscope.ui.bridge import RecordBridge
from gradscope.ui.buffer import RecordBuffer
from gradscope.ui.controls import LIVE_SETTINGS, ControlPanel
from gradscope.ui.documents import SessionDocuments
from gradscope.ui.frames import FramePacer
from gradscope.ui.history import Lab
from gradscope.ui.panels import PANEL_CLASSES
from gradscope.ui.worker import TrainingWorker, WorkerThread

DEFAULT_CONFIG = RunConfig(arch="rnn", task="adding", hidden=32, seq_len=50, init="orthogonal", rho=1.0,
                           steps=100_000, checkpoint_every=500)
FINAL_STATES = {state.value for state in RunState if state.is_final}


class MainWindow(SessionDocuments, QMainWindow):
    def __init__(self, sessions_dir: str | os.PathLike = "sessions", config: RunConfig | None = None,
                 settings: QSettings | None = None, training: bool = True):
        super().__init__()
        self.setWindowTitle("gradscope: the live lab")
        self.settings = settings if settings is not None else QSettings("gradscope", "gradscope")
        self.sessions_dir = Path(sessions_dir)
        self.sessions_dir.mkdir(parents=True, exist_ok=True)
        self.session_path = new_session_path(self.sessions_dir)
        self.lab = Lab()
        self.state = "idle"            # idle, starting, running, paused, or a final state
        self.error_dialog: QMessageBox | None = None
        self.errors: list[str] = []
        self.device = ""
        self._closed = False

        self.controls = ControlPanel(config or self._saved_config())
        self.controls.config_changed.connect(self._on_config_changed)
        self.controls.setting_refused.connect(self._on_setting_refused)
        dock = QDockWidget("Settings", self)
        dock.setObjectName("dock-settings")
        dock.setWidget(self.controls)
        dock.setMinimumWidth(300)
        dock.setMaximumWidth(380)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, dock)

        self.panels = {cls.name: cls() for cls in PANEL_CLASSES}
        self.panel_docks: dict[str, QDockWidget] = {}
        self._place_panels()
        self.panels["grad_norm"].threshold_dragged.connect(self._on_threshold_dragged)
        self._show_threshold()

        self._build_actions()
        self._build_banner()
        self._build_status()

        self.buffer = RecordBuffer()
        self.bridge = RecordBridge(self.buffer, self)
        self.bridge.run_started.connect(self._on_run_started)
        self.bridge.blocks_arrived.connect(self._on_blocks)
        self.bridge.events_arrived.connect(self._on_events)
        self.bridge.state_changed.connect(self._on_state_changed)
        self.bridge.drained.connect(self.redraw)
        self.pacer = FramePacer(self.redraw, self)
        self._build_replay()
        self.worker = TrainingWorker(self.buffer, str(self.session_path))
        self.thread = WorkerThread(self)
        self.thread.setObjectName("gradscope-worker")
        self.worker.moveToThread(self.thread)
        self.thread.started.connect(self.worker.serve)
        self.worker.ready.connect(self._on_worker_ready)
        self.worker.run_failed.connect(self._on_run_failed)
        self.worker.run_ended.connect(self._on_run_ended)
        self.worker.setting_refused.connect(self._on_setting_refused)
        # the training process starts now, so Run acts at once when the lecturer presses it
        if training:      # off for a window that only replays (`gradscope export`)
            self.thread.start()
        self.bridge.start()
        geometry = self.settings.value("window/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        state = self.settings.value("window/state")
        if state is not None:
            self.restoreState(state)
        self._update_actions()

    # -- building ----------------------------------------------------------------------------

    def _place_panels(self) -> None:
        area = Qt.DockWidgetArea.RightDockWidgetArea
        docks = {}
        for name, panel in self.panels.items():
            dock = QDockWidget(panel.title, self)
            dock.setObjectName(f"dock-{name}")
            dock.setWidget(panel)
            dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                             | QDockWidget.DockWidgetFeature.DockWidgetFloatable
                             | QDockWidget.DockWidgetFeature.DockWidgetClosable)
            docks[name] = dock
        self.panel_docks = docks
        # two columns of three: the error signal big at the top left
        self.addDockWidget(area, docks["timesteps"])
        self.splitDockWidget(docks["timesteps"], docks["grad_norm"], Qt.Orientation.Horizontal)
        self.splitDockWidget(docks["timesteps"], docks["step_jacobians"], Qt.Orientation.Vertical)
        self.splitDockWidget(docks["step_jacobians"], docks["gates"], Qt.Orientation.Vertical)
        self.splitDockWidget(docks["grad_norm"], docks["loss"], Qt.Orientation.Vertical)
        self.splitDockWidget(docks["loss"], docks["task"], Qt.Orientation.Vertical)
        placeholder = QWidget()
        placeholder.setMaximumSize(0, 0)
        self.setCentralWidget(placeholder)

    def _build_actions(self) -> None:
        toolbar = QToolBar("Run")
        toolbar.setObjectName("toolbar-run")
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        toolbar.setStyleSheet(f"QToolButton {{ font-size: {theme.FONT_POINTS + 2}pt; padding: 4px 12px; }}")
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, toolbar)
        self.toolbar = toolbar

        def action(text: str, shortcut, tip: str, slot) -> QAction:
            act = QAction(text, self)
            act.setShortcut(QKeySequence(shortcut))
            act.setToolTip(f"{tip} ({QKeySequence(shortcut).toString()})")
            act.triggered.connect(slot)
            toolbar.addAction(act)
            return act

        self.run_action = action("Run", Qt.Key.Key_Space, "Train, or go on training (Space toggles run and pause)",
                                 self.toggle_run)
        self.step_action = action("Step", "S", "One training step, then pause", self.step)
        self.reset_action = action("Reset", "Ctrl+R", "A fresh run with the current settings, paused at step 0",
                                   self.reset)
        toolbar.addSeparator()
        self.save_action = action("Save As…", QKeySequence.StandardKey.SaveAs, "Copy this session file elsewhere",
                                  self.save_as)
        self.save_action.setShortcut(QKeySequence("Ctrl+Shift+S"))
        self._build_file_menu(self.menuBar().addMenu("&File"))
        run_menu = self.menuBar().addMenu("&Run")
        for act in (self.run_action, self.step_action, self.reset_action):
            run_menu.addAction(act)
        view = self.menuBar().addMenu("&View")
        for dock in self.panel_docks.values():
            view.addAction(dock.toggleViewAction())

    def _build_banner(self) -> None:
        self.addToolBarBreak()
        bar = QToolBar("Alerts")
        bar.setObjectName("toolbar-banner")
        bar.setMovable(False)
        self.banner = QLabel()
        self.banner.setWordWrap(True)
        self.banner.setStyleSheet(f"background: {theme.COLORS['red']}; color: white; font-size: "
                                  f"{theme.FONT_POINTS + 3}pt; font-weight: bold; padding: 8px;")
        bar.addWidget(self.banner)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, bar)
        self.banner_bar = bar
        bar.hide()

    def _build_status(self) -> None:
        status = self.statusBar()
        status.setStyleSheet(f"font-size: {theme.FONT_POINTS}pt;")
        self.status_labels = {name: QLabel() for name in ("state", "step", "speed", "probes", "device", "session")}
        for name, label in self.status_labels.items():
            label.setContentsMargins(8, 0, 8, 0)
            status.addPermanentWidget(label, 1 if name == "session" else 0)
        self.status_labels["session"].setText(f"recording to {self.session_path}")
        self._update_status()

    def _saved_config(self) -> RunConfig:
        saved = self.settings.value("run/config")
        if isinstance(saved, str):
            try:
                return RunConfig.from_json(saved)
            except (ConfigError, ValueError, TypeError):
                pass          # settings from an older version or edited by hand: start fresh
        return DEFAULT_CONFIG

    # -- the run ------------------------------------------------------------------------------

    @property
    def config(self) -> RunConfig:
        return self.controls.config

    @property
    def live(self) -> bool:
        """A run exists that can go on (it may be paused, or still starting)."""
        return self.state in ("starting", "running", "paused")

    @Slot()
    def toggle_run(self) -> None:
        if self.mode == "replay":
            self.replay.toggle_play()
        elif self.state == "running":
            self.worker.pause()
        elif self.state in ("paused", "starting") and self.live:
            self.worker.resume()
        else:
            self.start_run(autorun=True)

    @Slot()
    def step(self) -> None:
        if self.mode == "replay":
            self.replay.step_by(1)
            return
        if not self.live:
            self.start_run(autorun=False)
        elif self.state == "running":
            self.worker.pause()
        self.worker.step()

    @Slot()
    def reset(self) -> None:
        if self.mode == "replay":
            self.new_live_session()
        self.start_run(autorun=False)

    def start_run(self, autorun: bool) -> None:
        if str(self.session_path) != self.worker.session_path:   # after a replay: record into its file
            self.worker.set_session(str(self.session_path))
            self.worker.session_path = str(self.session_path)
        self.worker.start_run(self.config, autorun=autorun)
        self.banner_bar.hide()
        self.state = "starting"
        self._update_actions()

    @Slot(object, str)
    def _on_config_changed(self, config: RunConfig, name: str) -> None:
        self.settings.setValue("run/config", config.to_json())
        if self.mode == "replay":
            # nothing trains: the threshold asks what-if, and Fork from here takes the rest
            self._show_what_if()
            return
        if name in LIVE_SETTINGS:
            self._show_threshold()
            if self.live:
                if name == "lr":
                    self.worker.set_learning_rate(config.lr)
                else:
                    self.worker.set_clipping(config.clip_mode, config.clip_threshold)
            return
        if self.live:
            # a shape or task change: a new run in the same session, training if this one was
            self.start_run(autorun=self.state in ("running", "starting"))

    @Slot(float)
    def _on_threshold_dragged(self, value: float) -> None:
        rounded = float(f"{value:.3g}")
        if not self.controls.set_value("clip_threshold", rounded):
            self._show_threshold()

    def _show_threshold(self) -> None:
        self.panels["grad_norm"].set_threshold(self.config.clip_threshold, self.config.clip_mode)

    @Slot(str)
    def _on_setting_refused(self, message: str) -> None:
        self.statusBar().showMessage(f"Refused: {message}", 8000)
        if message.startswith("cannot fork") and self.state == "starting":
            self.state = "idle"
            self._update_actions()
            self._file_error("Cannot fork", message)

    # -- what the bridge brings ------------------------------------------------------------------

    @Slot(dict)
    def _on_run_started(self, info: dict) -> None:
        if info.get("reset"):            # a replay's seek rebuilds the lab from scratch
            self.lab = Lab()
        self.lab.start_run(info)
        self.device = info.get("device", "")
        if info.get("device_note"):
            self.statusBar().showMessage(info["device_note"], 10000)
        self.banner_bar.hide()

    @Slot(list)
    def _on_blocks(self, blocks: list) -> None:
        if self.lab.current is not None:
            for block in blocks:
                self.lab.current.add_block(block)

    @Slot(list)
    def _on_events(self, events: list) -> None:
        run = self.lab.current
        if run is None:
            return
        run.add_events(events)
        if run.diverged is not None and any(event.kind == "diverged" for event in events):
            self._show_divergence(run.diverged)

    @Slot(str)
    def _on_state_changed(self, state: str) -> None:
        self.state = state
        if self.lab.current is not None:
            self.lab.current.set_state(state)
        self._update_actions()

    def _show_divergence(self, event) -> None:
        detail = event.detail
        what = detail.get("non_finite", "the loss")
        hint = ("turn on clipping (clipping: norm) or lower the learning rate" if self.config.clip_mode == "none"
                else "lower the clip threshold or the learning rate")
        self.banner.setText(f"Diverged at step {event.step}: {what} became NaN or infinite "
                            f"(loss {detail.get('loss')}, gradient norm {detail.get('grad_norm')}). "
                            f"Hint: {hint}, then press Run for a new run.")
        self.banner_bar.show()

    @Slot(dict)
    def _on_worker_ready(self, info: dict) -> None:
        self.statusBar().showMessage("training process ready", 3000)

    @Slot(int, str)
    def _on_run_ended(self, run: int, state: str) -> None:
        # the worker's signal can overtake the bridge: a run that ended after the next one
        # started (a new architecture stops the old run) must not end the new one's state
        current = self.lab.current
        if current is None or current.info.get("replay") or current.index != run:
            return
        if state in FINAL_STATES and self.state not in ("starting",):
            self.state = state
            self._update_actions()

    @Slot(str)
    def _on_run_failed(self, text: str) -> None:
        self.errors.append(text)
        if self.state not in FINAL_STATES:
            self.state = "failed"
        self._update_actions()
        if self._closed:
            return
        summary = text.strip().splitlines()[-1] if text.strip() else "unknown error"
        dialog = QMessageBox(QMessageBox.Icon.Critical, "Training failed",
                             f"The run stopped with an error:\n\n{summary}\n\nThe window keeps working; "
                             f"change a setting and press Run for a new run.", QMessageBox.StandardButton.Ok, self)
        dialog.setDetailedText(text)
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.open()
        self.error_dialog = dialog

    # -- drawing -----------------------------------------------------------------------------------

    @Slot()
    def redraw(self, everything: bool = False) -> None:
        """One frame: the visible panels that fit the frame's budget (`gradscope.ui.frames`),
        or all of them with `everything`."""
        visible = [panel for name, panel in self.panels.items() if self.panel_docks[name].isVisible()]
        self.pacer.draw(self.lab, visible, everything)
        self._update_status()

    def _update_actions(self) -> None:
        if self.mode == "replay":
            self.run_action.setText("Pause" if self.replay.playing else "Play")
        else:
            self.run_action.setText("Pause" if self.state == "running" else "Run")
        self._update_status()

    def _update_status(self) -> None:
        run = self.lab.current
        labels = self.status_labels
        labels["state"].setText("replay" if self.mode == "replay" else self.state)
        labels["step"].setText(f"step {run.last_step + 1}" if run is not None else "step 0")
        labels["speed"].setText(f"{run.steps_per_second:.0f} steps/s" if run is not None else "")
        labels["probes"].setText(f"{run.probes_per_second:.1f} probes/s" if run is not None else "")
        labels["device"].setText(self.device or "")

    # -- files and closing -------------------------------------------------------------------------

    def closeEvent(self, event) -> None:
        if not self._closed:
            self._closed = True
            self.settings.setValue("window/geometry", self.saveGeometry())
            self.settings.setValue("window/state", self.saveState())
            self.settings.setValue("run/config", self.config.to_json())
            self.bridge.timer.stop()
            self.pacer.stop()
            self.replay.close()
            self.thread.shutdown(self.worker, 2000)
            self.bridge.stop()
        super().closeEvent(event)
