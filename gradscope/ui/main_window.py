"""The live lab's window: a view of the lab model (`gradscope.lab.LabModel`).

Settings on the left; the stage (`gradscope.ui.stage`), the panels of the layout on show side
by side with the others in tabs; the replay's timeline at the bottom; Run / Pause / Step /
Reset with shortcuts; presentation mode (`gradscope.ui.presentation`); a status bar; and a
banner when a run diverges. Every control
acts through the lab's commands and every view follows the lab's events (handlers named
`_on_<event>`): the window holds no state of its own about runs, sources or settings.

A timer pumps the lab about 30 times a second; after a pump that brought anything the window
draws one frame, never one per record, and a frame redraws only the visible panels that fit
its time budget (`gradscope.ui.frames`).
"""
from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QSettings, Qt, QTimer, Slot
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QDockWidget, QLabel, QMainWindow, QMessageBox

from gradscope.config import ConfigError, RunConfig
from gradscope.lab import DEFAULT_CONFIG, LabModel
from gradscope.lab.layouts import LAYOUT_NAMES, layout_named
from gradscope.ui import theme
from gradscope.ui.actions import build_actions, name_layout_actions
from gradscope.ui.banner import Banner, divergence_text
from gradscope.ui.controls import ControlPanel
from gradscope.ui.documents import SessionFiles
from gradscope.ui.frames import FRAME_INTERVAL_MS, FramePacer
from gradscope.ui.panels import PANEL_CLASSES
from gradscope.ui.plain_errors import plain_words
from gradscope.ui.presentation import Presentation
from gradscope.ui.stage import Stage


