"""The window's actions: the toolbar, the menus and their shortcuts. Every action calls a
command of the lab model (or of the window's files) with no argument of Qt's: a QAction's
`triggered(bool checked)` must never arrive as a path or a step."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QInputDialog, QToolBar

from gradscope.config import ConfigError
from gradscope.config.comparison import parse_compare
from gradscope.lab.layouts import layout_after, layouts_for
from gradscope.ui import theme
from gradscope.ui.exporting import build_export_menu
from gradscope.ui.timeline import Timeline


def name_layout_actions(window, kind: str) -> None:
    """Keys 1 to 9 and View > Layout for this kind of run's layouts (`lab.layouts`): a CNN's
    runs have theirs, an RNN's theirs."""
    shown = layouts_for(kind)
    for number, act in enumerate(window.layout_actions):
        layout = shown[number] if number < len(shown) else None
        act.setData(None if layout is None else layout.name)
        act.setText("" if layout is None else layout.title)
        act.setToolTip("" if layout is None else layout.story)
        act.setVisible(layout is not None)
        act.setChecked(layout is not None and layout.name == window.lab.layout)


def _choose_layout(window, number: int) -> None:
    name = window.layout_actions[number - 1].data()
    if name:
        window.lab.set_layout(name)


def build_actions(window) -> None:
    """Toolbar, File, Run and View menus, and the timeline bar, on `window` (a MainWindow)."""
    toolbar = QToolBar("Run")
    toolbar.setObjectName("toolbar-run")
    toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
    toolbar.setStyleSheet(f"QToolButton {{ font-size: {theme.FONT_POINTS + 1}pt; padding: 0px 10px; }}")
    # in the menu bar's corner rather than a row of its own: at 1280x720 the row's height is
    # worth more to the plots
    window.menuBar().setCornerWidget(toolbar, Qt.Corner.TopRightCorner)
    window.toolbar = toolbar

    def action(text: str, shortcut, tip: str, slot, on_toolbar: bool = True, shortcuts=()) -> QAction:
        act = QAction(text, window)
        if shortcut is not None:
            act.setShortcuts([QKeySequence(shortcut), *(QKeySequence(key) for key in shortcuts)])
            keys = " or ".join(key.toString(QKeySequence.SequenceFormat.NativeText) for key in act.shortcuts())
            tip = f"{tip} ({keys})"
        act.setToolTip(tip)
        act.setStatusTip(tip)
        act.triggered.connect(lambda checked=False: slot())
        if on_toolbar:
            toolbar.addAction(act)
        # the window's own too: its shortcut then acts with the toolbar and the menus hidden
        # (presentation mode), wherever the focus is but in a field being edited
        window.addAction(act)
        return act

    lab, files = window.lab, window.files
    window.run_action = action("Run", Qt.Key.Key_Space, "Train, or go on training; on a replay, play "
                               "(Space toggles run and pause)", window.toggle_run)
    window.step_action = action("Step", "S", "One training step of every run on show, then pause", window.step)
    window.reset_action = action("Reset", "Ctrl+R", "A fresh run with the current settings, paused at step 0",
                                 window.reset)
    window.compare_action = action("Compare…", "Ctrl+K", "Train two or three runs side by side that differ in "
                                   "one setting, e.g. arch=rnn,lstm,gru or rho=0.5,1.5", lambda: ask_compare(window))
    toolbar.addSeparator()
    window.save_action = action("Save As…", "Ctrl+Shift+S", "Copy this session file elsewhere", files.save_as)

    menu = window.menuBar().addMenu("&File")
    window.open_action = action("Open…", QKeySequence.StandardKey.Open, "Replay a session file", files.open_file,
                                on_toolbar=False)
    menu.addAction(window.open_action)
    window.recent_menu = menu.addMenu("Open Recent")
    window.recent_menu.aboutToShow.connect(files.fill_recent)
    window.new_action = action("New Live Session", QKeySequence.StandardKey.New, "Leave the replay: a fresh "
                               "session file for live runs", lab.new_live_session, on_toolbar=False)
    menu.addAction(window.new_action)
    menu.addAction(window.save_action)
    window.export_menu = menu.addMenu("Export")
    build_export_menu(window, window.export_menu)
    menu.addSeparator()
    menu.addAction(action("Quit", "Ctrl+Q", "Close the window; a run training stops and is saved", window.close,
                          on_toolbar=False))
    run_menu = window.menuBar().addMenu("&Run")
    for act in (window.run_action, window.step_action, window.reset_action, window.compare_action):
        run_menu.addAction(act)
    window.stop_comparing_action = action("Stop Comparing", None, "One run again, with the settings on the left",
                                          lambda: lab.compare(None), on_toolbar=False)
    run_menu.addAction(window.stop_comparing_action)
    window.threshold_up_action = action("Threshold Up", "]", "Raise the clip threshold by a tenth of a decade",
                                        lambda: window.nudge_threshold(0.1), on_toolbar=False,
                                        shortcuts=("Ctrl+Up",))
    window.threshold_down_action = action("Threshold Down", "[", "Lower the clip threshold by a tenth of a decade",
                                          lambda: window.nudge_threshold(-0.1), on_toolbar=False,
                                          shortcuts=("Ctrl+Down",))
    run_menu.addSeparator()
    run_menu.addAction(window.threshold_up_action)
    run_menu.addAction(window.threshold_down_action)
    build_view_menu(window, action)

    window.timeline = Timeline(lab)
    window.timeline.fork_requested.connect(files.fork_from)
    window.timeline.bookmark_requested.connect(files.add_bookmark)
    window.timeline.bookmark_removed.connect(files.remove_bookmark)
    # a toolbar, not a dock: it keeps the height it needs and the panels get the rest
    bar = QToolBar("Timeline", window)
    bar.setObjectName("toolbar-timeline")
    bar.setMovable(False)
    bar.addWidget(window.timeline)
    window.addToolBar(Qt.ToolBarArea.BottomToolBarArea, bar)
    window.timeline_bar = bar
    bar.hide()
    window.setAcceptDrops(True)


