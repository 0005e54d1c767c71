"""gradscope: a desktop microscope for the gradients of small neural networks.

The engine (everything here except `gradscope.ui`) imports no Qt.
"""
__version__ = "0.1.0"


_SUBMODULES = ("config", "models", "tasks", "training", "probes", "session", "records")


def __getattr__(name):
    """`gradscope.models` and friends without importing torch for `import gradscope`."""
    if name in _SUBMODULES:
        import importlib

        return importlib.import_module(f"gradscope.{name}")
    raise AttributeError(f"module 'gradscope' has no attribute {name!r}")


def load_session(path):
    """Open a `.gscope` session file read-only: `.runs`, each with `.config`, `.events`,
    `.steps`, `.series(name)`, `.probe_batch` and `.checkpoint(step)`."""
    from gradscope.session import load_session as _load

    return _load(path)