class MainWindow(QMainWindow):
    def __init__(self, sessions_dir: str | os.PathLike = "sessions", config: RunConfig | None = None,
                 settings: QSettings | None = None, training: bool = True, lab: LabModel | None = None):
        super().__init__()
        self.setWindowTitle("gradscope: the live lab")
        self.settings = settings if settings is not None else QSettings("gradscope", "gradscope")
        # the training process starts with the lab, so Run acts at once when the lecturer presses it
        self.lab = lab if lab is not None else LabModel(sessions_dir, config or self._saved_config(), training)
        self.sessions_dir = self.lab.sessions_dir
        self.error_dialog: QMessageBox | None = None
        self.errors: list[str] = []       # every problem a dialog named, newest last
        self.notices: list[str] = []      # every warning about a file that opened anyway
        self._closed = False

        self.controls = ControlPanel(self.lab)
        dock = QDockWidget("Settings", self)
        dock.setObjectName("dock-settings")
        dock.setWidget(self.controls)
        dock.setMinimumWidth(300)
        dock.setMaximumWidth(380)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, dock)
        self.settings_dock = dock

        self.panels = {cls.name: cls() for cls in PANEL_CLASSES}
        self.stage = Stage(self.panels)
        self.setCentralWidget(self.stage)
        self.stage.shown_changed.connect(self._on_stage_shown_changed)
        self.panels["grad_norm"].threshold_dragged.connect(self._on_threshold_dragged)
        self.panels["images"].probe_image_picked.connect(self._on_probe_image_picked)

        self.files = SessionFiles(self, self.lab)
        self.presentation = Presentation(self)
        build_actions(self)
        self.addToolBarBreak()
        self.banner_bar = Banner(self)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, self.banner_bar)
        self._build_status()
        self.pacer = FramePacer(self.redraw, self)
        self.pump_timer = QTimer(self)
        self.pump_timer.setInterval(FRAME_INTERVAL_MS)
        self.pump_timer.timeout.connect(self._on_pump)

        events = self.lab.events
        events.config_changed.connect(self._on_config_changed)
        events.state_changed.connect(self._on_state_changed)
        events.source_changed.connect(self._on_source_changed)
        events.slots_changed.connect(self._on_slots_changed)
        events.cursor_moved.connect(self._on_cursor_moved)
        events.histories_changed.connect(self._on_histories_changed)
        events.diverged.connect(self._on_diverged)
        events.run_failed.connect(self._on_run_failed)
        events.refused.connect(self._on_refused)
        events.file_problem.connect(self._on_file_problem)
        events.notice.connect(self._on_notice)
        events.session_changed.connect(self._on_session_changed)
        events.layout_changed.connect(self._on_layout_changed)
        events.pace_changed.connect(self._on_pace_changed)

        geometry = self.settings.value("window/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        state = self.settings.value("window/state")
        if state is not None:
            self.restoreState(state)
        self.fit_to_screen()
        saved_layout = self.settings.value("window/layout")
        if saved_layout in LAYOUT_NAMES:
            self.lab.set_layout(saved_layout)
        self.lab.match_layout()         # a layout kept from a CNN's session, settings now an RNN's
        self._on_layout_changed(self.lab.layout)
        self._show_threshold()
        self._on_state_changed(self.lab.state)
        self.pump_timer.start()

    # -- building ----------------------------------------------------------------------------

    def fit_to_screen(self) -> None:
        """Never larger than the screen's available geometry (a projector's 1280x720 is the
        commonest): a saved size from a bigger screen shrinks to fit, and moves onto it."""
        screen = self.screen() or QGuiApplication.primaryScreen()
        if screen is None:
            return
        room = screen.availableGeometry()
        frame = self.frameGeometry()
        extra_w, extra_h = frame.width() - self.width(), frame.height() - self.height()
        if self.settings.value("window/geometry") is None:
            width, height = min(1600, room.width()), min(1000, room.height())
        else:
            width, height = self.width(), self.height()
        width, height = min(width, room.width() - extra_w), min(height, room.height() - extra_h)
        self.resize(width, height)
        x = min(max(self.x(), room.left()), room.right() - width - extra_w + 1)
        y = min(max(self.y(), room.top()), room.bottom() - height - extra_h + 1)
        self.move(x, y)

    def _build_status(self) -> None:
        status = self.statusBar()
        status.setStyleSheet(f"font-size: {theme.FONT_POINTS}pt;")
        self.status_labels = {name: QLabel() for name in ("state", "step", "speed", "probes", "device", "session")}
        for name, label in self.status_labels.items():
            label.setContentsMargins(8, 0, 8, 0)
            # the session's path is an ordinary widget: a stretching permanent one would leave the
            # status messages (export confirmations, refusals, notices) no room
            status.addWidget(label, 1) if name == "session" else status.addPermanentWidget(label)
        self._on_session_changed(str(self.lab.session_path or ""))
        self._update_status()

    def _saved_config(self) -> RunConfig:
        saved = self.settings.value("run/config")
        if isinstance(saved, str):
            try:
                return RunConfig.from_json(saved)
            except (ConfigError, ValueError, TypeError):
                pass          # settings from an older version or edited by hand: start fresh
        return DEFAULT_CONFIG

    @property
    def config(self) -> RunConfig:
        return self.lab.config

    def open_file(self, path=None) -> bool:
        """Replay a session file (File > Open); a dialog says why one cannot be read."""
        return self.files.open_file(path)

    def dragEnterEvent(self, event) -> None:
        self.files.drag_entered(event)

    def dropEvent(self, event) -> None:
        self.files.dropped(event)

    # -- the user's commands (the actions call these) ------------------------------------------

    @Slot()
    def toggle_run(self) -> None:
        self.lab.toggle_run()

    @Slot()
    def step(self) -> None:
        self.lab.step()

    @Slot()
    def reset(self) -> None:
        self.banner_bar.hide()
        self.lab.reset()

    def nudge_threshold(self, decades: float) -> None:
        """The clip threshold up or down by `decades` (a tenth of a decade a key press)."""
        value = float(f"{self.lab.config.clip_threshold * 10 ** decades:.3g}")
        if not self.lab.set_setting("clip_threshold", value):
            self._show_threshold()

    @Slot(float)
    def _on_threshold_dragged(self, value: float) -> None:
        rounded = float(f"{value:.3g}")
        if not self.lab.set_setting("clip_threshold", rounded):
            self._show_threshold()

    @Slot(int)
    def _on_probe_image_picked(self, index: int) -> None:
        """A click on the test strip: that image is the probe image from the next probe on."""
        self.lab.set_setting("probe_image", index)

    def _show_threshold(self) -> None:
        if self.lab.recorded is not None:
            self.panels["grad_norm"].set_threshold(self.lab.config.clip_threshold, "norm")
            slots = self.lab.slots
            self.panels["grad_norm"].show_what_if(self.lab.what_if(), slots[0].name if len(slots) > 1 else "")
        else:
            self.panels["grad_norm"].show_what_if(None)
            self.panels["grad_norm"].set_threshold(self.lab.config.clip_threshold, self.lab.config.clip_mode)

    # -- the lab's events ------------------------------------------------------------------------

    def _keep_live_config(self) -> None:
        """Keep the settings the next launch starts from: the live lab's, never a replay's (a
        tour of the example sessions must not leave their settings to the first live run)."""
        if self.lab.recorded is None:
            self.settings.setValue("run/config", self.lab.config.to_json())

    def _on_config_changed(self, config: RunConfig, name: str) -> None:
        self._keep_live_config()
        self._show_threshold()
        self.redraw()                   # the panels that show the configuration (the layer table)

    def _on_state_changed(self, state: str) -> None:
        running = state in ("running", "playing")
        self.run_action.setText("Pause" if running else ("Play" if self.lab.recorded is not None else "Run"))
        if self.toolbar.sizeHint() != self.toolbar.size():
            # the toolbar is the menu bar's corner widget, which the menu bar sizes only when it
            # is set: "Play" is 3 px wider than "Run", and Save As went behind the overflow arrow
            self.menuBar().setCornerWidget(self.toolbar, Qt.Corner.TopRightCorner)
        if state == "starting":
            self.banner_bar.hide()
        self._update_status()

    def _on_source_changed(self, kind: str) -> None:
        recorded = kind == "recorded"
        self.timeline_bar.setVisible(recorded)
        self.banner_bar.hide()
        if not recorded:
            self.setWindowTitle("gradscope: the live lab")
        self._show_threshold()
        self._on_state_changed(self.lab.state)
        self.redraw(everything=True)

    def _on_slots_changed(self) -> None:
        if self.lab.recorded is not None:
            self._show_threshold()            # the what-if names the run it is of when runs are compared
        if any(slot.history.diverged is not None for slot in self.lab.slots):
            return
        self.banner_bar.hide()

    def _on_cursor_moved(self, step: int) -> None:
        if self.lab.recorded is not None:
            self._show_threshold()
        self._update_status()

    def _on_histories_changed(self) -> None:
        self.redraw()

    def _on_diverged(self, slot, event) -> None:
        self.banner_bar.show_text(divergence_text(slot, event, replay=self.lab.recorded is not None))

    def _on_layout_changed(self, name: str) -> None:
        self.settings.setValue("window/layout", name)
        layout = layout_named(name)
        self.stage.show_layout(layout)
        name_layout_actions(self, layout.kind)

    def _on_pace_changed(self, seconds: float) -> None:
        for action in self.pace_actions:
            action.setChecked(action.data() == seconds)
        self.statusBar().showMessage("Full speed" if seconds == 0 else
                                     f"Slow motion: {seconds:g} s between steps (Space runs and pauses)", 6000)

    def keyPressEvent(self, event) -> None:
        # Escape reaches here only when no editor took it: it dismisses the banner, else it
        # leaves presentation mode
        if event.key() == Qt.Key.Key_Escape:
            if self.banner_bar.isVisible():
                self.banner_bar.hide()
                return
            if self.presentation.active:
                self.presentation.leave()
                return
        super().keyPressEvent(event)

    def _on_stage_shown_changed(self) -> None:
        self.redraw()

    def _on_run_failed(self, text: str) -> None:
        self.errors.append(text)
        if self._closed:
            return
        summary = plain_words(text).text
        dialog = QMessageBox(QMessageBox.Icon.Critical, "Training failed",
                             f"The run stopped with an error:\n\n{summary}\n\nThe window keeps working; "
                             f"change a setting and press Run for a new run.", QMessageBox.StandardButton.Ok, self)
        dialog.setDetailedText(text)
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.open()
        self.error_dialog = dialog

    def _on_refused(self, text: str) -> None:
        self.statusBar().showMessage(f"Refused: {text}", 8000)
        if text.startswith("cannot fork"):
            self.files.show_error("Cannot fork", text)

    def _on_file_problem(self, text: str) -> None:
        self.files.show_error("Cannot read this part of the session", text)

    def _on_notice(self, text: str) -> None:
        self.statusBar().showMessage(text, 10000)

    def _on_session_changed(self, path: str) -> None:
        verb = "replaying" if self.lab.recorded is not None else "recording to"
        label = self.status_labels["session"]
        # the file's name, its folder in the tooltip: a whole path ran off the projector's 1280 px
        label.setText(f"{verb} {Path(path).name}" if path else "")
        label.setToolTip(f"{verb} {Path(path).resolve()}" if path else "")

    @Slot()
    def _on_pump(self) -> None:
        self.lab.pump()

    # -- drawing -----------------------------------------------------------------------------------

    @Slot()
    def redraw(self, everything: bool = False) -> None:
        """One frame: the visible panels that fit the frame's budget (`gradscope.ui.frames`);
        with `everything`, every panel, those waiting in tabs too (a new source, a new look,
        an export: a tab chosen next then shows at once what is on show)."""
        panels = list(self.panels.values()) if everything else self.stage.visible_panels()
        self.pacer.draw(self.lab, panels, everything)
        self._update_status()

    def _update_status(self) -> None:
        run = self.lab.current
        labels = self.status_labels
        labels["state"].setText(self.lab.state)
        step = self.lab.cursor
        labels["step"].setText(f"step {step}" if step >= 0 else "no step yet")
        labels["speed"].setText(f"{run.steps_per_second:.0f} steps/s" if run is not None else "")
        labels["probes"].setText(f"{run.probes_per_second:.1f} probes/s" if run is not None else "")
        labels["device"].setText(self.lab.slots[0].device if self.lab.slots else "")

    # -- closing -----------------------------------------------------------------------------------

    def closeEvent(self, event) -> None:
        if not self._closed:
            self._closed = True
            self.presentation.leave()     # the desk's geometry and docks are what is kept
            self.settings.setValue("window/geometry", self.saveGeometry())
            self.settings.setValue("window/state", self.saveState())
            self._keep_live_config()
            self.pump_timer.stop()
            self.pacer.stop()
            self.lab.close()         # stops the run, commits and joins the training process
        super().closeEvent(event)