def build_view_menu(window, action) -> None:
    """View: the settings, the layouts (keys 1 to 9, PageDown and PageUp: a presenter's remote
    sends those), presentation mode, the controls, slow motion."""
    lab = window.lab
    view = window.menuBar().addMenu("&View")
    settings = window.settings_dock.toggleViewAction()
    settings.setText("Settings")
    settings.setToolTip("Show or hide the settings on the left")
    view.addAction(settings)
    window.settings_action = settings
    layouts = view.addMenu("Layout")
    group = QActionGroup(window)
    window.layout_actions = []
    # keys 1 to 9: the layouts of the kind of run on show (`name_layout_actions`)
    for number in range(1, 10):
        act = action(f"Layout {number}", str(number), "",
                     lambda act_number=number: _choose_layout(window, act_number), on_toolbar=False)
        act.setCheckable(True)
        group.addAction(act)
        layouts.addAction(act)
        window.layout_actions.append(act)
    name_layout_actions(window, "sequence")
    layouts.addSeparator()
    window.next_layout_action = action("Next Layout", Qt.Key.Key_PageDown, "The next layout",
                                       lambda: lab.set_layout(layout_after(lab.layout, 1)), on_toolbar=False)
    window.previous_layout_action = action("Previous Layout", Qt.Key.Key_PageUp, "The layout before",
                                           lambda: lab.set_layout(layout_after(lab.layout, -1)), on_toolbar=False)
    layouts.addAction(window.next_layout_action)
    layouts.addAction(window.previous_layout_action)
    view.addSeparator()
    presentation = window.presentation
    window.presentation_action = action("Presentation", Qt.Key.Key_F11, "Full screen for a projector: big type, "
                                        "thick lines, the controls hidden (H shows them)", presentation.toggle,
                                        on_toolbar=False)
    window.presentation_action.setCheckable(True)
    presentation.changed.connect(window.presentation_action.setChecked)
    view.addAction(window.presentation_action)
    window.controls_action = action("Controls", "H", "Show or hide the settings, the toolbar and the menus",
                                    presentation.toggle_controls, on_toolbar=False)
    window.controls_action.setCheckable(True)
    window.controls_action.setChecked(True)
    view.addAction(window.controls_action)
    slow = view.addMenu("Slow Motion")
    slow_group = QActionGroup(window)
    window.pace_actions = []
    for seconds in PACES:
        text = "Off: full speed" if seconds == 0 else f"{seconds:g} s between steps"
        act = QAction(text, window)
        act.setCheckable(True)
        act.setData(seconds)
        act.setChecked(seconds == lab.pace)
        act.triggered.connect(lambda checked=False, value=seconds: lab.set_pace(value))
        slow_group.addAction(act)
        slow.addAction(act)
        window.pace_actions.append(act)


PACES = (0.0, 0.25, 0.5, 1.0, 2.0)


def ask_compare(window) -> bool:
    """Run > Compare…: KEY=V1,V2[,V3] as on the command line; the runs start at once when a run
    is live, else with the next Run."""
    current = window.lab.comparison
    text = ", ".join(current.keys) if current is not None else ""
    answer, ok = QInputDialog.getText(window, "Compare runs side by side",
                                      "A setting and two or three values, as on the command line\n"
                                      "(arch=rnn,lstm,gru  rho=0.5,1.5  clip-norm=1,10); empty: one run again",
                                      text=text)
    if not ok:
        return False
    texts = [part for part in answer.replace(";", " ").split() if part.strip()]
    if not texts:
        return window.lab.compare(None)
    try:
        comparison = parse_compare(texts)
    except ConfigError as error:
        window.files.show_error("Cannot compare", error.problem)
        return False
    return window.lab.compare(comparison)
