"""Looks that carry to the back of a lecture room: white background, thick lines, big type,
colours that stay apart on a washed-out projector and in the common colour blindnesses
(Okabe-Ito).

Two looks: the desk's, and the projector's (`PRESENTATION`, presentation mode), with bigger
type, no data line under 3 px and heavier axes. `LOOK` is the one in force: every pen made by
`pen` and every plot styled by `style_plot` follows it, and `gradscope.ui.look` restyles what
was drawn before a switch.
"""
from __future__ import annotations

from dataclasses import dataclass

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont

FONT_POINTS = 12
# px of the left axis: its title and its tick labels, "5·10⁻³" (47 px at the desk's 15 px) the
# widest (bigger numbers read in thousands, `axes.THOUSANDS_FROM`)
AXIS_WIDTH = 72
LINE_WIDTH = 3            # curves over timesteps (a few hundred points)
LONG_LINE_WIDTH = 1       # curves over training steps (up to 2,048 points: 2 px costs 1.5x the frame)
COLORBAR_WIDTH = 16       # px of a colour bar's colours
COLORBAR_GAP = 5          # px between a plot and its colour bar (pyqtgraph's `insert_in`)


@dataclass(frozen=True)
class Look:
    name: str
    tick_px: int             # tick labels
    label_px: int            # axis labels and legends
    title_px: int            # plot titles
    text_points: int         # the window's own text (menus, notes, the status bar)
    min_line: float          # no pen is thinner
    axis_width: int          # px of the left axis (ticks, their labels and the axis label)
    axis_pen: float
    grid_alpha: float


DESK = Look("desk", tick_px=15, label_px=15, title_px=18, text_points=FONT_POINTS, min_line=0.0,
            axis_width=AXIS_WIDTH, axis_pen=1, grid_alpha=0.25)
PRESENTATION = Look("presentation", tick_px=20, label_px=20, title_px=24, text_points=16, min_line=3.0,
                    axis_width=92, axis_pen=2, grid_alpha=0.4)
LOOK = DESK


def use_look(look: Look) -> None:
    global LOOK
    LOOK = look


def line_width(width: float) -> float:
    """The width a pen of `width` is drawn with in the look in force."""
    return max(float(width), LOOK.min_line)


# Okabe-Ito (yellow as printed: on white it is for fills, never for lines): distinguishable with the common colour blindnesses, and on a projector
COLORS = {
    "blue": "#0072B2", "orange": "#E69F00", "green": "#009E73", "red": "#D55E00",
    "purple": "#CC79A7", "sky": "#56B4E9", "yellow": "#F0E442", "black": "#000000", "grey": "#777777",
}
SERIES_COLORS = ["blue", "orange", "green", "red", "purple", "sky", "black"]
HEATMAP = "viridis"
DASHES = {"solid": Qt.PenStyle.SolidLine, "dash": Qt.PenStyle.DashLine, "dot": Qt.PenStyle.DotLine}
# curves of compared runs over training steps: a dashed pen wider than 1 px costs Qt 50 times a
# solid one (155 ms for three 2,048-point curves, measured), a 1 px dash no more than a line
COMPARED_LINE_WIDTH = 1


def configure() -> None:
    pg.setConfigOptions(background="w", foreground="k", antialias=False, imageAxisOrder="row-major")


def pen(color: str, width: float = LINE_WIDTH, style=None, alpha: int = 255):
    qcolor = QColor(COLORS.get(color, color))
    qcolor.setAlpha(alpha)
    options = {"color": qcolor, "width": line_width(width)}
    if style is not None:
        options["style"] = style
    return pg.mkPen(**options)


def slot_pen(style: tuple[str, str], width: float = LINE_WIDTH, alpha: int = 255):
    """The pen of a run slot (`gradscope.lab.slots.SLOT_STYLES`): its colour and its dashes."""
    color, dashes = style
    return pen(color, width, DASHES[dashes], alpha)


def brush(color: str, alpha: int = 255):
    qcolor = QColor(COLORS.get(color, color))
    qcolor.setAlpha(alpha)
    return pg.mkBrush(qcolor)


def title_size() -> str:
    return f"{LOOK.title_px}px"


def set_plot_title(plot: pg.PlotItem, text: str) -> None:
    """The title in the look's type, in a row as high as that type needs: pyqtgraph gives
    every title 30 px, more than the desk's type takes, and at 1280x720 those are the plot's.
    Titles stand at the left of their view box, like a slide's heading: the right end of the
    row is kept for a readout (`panels.readout`)."""
    plot.setTitle(text, size=title_size(), justify="left")
    height = LOOK.title_px + 5
    plot.titleLabel.setMaximumHeight(height)
    plot.layout.setRowFixedHeight(0, height)


