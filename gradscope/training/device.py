"""Device choice: cuda where it exists, the CPU otherwise, and a note when a request fell back."""
from __future__ import annotations

import torch


def resolve_device(requested: str) -> tuple[torch.device, str | None]:
    available = torch.cuda.is_available()
    if requested == "cuda" and not available:
        return torch.device("cpu"), "cuda was requested but no CUDA device is available; training on the CPU"
    if requested in ("cuda", "auto") and available:
        return torch.device("cuda"), None
    return torch.device("cpu"), None
