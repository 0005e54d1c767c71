"""The probe tests share the independent reference that lives beside the model tests."""
from __future__ import annotations

import sys
from pathlib import Path


_MODELS = str(Path(__file__).resolve().parent.parent / "models")
if _MODELS not in sys.path:
    sys.path.insert(0, _MODELS)

