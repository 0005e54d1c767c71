"""A real install finds its own data: the wheel carries resources/ as gradscope.resources.

The source is copied out first, so that the build's own folders (build/, *.egg-info) never
appear in the checkout. Each fresh virtual environment takes gradscope from the wheel (or, in
the editable case, from the copy), and its other dependencies from this test's environment
through a .pth line: a plain path, so that environment's own .pth files (among them the
checkout's editable install) are not run. Every command runs from a folder of its own, and the
tests check which gradscope was imported.
"""
from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import venv
import zipfile
from importlib.metadata import version
from pathlib import Path

import pytest

from gradscope import __version__
from gradscope.session import open_session

REPO = Path(__file__).resolve().parents[1]
NOT_COPIED = shutil.ignore_patterns(".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache",
                                    "sessions")
SMALL_CHARLM = ["record", "--task", "charlm", "--steps", "3", "--hidden", "8", "--seq-len", "16", "--batch", "2"]


def _why_no_wheel() -> str | None:
    if importlib.util.find_spec("setuptools") is None:
        return "setuptools is not installed here, so no wheel can be built offline"
    if int(version("setuptools").split(".")[0]) < 77:
        return f"setuptools {version('setuptools')} is older than the 77 that pyproject.toml needs"
    return None


pytestmark = pytest.mark.skipif(_why_no_wheel() is not None, reason=str(_why_no_wheel()))


def _run(argv: list, cwd: Path, **env: str) -> str:
    clean = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    done = subprocess.run([str(arg) for arg in argv], cwd=cwd, capture_output=True, text=True,
                          env={**clean, "GRADSCOPE_PROBE_MODE": "thread", **env}, timeout=600)
    assert done.returncode == 0, f"{argv}: exit {done.returncode}\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    return done.stdout


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> Path:
    copy = tmp_path_factory.mktemp("source") / "gradscope"
    shutil.copytree(REPO, copy, ignore=NOT_COPIED)
    return copy


@pytest.fixture(scope="module")
def wheel(source, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-q",
          "-w", out, source], cwd=out)
    (built,) = out.glob("gradscope-*.whl")
    return built


def _fresh_environment(folder: Path) -> tuple[Path, Path]:
    """A virtual environment without pip or packages of its own: (python, site-packages)."""
    venv.create(folder, with_pip=False)
    python = folder / "bin" / "python"
    site = Path(_run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], cwd=folder).strip())
    (site / "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return python, site


def _pip_install(python: Path, *what, cwd: Path) -> None:
    # --ignore-installed: the dependencies' folder holds the checkout's gradscope, which pip
    # would otherwise take for this one (and never touch: it is outside this environment)
    _run([python, "-m", "pip", "install", "--no-deps", "--no-index", "--no-build-isolation", "--ignore-installed",
          "-q", *what], cwd=cwd)


def _imported(python: Path, cwd: Path) -> dict:
    probe = ("import json, gradscope, gradscope.bundled as bundled; "
             "print(json.dumps({'module': gradscope.__file__, 'folder': str(bundled.resources_folder()), "
             "'sonnets': str(bundled.resource_path('sonnets.txt'))}))")
    return json.loads(_run([python, "-c", probe], cwd=cwd))


def test_the_wheel_carries_the_resources_but_not_the_screenshots(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    assert "gradscope/resources/__init__.py" in names and "gradscope/resources/sonnets.txt" in names
    for data in ("digits.csv.gz", "digits.LICENSE.txt", "mnist_5k.csv.gz", "mnist_5k.LICENSE.txt"):
        assert f"gradscope/resources/images/{data}" in names     # the image sets and their licences
    assert not [name for name in names if "screenshots" in name or "__pycache__" in name]
    assert any(name.endswith(".dist-info/licenses/LICENSE") for name in names)
    shipped = {name.removeprefix("gradscope/resources/") for name in names if name.startswith("gradscope/resources/")}
    on_disk = {path.relative_to(REPO / "resources").as_posix() for path in (REPO / "resources").rglob("*")
               if path.is_file() and "screenshots" not in path.parts and "__pycache__" not in path.parts}
    assert shipped == on_disk          # everything in resources/ but the screenshots, subfolders too


def test_a_wheel_installed_elsewhere_records_a_char_lm_run_on_its_own_sonnets(wheel, tmp_path):
    python, site = _fresh_environment(tmp_path / "env")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    _pip_install(python, wheel, cwd=elsewhere)

    found = _imported(python, elsewhere)
    assert Path(found["module"]).is_relative_to(site), found      # the wheel's gradscope, not the checkout's
    assert Path(found["folder"]) == site / "gradscope" / "resources" and Path(found["sonnets"]).is_file()
    gradscope = tmp_path / "env" / "bin" / "gradscope"
    assert _run([gradscope, "--version"], cwd=elsewhere).strip() == f"gradscope {__version__}"
    image_sets = "from gradscope.tasks.images import load_digits as d, load_mnist as m; print(len(d()), len(m()))"
    assert _run([python, "-c", image_sets], cwd=elsewhere).split() == ["1797", "5000"]    # the wheel's own files

    summary = json.loads(_run([gradscope, *SMALL_CHARLM, "-o", "sonnets.gscope", "--json"], cwd=elsewhere))
    assert summary["steps"] == 3 and summary["state"] == "finished", summary
    with open_session(elsewhere / "sonnets.gscope") as session:
        (run,) = session.runs
        assert run.config.task == "charlm" and run.config.text is None      # the bundled text
        assert list(run.steps) == [0, 1, 2]


def test_an_editable_install_reads_the_resources_in_their_place(source, tmp_path):
    python, site = _fresh_environment(tmp_path / "env")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    _pip_install(python, "-e", source, cwd=elsewhere)

    found = _imported(python, elsewhere)
    assert Path(found["module"]) == source / "gradscope" / "__init__.py", found
    # through the package the install maps, not the fallback for a checkout on sys.path
    where = _run([python, "-c", "import importlib.resources as r; print(r.files('gradscope.resources'))"],
                 cwd=elsewhere).strip()
    assert Path(where) == Path(found["folder"]) == source / "resources"
    assert Path(found["sonnets"]) == source / "resources" / "sonnets.txt"
