"""The lecture hall's keyboard, through real key presses on the window (a presenter's remote
sends PageDown and PageUp): layouts, presentation mode, the controls, the threshold, slow
motion on a replay, the banner's Escape, and the window's size against the screen."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QGuiApplication

from gradscope.config import RunConfig
from gradscope.lab.layouts import layouts_for, layout_named
from gradscope.ui.main_window import MainWindow

EXAMPLE = Path(__file__).parents[2] / "sessions" / "exploding-rnn-clipped.gscope"


def on_stage(window) -> list[str]:
    return [window.stage.stage.widget(k).name for k in range(window.stage.stage.count())]


def test_number_keys_and_page_keys_switch_layouts_from_anywhere(qtbot, replay_only_window, open_from_menu):
    window = replay_only_window
    assert open_from_menu(window, EXAMPLE)
    recurrent = layouts_for("sequence")                       # an RNN's session: the recurrent layouts
    for number, layout in enumerate(recurrent, start=1):
        qtbot.keyClick(window, str(number))
        assert window.lab.layout == layout.name and on_stage(window) == list(layout.stage)
        assert window.stage.tabText(0) == layout.title
        assert {window.stage.widget(k).name for k in range(1, window.stage.count())} == \
            {name for name, panel in window.panels.items() if "sequence" in panel.kinds} - set(layout.stage)
    window.controls.tree.setFocus()                            # the remote's keys are not swallowed there
    qtbot.keyClick(window.controls.tree, Qt.Key.Key_PageDown)
    assert window.lab.layout == recurrent[0].name              # round from the last to the first
    qtbot.keyClick(window.controls.tree, Qt.Key.Key_PageUp)
    assert window.lab.layout == recurrent[-1].name
    assert window.settings.value("window/layout") == recurrent[-1].name


def test_the_layout_is_kept_for_the_next_window(qtbot, tmp_path):
    settings = QSettings(str(tmp_path / "kept.ini"), QSettings.Format.IniFormat)
    first = MainWindow(sessions_dir=tmp_path, settings=settings, training=False)
    qtbot.addWidget(first)
    first.show()
    next(action for action in first.layout_actions if action.data() == "clipping").trigger()   # View > Layout
    assert first.lab.layout == "clipping"
    first.close()
    second = MainWindow(sessions_dir=tmp_path, settings=settings, training=False)
    qtbot.addWidget(second)
    assert second.lab.layout == "clipping" and on_stage(second) == list(layout_named("clipping").stage)
    second.close()


def test_presentation_mode_through_f11_hides_the_controls_and_scales_the_look(qtbot, replay_only_window, open_from_menu):
    window = replay_only_window
    assert open_from_menu(window, EXAMPLE)
    qtbot.keyClick(window, Qt.Key.Key_F11)
    assert window.presentation.active and window.presentation_action.isChecked()
    assert window.isFullScreen()
    assert not window.settings_dock.isVisible() and not window.menuBar().isVisible()
    timeline = window.timeline                     # one row: play, step and scrub, no event list
    assert timeline.slider.isVisible() and not timeline.events.isVisible() and not timeline.fork.isVisible()
    axis = window.panels["grad_norm"].plot.getAxis("left")
    assert axis.style["tickFont"].pixelSize() >= 16
    assert window.panels["grad_norm"].pre_curve.opts["pen"].widthF() >= 3
    qtbot.keyClick(window, "h")                                # the controls come back for a moment
    assert window.settings_dock.isVisible() and window.menuBar().isVisible() and timeline.events.isVisible()
    qtbot.keyClick(window, "h")
    assert not window.settings_dock.isVisible()
    qtbot.keyClick(window, "2")                                # shortcuts act with the menus hidden
    assert window.lab.layout == "through_time"
    qtbot.keyClick(window, Qt.Key.Key_F11)
    assert not window.presentation.active and not window.isFullScreen()
    assert window.settings_dock.isVisible() and window.menuBar().isVisible()
    assert axis.style["tickFont"].pixelSize() < 16 and window.panels["grad_norm"].pre_curve.opts["pen"].widthF() < 3
    qtbot.keyClick(window, Qt.Key.Key_F11)
    qtbot.keyClick(window, Qt.Key.Key_Escape)                  # Escape leaves it too
    assert not window.presentation.active


def test_threshold_keys_step_the_clip_threshold_by_a_tenth_of_a_decade(qtbot, replay_only_window):
    window = replay_only_window
    start = window.lab.config.clip_threshold
    qtbot.keyClick(window, Qt.Key.Key_BracketRight)
    assert window.lab.config.clip_threshold == float(f"{start * 10 ** 0.1:.3g}")
    qtbot.keyClick(window, Qt.Key.Key_BracketLeft)
    qtbot.keyClick(window, Qt.Key.Key_BracketLeft)
    assert window.lab.config.clip_threshold < start
    assert window.panels["grad_norm"].threshold_value == window.lab.config.clip_threshold


def test_slow_motion_plays_a_replay_one_step_at_a_time(qtbot, replay_only_window, open_from_menu):
    window = replay_only_window
    assert open_from_menu(window, EXAMPLE)
    window.timeline_bar.setFocus()
    window.lab.seek(100)
    slow = next(action for action in window.pace_actions if action.data() == 0.25)
    slow.trigger()
    assert window.lab.pace == 0.25 and slow.isChecked()
    qtbot.keyClick(window, Qt.Key.Key_Space)
    assert window.lab.state == "playing" and window.lab.slow
    qtbot.waitUntil(lambda: window.lab.cursor >= 102, timeout=10_000)
    qtbot.keyClick(window, Qt.Key.Key_Space)
    assert window.lab.state == "replay" and not window.lab.slow
    stopped = window.lab.cursor
    assert stopped - 100 <= 20                  # a step each quarter second, not the replay's speed
    qtbot.wait(400)
    assert window.lab.cursor == stopped


def test_the_window_never_opens_larger_than_the_screen(qtbot, tmp_path):
    settings = QSettings(str(tmp_path / "big.ini"), QSettings.Format.IniFormat)
    window = MainWindow(sessions_dir=tmp_path, settings=settings, training=False)
    qtbot.addWidget(window)
    room = (window.screen() or QGuiApplication.primaryScreen()).availableGeometry()
    assert window.width() <= room.width() and window.height() <= room.height()
    window.resize(room.width() * 3, room.height() * 3)          # a saved size from a bigger screen
    window.close()
    again = MainWindow(sessions_dir=tmp_path, settings=settings, training=False)
    qtbot.addWidget(again)
    assert again.width() <= room.width() and again.height() <= room.height()
    again.close()


def test_the_view_menu_brings_a_closed_settings_dock_back(qtbot, replay_only_window):
    window = replay_only_window
    window.settings_dock.close()
    assert not window.settings_dock.isVisible()
    window.settings_action.trigger()
    assert window.settings_dock.isVisible()
    assert window.settings_action in window.menuBar().actions()[2].menu().actions()


def test_no_run_on_show_says_what_to_do_instead_of_empty_axes(qtbot, make_window, open_from_menu):
    window = make_window(RunConfig(arch="rnn", task="adding", seq_len=12, hidden=8, steps=100))
    window.redraw(everything=True)
    for panel in window.stage.visible_panels():
        assert panel.empty_note.isVisible() and not panel.graphics.isVisible()
    assert open_from_menu(window, EXAMPLE)
    window.redraw(everything=True)
    for panel in window.stage.visible_panels():
        assert not panel.empty_note.isVisible() and panel.graphics.isVisible()
    window.panels["loss"].refresh(window.lab)        # in a tab: drawn when its tab is chosen
    assert window.panels["loss"].loss_curve.x_values.size
    window.new_action.trigger()                     # New Live Session: nothing of the replay stays
    window.redraw(everything=True)
    for panel in window.panels.values():
        panel.refresh(window.lab, force=True)
    assert window.panels["loss"].loss_curve.x_values.size == 0
    assert window.panels["grad_norm"].pre_curve.x_values.size == 0
    assert window.panels["timesteps"].image.image is None
    for panel in window.stage.visible_panels():
        assert panel.empty_note.isVisible()


def contrast(a, b) -> float:
    """WCAG 2's contrast ratio of two colours."""
    def luminance(color) -> float:
        channels = [c / 255.0 for c in (color.red(), color.green(), color.blue())]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_presentation_mode_gives_the_widgets_a_high_contrast_palette_and_gives_it_back(qtbot, replay_only_window):
    from PySide6.QtGui import QColor, QPalette
    from PySide6.QtWidgets import QApplication

    window = replay_only_window
    dark = QPalette()                       # a desktop in a dark theme
    for role, colour in ((QPalette.ColorRole.Window, "#202020"), (QPalette.ColorRole.WindowText, "#9a9a9a"),
                         (QPalette.ColorRole.Base, "#2b2b2b"), (QPalette.ColorRole.Text, "#8c8c8c")):
        dark.setColor(role, QColor(colour))
    QApplication.setPalette(dark)
    try:
        qtbot.keyClick(window, Qt.Key.Key_F11)
        palette = window.timeline.palette()
        Role, Group = QPalette.ColorRole, QPalette.ColorGroup
        for text, ground in ((Role.WindowText, Role.Window), (Role.Text, Role.Base), (Role.ButtonText, Role.Button)):
            assert contrast(palette.color(text), palette.color(ground)) >= 7.0, text
        assert contrast(palette.color(Group.Disabled, Role.WindowText), palette.color(Group.Disabled, Role.Window)) >= 7.0
        qtbot.keyClick(window, Qt.Key.Key_F11)
        assert QApplication.palette().color(Role.Window).name() == "#202020"     # the desk's, as it was
    finally:
        QApplication.setPalette(QApplication.style().standardPalette())
