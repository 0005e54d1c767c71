"""The Qt side of gradscope. Only this package imports PySide6 or pyqtgraph."""