STEP_AXIS = "training step"     # the label of an axis of training steps: it ticks whole steps


def style_plot(plot: pg.PlotItem, title: str, left: str, bottom: str) -> None:
    from gradscope.ui.axes import ReadableAxis

    if not isinstance(plot.getAxis("left"), ReadableAxis):
        plot.setAxisItems({"left": ReadableAxis("left"), "bottom": ReadableAxis("bottom")})
    set_plot_title(plot, title)
    plot._gradscope_title = title
    for name, label in (("left", left), ("bottom", bottom)):
        axis = plot.getAxis(name)
        axis.setLabel(label)
        axis.whole_numbers = label == STEP_AXIS
        axis.enableAutoSIPrefix(False)   # "(x1e+09)" on a log axis only confuses
        # axes repaint with every plot; cached, they redraw only when their ticks change
        axis.setCacheMode(axis.CacheMode.DeviceCoordinateCache)
    style_axes(plot)
    plot.setMenuEnabled(True)
    plot.hideButtons()


def style_axes(plot: pg.PlotItem) -> None:
    """The axes' type, pens and width in the look in force."""
    for name in ("left", "bottom"):
        axis = plot.getAxis(name)
        _ink_axis(axis)
        # shared with the plot below (panels.base.share_x_label), or no label at all: no room for one
        hidden = getattr(axis, "gradscope_label_hidden", False) or not axis.labelText
        if hidden:
            axis.showLabel(False)
        # ticks and their labels never closer than a label's height: overlapping labels are
        # what a small log axis shows otherwise ("0.01" over "0.0001")
        # (and a log axis's "2" to "9" between the decades never get a label)
        axis.setStyle(tickTextOffset=4, autoExpandTextSpace=False, autoReduceTextSpace=False,
                      maxTextLevel=0, textFillLimits=[(0, 0.7), (2, 0.5), (4, 0.3), (6, 0.2)])
        if name == "left":
            # a fixed width: tick labels that grow ("900" to "1000") would otherwise re-lay out
            # the whole panel, which then paints twice
            axis.setWidth(LOOK.axis_width)
        else:
            axis.setHeight(LOOK.tick_px + 14 + (0 if hidden else LOOK.label_px + 4))
    if not getattr(plot, "gradscope_images", False):   # a plot of images has no grid over them
        plot.showGrid(x=True, y=True, alpha=LOOK.grid_alpha)


def colorbar_axis_width() -> int:
    """px of a colour bar's tick labels ("-40", "0.5"): three digits' worth of the look's type."""
    return 3 * LOOK.tick_px


def colorbar_room() -> int:
    """px a vertical colour bar takes beside its plot (the gap, its frame, its colours, its tick
    labels), in the look in force. The plot above a heatmap keeps as much empty
    (`panels.heatmap_view.ColorBarRoom`) so that the two share an x axis pixel for pixel."""
    return COLORBAR_GAP + 2 + COLORBAR_WIDTH + colorbar_axis_width()


def pixel_font(px: int) -> QFont:
    font = QFont()
    font.setPixelSize(px)
    return font


def _ink_axis(axis: pg.AxisItem) -> None:
    """An axis's tick labels, its title (when it has one) and its pens in the look in force."""
    axis.setTickFont(pixel_font(LOOK.tick_px))
    if axis.labelText:
        axis.setLabel(axis.labelText, **{"font-size": f"{LOOK.label_px}px", "color": "#000000"})
    axis.setPen(pg.mkPen(COLORS["black"], width=LOOK.axis_pen))
    axis.setTextPen(pg.mkPen(COLORS["black"], width=1))


def style_line_label(line: pg.InfiniteLine) -> None:
    """A line's label (the clip threshold's, a setting change's, the unit line's "1") in the
    look's type: pyqtgraph draws it in the application's default, 12 px, at the back of a room."""
    label = getattr(line, "label", None)      # set only on a line made with a label
    if label is not None:
        label.setFont(pixel_font(LOOK.label_px))


def style_colorbar(bar: pg.ColorBarItem) -> None:
    """A colour bar's ticks and label in the look in force. A colour bar is a `pg.PlotItem`, but
    never styled as a plot: its left axis is only the edge of its frame (or the bar's label),
    and a plot's fixed left-axis width there stood the bar 92 px off its heatmap."""
    _ink_axis(bar.axis)
    bar.axis.setWidth(colorbar_axis_width())
    frame = bar.getAxis("left")
    if frame.labelText:
        frame.setLabel(frame.labelText, **{"font-size": f"{LOOK.label_px}px", "color": "#000000"})
    else:
        # only the frame's edge: a fixed width, so the bar's own is known (`colorbar_room`)
        frame.setWidth(1)
        bar.setFixedWidth(colorbar_room() - COLORBAR_GAP)
