"""Fixtures for the session tests; the builders live in session_samples.py."""
from __future__ import annotations

from pathlib import Path

import pytest

from session_samples import write_sample


@pytest.fixture
def sample(tmp_path: Path) -> tuple[Path, dict]:
    path = tmp_path / "sample.gscope"
    return path, write_sample(path)
