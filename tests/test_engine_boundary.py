"""The engine imports no Qt (DESIGN.md: only gradscope/ui may)."""
import subprocess
import sys


def test_the_engine_imports_without_qt():
    code = (
        "import sys, importlib\n"
        "for name in ('gradscope', 'gradscope.config', 'gradscope.records', 'gradscope.models', 'gradscope.tasks',\n"
        "             'gradscope.training', 'gradscope.probes', 'gradscope.session', 'gradscope.cli',\n"
        "             'gradscope.commands.record', 'gradscope.bench', 'gradscope.training.remote',\n"
        "             'gradscope.lab', 'gradscope.lab.live', 'gradscope.lab.recorded', 'gradscope.messages',\n"
        "             'gradscope.series', 'gradscope.training.process'):\n"
        "    importlib.import_module(name)\n"
        "qt = sorted(m for m in sys.modules if m.split('.')[0] in ('PySide6', 'pyqtgraph', 'shiboken6', 'PyQt5', 'PyQt6'))\n"
        "print(','.join(qt))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""


def test_the_command_line_starts_without_importing_torch():
    code = "import sys; import gradscope.cli; print('torch' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "False"


def test_the_window_process_never_imports_torch():
    """Training lives in the worker's child process: the GUI's own process paints its first
    frame without paying for torch, and never pays for it later."""
    code = ("import sys; import gradscope.ui.main_window, gradscope.ui.app, gradscope.lab, gradscope.messages; "
            "print('torch' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"
