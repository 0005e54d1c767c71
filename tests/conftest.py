"""Shared test setup. Qt must be told to draw offscreen before any QApplication exists."""
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

# Probes run in a thread under test: a probe process per trainer would cost about two seconds
# each. tests/training/test_probe_process.py covers the process explicitly.
os.environ.setdefault("GRADSCOPE_PROBE_MODE", "thread")


import gc  # noqa: E402
import sys  # noqa: E402
import threading  # noqa: E402

import pytest  # noqa: E402
import torch  # noqa: E402


@pytest.fixture(autouse=True)
def _one_torch_thread():
    """Tiny tensors: a second intra-op thread only adds spin-waiting on a shared machine."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(autouse=True)
def _no_probe_thread_left_behind():
    """A test that leaves a probe thread running has not closed its trainer (napari's rule
    for QThreads, applied to ours)."""
    yield
    for _ in range(50):   # a closing probe thread finishes its current probe first
        alive = [t for t in threading.enumerate() if t.name == "gradscope-probe" and t.is_alive()]
        if not alive:
            return
        alive[0].join(0.1)
    pytest.fail(f"{len(alive)} probe thread(s) still running after the test: close the Trainer")


@pytest.fixture(scope="session")
def qapp():
    """pytest-qt's application, made as the window makes its own (`create_application`), so
    that the first test to take `qtbot` already switches automatic collection to the GUI thread.
    pytest-qt's own `qapp` would make a plain QApplication: the cycles a test leaves (a settings
    tree's Parameter objects, a panel's closures) were then collected by whichever probe or
    writer thread of a later test crossed the threshold first, their C++ destructors ran in
    that thread, and the process died minutes later in an unrelated widget's constructor."""
    from gradscope.ui.app import create_application

    return create_application()


_COLLECTED_OFF_THE_GUI_THREAD: list[str] = []


def _note_collections_off_the_gui_thread(phase: str, info: dict) -> None:
    if phase != "start" or threading.current_thread() is threading.main_thread():
        return
    widgets = sys.modules.get("PySide6.QtWidgets")
    if widgets is not None and widgets.QApplication.instance() is not None:
        _COLLECTED_OFF_THE_GUI_THREAD.append(f"generation {info['generation']} in {threading.current_thread().name}")


gc.callbacks.append(_note_collections_off_the_gui_thread)


@pytest.fixture(autouse=True)
def _garbage_collected_in_the_gui_thread():
    """Once a QApplication exists, automatic collection is off and the GUI thread collects
    (`gradscope.ui.app.collect_garbage_in_this_thread`); a test that never spins the event loop
    gets the same check when it ends, so its cycles are not left to grow. A test fails where a
    collection ran in another thread while a QApplication lived, or where a QApplication was
    made without the GUI-thread collector: either can destroy a Qt object outside its thread."""
    yield
    if "PySide6.QtWidgets" in sys.modules:
        from PySide6.QtWidgets import QApplication

        from gradscope.ui.app import collect_now

        collect_now()
        elsewhere = _COLLECTED_OFF_THE_GUI_THREAD[:]
        _COLLECTED_OFF_THE_GUI_THREAD.clear()
        assert not elsewhere, f"the cycle collector ran outside the GUI thread: {elsewhere}"
        if QApplication.instance() is not None:
            assert not gc.isenabled(), "a QApplication without the GUI-thread collector (use create_application)"


@pytest.fixture(autouse=True)
def _widgets_deleted_whole(request):
    """`qtbot.addWidget` keeps the widget alive to the test's end, then closes it as a QWidget
    and has Qt delete it, its Python half still whole, as the window fixtures delete their
    windows. pytest-qt's own keeps only weak references and calls the widget's `close`:
    - a panel made in a test (panels hold cycles: bound slots, closures) became garbage as the
      test returned, and the GUI thread's collector, run from the events pytest-qt processes
      next, tore its cycles down in no set order: a CI run died inside that collection;
    - pyqtgraph's `PlotWidget.close` clears its scene by hand before Qt deletes it, and a CI
      run died in that `scene().clear()`. `QWidget.close` closes it as Qt does (its close event),
      and the view's deletion takes its scene and items with it."""
    if "qtbot" not in request.fixturenames:
        yield
        return
    from PySide6.QtWidgets import QWidget

    qtbot = request.getfixturevalue("qtbot")
    kept = []

    def add_widget(widget, *, before_close_func=None):
        if not isinstance(widget, QWidget):
            raise TypeError(f"Need to pass a QWidget to addWidget: {widget!r}")
        kept.append((widget, before_close_func))

    qtbot.addWidget = qtbot.add_widget = add_widget
    before = {id(wrapper) for wrapper in _wrappers_of_what_qt_made()}
    yield
    from PySide6.QtCore import QCoreApplication, QEvent
    from shiboken6 import isValid

    for widget, before_close in kept:
        if isValid(widget):           # a window fixture may have deleted its window already
            if before_close is not None:
                before_close(widget)
            QWidget.close(widget)
            widget.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    kept.clear()
    left = sorted(type(wrapper).__name__ for wrapper in _wrappers_of_what_qt_made() if id(wrapper) not in before)
    assert not left, (f"wrappers of objects Qt made, left registered after the test's widgets were deleted: {left}; "
                      "Qt deletes such objects without telling shiboken (see gradscope/ui/settings_tree.py)")


def _wrappers_of_what_qt_made() -> list:
    """The live Python wrappers of the items that Qt made and owns: a tree's root row, a list's,
    a table's or a scene's items, a layout's. These are not QObjects, so nothing tells shiboken
    when Qt deletes one: a wrapper that outlives its item stays registered under a freed
    address, and Qt's next object there is handed to Python as the old item."""
    from PySide6.QtGui import QStandardItem
    from PySide6.QtWidgets import QGraphicsItem, QLayoutItem, QListWidgetItem, QTableWidgetItem, QTreeWidgetItem
    from shiboken6 import createdByPython, getAllValidWrappers, ownedByPython

    kinds = (QTreeWidgetItem, QListWidgetItem, QTableWidgetItem, QStandardItem, QGraphicsItem, QLayoutItem)
    return [wrapper for wrapper in getAllValidWrappers()
            if isinstance(wrapper, kinds) and not createdByPython(wrapper) and not ownedByPython(wrapper)]


@pytest.fixture(autouse=True, scope="session")
def _last_collection():
    """The cycles left at the end, collected while the QApplication still lives (and while
    pytest still holds what Qt prints), not by the interpreter's exit, when a widget's Python
    half may go before its C++ half asks it for a size hint."""
    yield
    gc.collect()
