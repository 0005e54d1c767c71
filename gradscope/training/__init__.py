"""Training: the trainer loop, clipping, run control and callbacks."""
from gradscope.training.callbacks import Callback, SessionRecorder
from gradscope.training.trainer import Trainer

__all__ = ["Callback", "SessionRecorder", "Trainer"]
