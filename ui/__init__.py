"""The vscolorize paint window (PySide6 + pyqtgraph); the only part of vscolorize that imports Qt."""
