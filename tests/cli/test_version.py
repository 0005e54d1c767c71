"""`gradscope --version` says the installed version, and a checkout that is not installed says
the one its source declares. (tests/test_install.py asks a wheel's console script too.)"""
from __future__ import annotations

import os
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import gradscope

REPO = Path(__file__).resolve().parents[2]


def _version(*python_options: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, *python_options, "-m", "gradscope", "--version"], cwd=cwd,
                          capture_output=True, text=True, env=env, timeout=120)


def test_version_prints_the_installed_version_and_exits_zero(tmp_path):
    done = _version(cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"gradscope {version('gradscope')}\n" and done.stderr == ""
    assert version("gradscope") == gradscope.__version__     # one version, declared once


def test_a_checkout_without_an_install_says_its_source_version(tmp_path):
    # -S: no site-packages, so no installed gradscope's metadata; the checkout comes from PYTHONPATH
    done = _version("-S", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"gradscope {gradscope.__version__}\n"
