"""Shared test setup. Qt must be told to draw offscreen before any QApplication exists."""
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

# Probes run in a thread under test: a probe process per trainer would cost about two seconds
# each. tests/training/test_probe_process.py covers the process explicitly.
os.environ.setdefault("GRADSCOPE_PROBE_MODE", "thread")
