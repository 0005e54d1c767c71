"""Shared test setup. Qt must be told to draw offscreen before any QApplication exists."""
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
