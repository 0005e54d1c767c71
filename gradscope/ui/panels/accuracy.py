"""How well an image run classifies: the accuracy on its training batches (every step) and on
the test split (every probe) over training, each compared run in its style; and the confusion
matrix of the test split at the latest probe (rows the true class, columns the predicted one),
whose diagonal is the test accuracy the readout gives."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from gradscope.series import CONFUSION, METRIC, TEST_ACCURACY
from gradscope.ui import theme
from gradscope.ui.panels.base import Panel, add_plot, buckets_for, set_title
from gradscope.ui.panels.curves import SlotCurves
from gradscope.ui.panels.ranges import RangeKeeper
from gradscope.ui.panels.readout import TitleReadout
from gradscope.ui.panels.training import extent_of
from gradscope.ui.panels.painted_image import PaintedImage

TRAIN_ACCURACY = METRIC.name(metric="accuracy")


class AccuracyPanel(Panel):
    title = "Accuracy and confusion"
    tab_title = "Accuracy"
    name = "accuracy"
    kinds = ("image",)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.plot = self.add_step_plot(add_plot(self.graphics, 0, 0, legend=True))
        theme.style_plot(self.plot, "Accuracy", "fraction right", "training step")
        self.train = SlotCurves(self.plot, ("blue", theme.LONG_LINE_WIDTH, None), long=True, name="training batches")
        self.test = SlotCurves(self.plot, ("orange", theme.LINE_WIDTH, None), long=True, name="test split",
                               symbol="s", legend_runs=False)
        self.range = RangeKeeper(self.plot, y_floor=0.0)
        self.confusion_plot = self.graphics.addPlot(row=1, col=0)
        theme.style_plot(self.confusion_plot, "Test confusion", "true class", "predicted class")
        self.confusion_plot.titleLabel.setToolTip("The test split by true class (rows) and predicted class (columns)")
        self.confusion_plot.invertY(True)
        self.confusion_plot.setMouseEnabled(False, False)
        self.confusion = PaintedImage(axisOrder="row-major")
        self.confusion.setColorMap(pg.colormap.get(theme.HEATMAP))
        self.confusion_plot.addItem(self.confusion)
        self.confusion_bar = pg.ColorBarItem(colorMap=pg.colormap.get(theme.HEATMAP), interactive=False, width=theme.COLORBAR_WIDTH,
                                             label="images")
        self.confusion_bar.setImageItem(self.confusion, insert_in=self.confusion_plot)
        theme.style_colorbar(self.confusion_bar)
        self.readout = TitleReadout(self.confusion_plot)
        self._classes = 0

    def draw(self, lab) -> None:
        slots = lab.slots
        self.train.style(slots)
        self.test.style(slots)
        shown, x = [np.array([0.0, 1.0])], np.empty(0)
        buckets = buckets_for(len(slots), self.plot)
        for slot in slots:
            run = slot.history
            x, y = run.line(TRAIN_ACCURACY, buckets)
            self.train.show(slot.index, x, y)
            steps, tested = run.line(TEST_ACCURACY.name(), buckets)
            self.test.show(slot.index, steps, tested)
            shown += [y, tested]
        self.range.update(x, shown, x_fixed=extent_of(slots))
        run = slots[0].history
        matrix = run.latest.get(CONFUSION.name())
        if matrix is None or matrix.ndim != 2 or not matrix.size:
            return
        classes = matrix.shape[0]
        self.confusion.setImage(np.asarray(matrix, dtype=np.float32), levels=(0.0, float(max(matrix.max(), 1))),
                                autoLevels=False)
        self.confusion_bar.setLevels((0.0, float(max(matrix.max(), 1))))
        if classes != self._classes:
            self._classes = classes
            self.confusion.setRect(-0.5, -0.5, classes, classes)
            self.confusion_plot.setRange(xRange=(-0.5, classes - 0.5), yRange=(-0.5, classes - 0.5), padding=0)
        right = float(np.trace(matrix)) / max(float(matrix.sum()), 1.0)
        set_title(self.confusion_plot, "Test confusion" + (f" ({slots[0].label})" if len(slots) > 1
                                                                         else ""))
        self.readout.set_text(f"{right:.1%} right", f"The test images on the diagonal: the test accuracy at the "
                                                   f"probe of step {run.latest_step:,}")
