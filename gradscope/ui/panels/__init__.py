"""The six panels of the live lab (and of replay): each created once, redrawn on a timer."""
from gradscope.ui.panels.gates import GatesPanel
from gradscope.ui.panels.task import TaskPanel
from gradscope.ui.panels.timesteps import StepJacobianPanel, TimestepPanel
from gradscope.ui.panels.training import GradNormPanel, LossPanel

PANEL_CLASSES = (TimestepPanel, GradNormPanel, StepJacobianPanel, LossPanel, GatesPanel, TaskPanel)

__all__ = ["PANEL_CLASSES", "GatesPanel", "GradNormPanel", "LossPanel", "StepJacobianPanel", "TaskPanel",
           "TimestepPanel"]
