"""The vscolorize paint window (PySide6 + pyqtgraph): the only part that imports Qt."""
