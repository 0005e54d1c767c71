"""`PaintedImage` keeps its rendered picture in a format the raster engine paints straight
from, and the window shows what pyqtgraph's own ImageItem shows: through a colour map (with NaN
as transparent pixels), in grey, and in RGB. Scaled from another format, a screen pixel that an
image cell's edge crosses may take the neighbouring cell's colour: those, under 1% of the
picture, are the only pixels allowed to differ."""
import numpy as np
import pytest


def _picture(qtbot, item_class, image, **options):
    import pyqtgraph as pg

    widget = pg.PlotWidget()
    qtbot.addWidget(widget)
    widget.resize(300, 240)
    widget.show()
    qtbot.waitExposed(widget)
    item = item_class(axisOrder="row-major")
    if options.get("colormap"):
        item.setColorMap(pg.colormap.get(options["colormap"]))
    widget.getPlotItem().addItem(item)
    item.setImage(image, levels=options.get("levels"), autoLevels=options.get("levels") is None)
    widget.getPlotItem().setRange(xRange=(0, image.shape[1]), yRange=(0, image.shape[0]), padding=0)
    qtbot.wait(30)
    picture = widget.grab().toImage()
    view = widget.getPlotItem().vb
    centres = []
    for row in range(image.shape[0]):
        for column in range(image.shape[1]):
            at = widget.mapFromScene(view.mapViewToScene(pg.Point(column + 0.5, row + 0.5)))
            centres.append(picture.pixel(at.x(), at.y()))
    return centres, item


@pytest.mark.parametrize("kind", ["colour map with NaN", "grey", "rgb"])
def test_a_painted_image_shows_what_pyqtgraphs_shows(qtbot, kind):
    import pyqtgraph as pg

    from gradscope.ui import theme
    from gradscope.ui.panels.painted_image import PAINTED_FORMATS, PaintedImage

    rng = np.random.default_rng(0)
    if kind == "rgb":
        image, options = rng.integers(0, 255, size=(40, 60, 3)).astype(np.uint8), {}
    else:
        image = rng.normal(size=(40, 60))
        if kind == "colour map with NaN":
            image[5:9, 10:30] = np.nan
            options = {"colormap": theme.HEATMAP, "levels": (-2.0, 2.0)}
        else:
            options = {"levels": (-2.0, 2.0)}
    expected, plain = _picture(qtbot, pg.ImageItem, image, **options)
    got, painted = _picture(qtbot, PaintedImage, image, **options)
    assert painted.qimage.format() in PAINTED_FORMATS
    if kind != "rgb":
        assert plain.qimage.format() not in PAINTED_FORMATS        # what it is there to spare
    assert len(set(got)) > 20              # the cells' colours, not a blank
    assert got == expected
