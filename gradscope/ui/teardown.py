"""A closing window's pyqtgraph menus, deleted while its scenes still stand.

Every ViewBox holds a context menu (`ViewBoxMenu`) and every PlotItem its "Plot Options" menu
(`ctrlMenu`): parentless QMenus, owned by Python, whose QWidgetActions own widgets of their
own (a PlotItem's QWidgetActions are children of the plot itself). Left to the window's
deletion, each goes in the middle of Qt deleting the scene, and with PySide6 that nested release crashed in
`Shiboken::BindingManager::releaseWrapper` (gdb, in the test suite's window teardown, once in
a few runs). pyqtgraph's own `PlotItem.close` takes its menu out first for the same reason
("PySide trouble whenever scene.clear() leads to deletion of widgets"), but it takes the plot's
view box and axes with it. Here only the menus go, each deleted at once (`shiboken6.delete`)
rather than left to a later collection; the plots stay drawable to the end.
"""
from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtWidgets import QWidgetAction
from shiboken6 import delete, isValid


def delete_plot_menus(views) -> int:
    """Delete the context menus of every plot in these graphics views' scenes; how many went."""
    deleted = 0
    for view in views:
        if not isValid(view) or view.scene() is None:
            continue
        for item in view.scene().items():
            if isinstance(item, pg.ViewBox) and item.menu is not None:
                menu, item.menu = item.menu, None
                item.state["enableMenu"] = False        # (as `ViewBox.setMenuEnabled(False)` leaves it)
                deleted += _delete(menu)
            elif isinstance(item, pg.PlotItem) and getattr(item, "ctrlMenu", None) is not None:
                # the menu's QWidgetActions are the plot's children (`QWidgetAction(self)`),
                # each owning a group of the plot's option widgets: the C++ deletion of the
                # plot took them, and their widgets' Python halves, from inside its destructor
                for action in item.findChildren(QWidgetAction):
                    deleted += _delete(action)
                menu, item.ctrlMenu = item.ctrlMenu, None
                deleted += _delete(menu)
    return deleted


def _delete(menu) -> int:
    if isValid(menu):
        delete(menu)
        return 1
    return 0
