"""Training: the trainer loop, clipping, run control and callbacks.

`Trainer` is imported on first use, so the GUI's process (which trains in a child process)
can use the callbacks and the remote handle without importing torch.
"""
from gradscope.training.callbacks import Callback, SessionRecorder

__all__ = ["Callback", "SessionRecorder", "Trainer"]


def __getattr__(name):
    if name == "Trainer":
        from gradscope.training.trainer import Trainer

        return Trainer
    raise AttributeError(f"module 'gradscope.training' has no attribute {name!r}")
