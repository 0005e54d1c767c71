"""An image item whose picture is kept in a format Qt's raster engine paints straight from.

pyqtgraph renders an image through a lookup table (a colour map) as an 8-bit indexed QImage,
and one without as a non-premultiplied ARGB32 or an 8-bit grey one. The raster engine paints
none of these directly: it converts the whole image again at every paint. Measured on a
500x200 heatmap: 1.10 ms a paint from the indexed image, 0.12 ms from RGB32. A panel's image
is rendered once per new data and painted at every frame that touches its region, so the
conversion is done once, after rendering: to RGB32 where every pixel is opaque, else to
premultiplied ARGB32 (a NaN is a transparent pixel)."""
from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtGui import QImage

PAINTED_FORMATS = (QImage.Format.Format_RGB32, QImage.Format.Format_ARGB32_Premultiplied)


class PaintedImage(pg.ImageItem):
    def render(self, *args, **kwargs):
        super().render(*args, **kwargs)
        image = self.qimage
        if image is not None and image.format() not in PAINTED_FORMATS:
            self.qimage = image.convertToFormat(PAINTED_FORMATS[1] if image.hasAlphaChannel() else PAINTED_FORMATS[0])
