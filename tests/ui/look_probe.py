"""Measures what a student at the back would see: run as a script, in a process of its own, on
an offscreen screen of the size given (the offscreen platform's config file), it opens a
session in the real window, in the desk's look or in presentation mode, shows every layout
and every tab in turn, and prints as JSON every place where the scene breaks a rule:

- a visible plot's view box is lower than MIN_PLOT_PX;
- two tick labels of an axis overlap, or one runs into the axis's label or past its edge;
- a legend, a plot or its axes reach past its panel's edge;
- a heatmap's view box is not under the plot above it, whose x axis it shares;
- (presentation) a tick label or a text on a plot is under 16 px, a control over a plot under
  20 px, or a data line under 3 px.

    python tests/ui/look_probe.py 1280x720 presentation FILE [RUN_ID ...]
"""
from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

MIN_PLOT_PX = 140
MIN_CONTROL_PX = 20        # (presentation) a control over a plot, in the type of the plots' labels
MIN_IMAGES_PX = 48          # a plot of images (a strip of test images is one row of them)


def main(argv: list[str]) -> int:
    size, mode, path, *runs = argv
    width, height = (int(part) for part in size.split("x"))
    config = Path(tempfile.mkdtemp()) / "screen.json"
    config.write_text(json.dumps({"screens": [{"name": "projector", "x": 0, "y": 0, "width": width,
                                               "height": height, "logicalDpi": 96, "logicalBaseDpi": 96,
                                               "dpr": 1}]}))
    os.environ["QT_QPA_PLATFORM"] = f"offscreen:configfile={config}"
    from PySide6.QtCore import QSettings

    from gradscope.lab.layouts import LAYOUTS
    from gradscope.ui.app import create_application
    from gradscope.ui.main_window import MainWindow

    app = create_application()
    settings = QSettings(str(config.with_suffix(".ini")), QSettings.Format.IniFormat)
    window = MainWindow(sessions_dir=tempfile.mkdtemp(), settings=settings, training=False)
    window.show()
    window.open_file(path)
    if runs:
        window.lab.show_runs([int(run) for run in runs])
    if mode == "presentation":
        window.presentation_action.trigger()

    def settle() -> None:
        # as the event loop would in a moment: the layout, then a frame, then the texts
        # fitted to the panels' new widths and the rows evened out (each a zero timer)
        for _ in range(6):
            for _ in range(5):
                app.processEvents()
            window.redraw(everything=True)
        for _ in range(5):
            app.processEvents()

    problems, seen, elided = [], 0, set()
    for layout in LAYOUTS:
        window.lab.set_layout(layout.name)
        for tab in range(window.stage.count()):
            if tab and layout is not LAYOUTS[0]:
                continue                  # the tabs are the same panels whatever the layout
            window.stage.setCurrentIndex(tab)
            settle()
            where = f"{size} {mode} {layout.name} tab {window.stage.tabText(tab)!r}"
            for panel in window.stage.visible_panels():
                seen += 1
                problems += [f"{where} {panel.name}: {text}" for text in panel_problems(panel, mode)]
                elided |= elided_titles(panel)
    print(json.dumps({"panels_measured": seen, "window": [window.width(), window.height()],
                      "problems": problems, "elided_titles": sorted(elided)}), flush=True)
    window.close()
    window.deleteLater()
    app.processEvents()
    return 0


def elided_titles(panel) -> set[str]:
    """The titles of the panel's plots that are shown shortened (a long one may be, at 1280x720)."""
    import pyqtgraph as pg

    return {item._gradscope_title for item in panel.graphics.scene().items()
            if isinstance(item, pg.PlotItem) and item.isVisible() and getattr(item, "_gradscope_title", "")
            and getattr(item.titleLabel, "_gradscope_elided", item._gradscope_title) != item._gradscope_title}


