"""gradscope: a desktop microscope for the gradients of small neural networks.

The engine (everything here except `gradscope.ui`) imports no Qt.
"""
__version__ = "0.1.0"


def load_session(path):
    """Open a `.gscope` session file read-only: `.runs`, each with `.config`, `.events`,
    `.steps`, `.series(name)`, `.probe_batch` and `.checkpoint(step)`."""
    from gradscope.session import load_session as _load

    return _load(path)
