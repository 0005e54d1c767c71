"""The probe tests share the independent reference that lives beside the model tests."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

_MODELS = str(Path(__file__).resolve().parent.parent / "models")
if _MODELS not in sys.path:
    sys.path.insert(0, _MODELS)


@pytest.fixture(autouse=True)
def _one_torch_thread():
    """Tiny tensors: a second intra-op thread only adds spin-waiting on a shared machine."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