def panel_problems(panel, mode: str) -> list[str]:
    import pyqtgraph as pg
    from PySide6.QtCore import QRectF
    from PySide6.QtGui import QImage, QPainter

    from gradscope.ui.panels.curves import Curve

    view = panel.graphics
    edge = QRectF(view.mapToScene(view.viewport().rect()).boundingRect()).adjusted(-1, -1, 1, 1)
    found = []
    image = QImage(8, 8, QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    try:
        for item in view.scene().items():
            if not item.isVisible() or not _shown(item):
                continue
            if isinstance(item, pg.ColorBarItem):
                continue
            if isinstance(item, pg.PlotItem):
                name = getattr(item, "_gradscope_title", "") or "untitled plot"
                box = item.vb.sceneBoundingRect()
                lowest = MIN_IMAGES_PX if getattr(item, "gradscope_images", False) else MIN_PLOT_PX
                if box.height() < lowest:
                    found.append(f"plot {name!r} is {box.height():.0f} px high")
                if not edge.contains(item.sceneBoundingRect()):
                    found.append(f"plot {name!r} reaches past the panel ({_rect(item.sceneBoundingRect())} "
                                 f"in {_rect(edge)})")
            elif isinstance(item, pg.AxisItem) and item.style.get("showValues", True):
                found += [f"axis {item.orientation}: {text}" for text in label_overlaps(item, painter)]
                if mode == "presentation" and item.style["tickFont"] is not None \
                        and item.style["tickFont"].pixelSize() < 16:
                    found.append(f"axis {item.orientation}: tick labels {item.style['tickFont'].pixelSize()} px")
            elif isinstance(item, pg.LegendItem) and item.items:
                if not edge.contains(item.sceneBoundingRect()):
                    found.append(f"legend {[label.text for _, label in item.items]} reaches past the panel")
            elif isinstance(item, pg.TextItem) and mode == "presentation" and item.toPlainText():
                size = item.textItem.font().pixelSize()
                if size < 16:
                    found.append(f"the text {item.toPlainText()!r} on a plot is {size} px")
            elif isinstance(item, Curve) and mode == "presentation" and item.x_values.size:
                width = item.opts["pen"].widthF()
                if width < 3:
                    found.append(f"a data line {width:g} px wide")
    finally:
        painter.end()
    if mode == "presentation":                          # the controls over a plot ("log y", a menu)
        from PySide6.QtGui import QFontInfo
        from PySide6.QtWidgets import QAbstractButton, QComboBox

        for widget in view.findChildren(QAbstractButton) + view.findChildren(QComboBox):
            size = QFontInfo(widget.font()).pixelSize()
            if widget.isVisible() and size < MIN_CONTROL_PX:
                found.append(f"the control {widget.text() if isinstance(widget, QAbstractButton) else 'menu'!r} "
                             f"is in {size} px type")
    heatmap = getattr(panel, "map", None)                 # a heatmap under the plot with its x axis
    if heatmap is not None and heatmap.plot.isVisible():
        above, below = panel.plot.vb.sceneBoundingRect(), heatmap.plot.vb.sceneBoundingRect()
        if abs(above.left() - below.left()) > 1 or abs(above.right() - below.right()) > 1:
            found.append(f"the heatmap {_rect(below)} is not under the plot above it {_rect(above)}")
    return found


def _shown(item) -> bool:
    parent = item.parentItem()
    while parent is not None:
        if not parent.isVisible():
            return False
        parent = parent.parentItem()
    return True


def label_overlaps(axis, painter) -> list[str]:
    if axis.style["tickFont"] is not None:
        painter.setFont(axis.style["tickFont"])      # as AxisItem.paint measures its labels
    specs = axis.generateDrawSpecs(painter)
    if specs is None:
        return []
    texts = specs[2]
    found = []
    for i, (rect, _, text) in enumerate(texts):
        for other, _, other_text in texts[i + 1:]:
            shared = rect.intersected(other)
            if shared.width() > 0.5 and shared.height() > 0.5:
                found.append(f"tick labels {text!r} and {other_text!r} overlap")
    # the axis's own label ("norm") beside its tick labels, and the axis's outer edge: a tick
    # label wider than a fixed-width axis's room runs into both ("0.0001" under "norm")
    label = axis.label.mapRectToParent(axis.label.boundingRect()) if axis.label.isVisible() else None
    if label is not None:    # the text's ink, not its item's margins
        label = label.adjusted(3, 3, -3, -3)
    outer = axis.boundingRect()
    for rect, _, text in texts:
        if label is not None:
            shared = rect.intersected(label)
            if shared.width() > 0.5 and shared.height() > 0.5:
                found.append(f"tick label {text!r} runs into the axis label {axis.labelText!r}")
        if axis.orientation == "left" and rect.left() < outer.left() - 0.5:
            found.append(f"tick label {text!r} is cut at the panel's edge")
    return found


def _rect(rect) -> str:
    return f"{rect.x():.0f},{rect.y():.0f} {rect.width():.0f}x{rect.height():.0f}"


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
