"""Where the files that ship with gradscope are found: the sonnets now, data and lessons to come.

They live in the repository's top-level `resources/` folder, which the build installs as the
package `gradscope.resources` (pyproject.toml's package-dir): a wheel or `pip install .` puts
them inside the installed package, and an editable install points that package at the folder
itself. `importlib.resources` finds them either way, wherever gradscope was installed; a path
worked out from this file's place would point into site-packages, where an installed gradscope
has no `resources/` beside it.

A checkout put on sys.path without being installed (PYTHONPATH=., or an editable install made
before the mapping existed) has no `gradscope.resources` package: there the folder is read in
its place beside the package's source.
"""
from __future__ import annotations

import importlib.resources
from pathlib import Path, PurePosixPath

PACKAGE = "gradscope.resources"
CHECKOUT_FOLDER = Path(__file__).resolve().parent.parent / "resources"


def resource_path(name: str) -> Path:
    """The bundled file `name`, a path relative to resources/ such as "sonnets.txt". It may not
    exist (a damaged install): the caller says which file is missing and what to do instead."""
    return resources_folder().joinpath(*PurePosixPath(name).parts)


def resources_folder() -> Path:
    try:
        folder = importlib.resources.files(PACKAGE)
    except ModuleNotFoundError:
        return CHECKOUT_FOLDER
    # pip unpacks every wheel onto the file system, so this is a real folder; a zipped install
    # would give a Traversable that plain file reads (and a size check before reading) cannot use
    if not isinstance(folder, Path):
        raise RuntimeError(f"gradscope's bundled files are not in a folder on disk ({folder!r}); "
                           "install gradscope with pip")
    return folder
