"""The Qt-free lab: the model the window is a view of (`model`), its two sources (`live`, the
training process; `recorded`, a session file), the run slots (`slots`) and what the panels
draw of each run (`history`, `envelope`)."""
from gradscope.lab.history import RunHistory
from gradscope.lab.events import LabEvents
from gradscope.lab.model import DEFAULT_CONFIG, LabModel
from gradscope.lab.slots import MAX_SLOTS, SLOT_STYLES, RunSlot
from gradscope.lab.source import SourceError

__all__ = ["DEFAULT_CONFIG", "LabEvents", "LabModel", "MAX_SLOTS", "RunHistory", "RunSlot", "SLOT_STYLES",
           "SourceError"]
