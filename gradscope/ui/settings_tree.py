"""The settings' tree: pyqtgraph's `ParameterTree`, less a wrapper that outlives its row.

A QTreeWidget's invisible root row is made by Qt, not by Python, so shiboken (PySide's binding
layer) is never told when Qt deletes that row with its tree. pyqtgraph's `TreeWidget` keeps a
Python wrapper of the row for as long as the tree's Python half lives. Once Qt has deleted the
tree, that wrapper stays registered under the row's freed address until the cycle collector
takes the tree's Python half, and an object Qt makes at that address in the meantime is handed
to Python as the old row. The test suite, which makes and deletes hundreds of windows in one
process, saw both outcomes: `'QTreeWidgetItem' object has no attribute 'children'` inside a
PlotItem's constructor, and segfaults in shiboken's `BindingManager::releaseWrapper` while Qt
deleted a widget. So the tree invalidates the row's wrapper (`shiboken6.invalidate`, which also
unregisters it) as Qt destroys the tree: `destroyed` comes before Qt deletes the tree's model,
and the model deletes the row.

`tests/conftest.py` checks every test for wrappers of this kind left behind."""
from __future__ import annotations

from functools import partial

import shiboken6
from PySide6.QtWidgets import QTreeWidget
from pyqtgraph.parametertree import ParameterTree


class SettingsTree(ParameterTree):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # QTreeWidget's own method: pyqtgraph's override returns its Python stand-in for the row
        root = QTreeWidget.invisibleRootItem(self)
        self.destroyed.connect(partial(_let_go, root))


def _let_go(wrapper, *_destroyed) -> None:
    if shiboken6.isValid(wrapper):
        shiboken6.invalidate(wrapper)
