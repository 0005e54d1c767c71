"""What the depth probe tests share: denormals flushed as training and probes run them."""
from __future__ import annotations

import pytest
import torch

from gradscope.models.denormals import flush_denormals


@pytest.fixture(autouse=True)
def flushed_denormals():
    """Flush denormals for the test (the flag is the thread's), then put the flag back as it was."""
    was = float(torch.tensor([1e-30]) * 1e-10) == 0.0
    flush_denormals()
    yield
    torch.set_flush_denormal(was)
