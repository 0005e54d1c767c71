"""The panels of the live lab (and of replay): each created once, redrawn on a timer. A panel's
`kinds` say which runs it draws: the recurrent family's ("sequence"), the convolutional and
dense families' ("image"), or both; the stage shows those of the runs on show."""
from gradscope.ui.panels.accuracy import AccuracyPanel
from gradscope.ui.panels.depth import DepthPanel
from gradscope.ui.panels.filters import FiltersPanel
from gradscope.ui.panels.gates import GatesPanel
from gradscope.ui.panels.images import ImagesPanel
from gradscope.ui.panels.layers import LayersPanel
from gradscope.ui.panels.task import TaskPanel
from gradscope.ui.panels.timesteps import StepJacobianPanel, TimestepPanel
from gradscope.ui.panels.training import GradNormPanel, LossPanel

PANEL_CLASSES = (TimestepPanel, GradNormPanel, StepJacobianPanel, LossPanel, GatesPanel, TaskPanel,
                 DepthPanel, ImagesPanel, FiltersPanel, AccuracyPanel, LayersPanel)

__all__ = ["PANEL_CLASSES", "AccuracyPanel", "DepthPanel", "FiltersPanel", "GatesPanel", "GradNormPanel", "ImagesPanel",
           "LayersPanel", "LossPanel", "StepJacobianPanel", "TaskPanel", "TimestepPanel"]
