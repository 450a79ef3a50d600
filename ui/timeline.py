"""The hints' lifetimes under the timeline: a bar per hint of the frame shown, on the keyframe
bar's scale, and the row of lifetime edits for the selected hint. Like ``widgets.py``'s, these
widgets know nothing of the document: the window shows them the state and wires their signals."""

from __future__ import annotations

from PySide6 import QtCore, QtGui, QtWidgets

from vscolorize.core.hints import Lifetime

from .lifetimes import Bar
from .widgets import color_to_qcolor

__all__ = ["LifeBars", "LifeRow", "describe"]

_ROW = 7  # pixels per bar
_WAYS = {"both": "both ways", "forward": "forward only", "backward": "backward only"}


class LifeBars(QtWidgets.QWidget):
    """One bar per hint: the frames it colors, in its color (the selected hint's brighter and
    outlined), its keyframe a white tick; gaps are muted frames, or frames it does not reach."""

    def __init__(self, count: int) -> None:
        super().__init__()
        self.count = count
        self.bars: list[Bar] = []
        self.setFixedHeight(2)

    def set_bars(self, bars: list[Bar]) -> None:
        self.bars = bars
        self.setFixedHeight(max(len(bars) * _ROW, 2))
        self.update()

    def _x(self, frame: float) -> int:
        return round(frame / max(self.count, 1) * self.width())

    def paintEvent(self, event: QtGui.QPaintEvent) -> None:
        painter = QtGui.QPainter(self)
        painter.fillRect(self.rect(), QtGui.QColor(30, 30, 30))
        for row, bar in enumerate(self.bars):
            top = row * _ROW + 1
            color = color_to_qcolor(bar.color)
            color.setAlpha(255 if bar.selected else 150)
            for a, b in bar.spans:
                left, right = self._x(a), self._x(b + 1)
                painter.fillRect(left, top, max(right - left, 1), _ROW - 2, color)
                if bar.selected:
                    painter.setPen(QtGui.QPen(QtGui.QColor(255, 255, 255), 1))
                    painter.drawRect(left, top, max(right - left, 1), _ROW - 3)
            x = self._x(bar.keyframe + 0.5)
            painter.setPen(QtGui.QPen(QtGui.QColor(255, 255, 255), 2))
            painter.drawLine(x, top, x, top + _ROW - 3)
        painter.end()


def describe(life: Lifetime | None) -> str:
    """The selected hint's lifetime in a few words."""
    if life is None:
        return "lifetime: select a hint"
    parts = []
    if life.first is not None or life.last is not None:
        first, last = life.first, life.last
        if first is not None and last is not None:
            parts.append(f"frames {first}-{last}")
        else:
            parts.append(f"from {first}" if first is not None else f"until {last}")
    parts += [f"muted {a}-{b}" if a != b else f"muted {a}" for a, b in life.mute]
    if life.carry != "both":
        parts.append(_WAYS[life.carry])
    return "lifetime: " + (", ".join(parts) if parts else "as far as its keyframe reaches")


class LifeRow(QtWidgets.QWidget):
    """The selected hint's lifetime and its edits: start here ([), end here (]), mute from here
    to a frame (M), unmute, which way it is carried, always."""

    start_here = QtCore.Signal()
    end_here = QtCore.Signal()
    mute_asked = QtCore.Signal()
    unmute = QtCore.Signal()
    carry_chosen = QtCore.Signal(str)
    always = QtCore.Signal()

    def __init__(self) -> None:
        super().__init__()
        row = QtWidgets.QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        self.label = QtWidgets.QLabel(describe(None))
        row.addWidget(self.label, 1)
        self.buttons: dict[str, QtWidgets.QPushButton] = {}
        for name, text, tip, signal in (
            ("start", "start here", "[: the hint colors no frame before this one", self.start_here),
            ("end", "end here", "]: the hint colors no frame after this one", self.end_here),
            ("mute", "mute to...", "M: it colors nothing from here to a frame you choose", self.mute_asked),
            ("unmute", "unmute", "the muted range here colored again (or every one)", self.unmute),
            ("always", "always", "the hint lives as far as its keyframe reaches", self.always),
        ):
            button = QtWidgets.QPushButton(text)
            button.setToolTip(tip)
            button.clicked.connect(signal)
            row.addWidget(button)
            self.buttons[name] = button
        self.carry = QtWidgets.QComboBox()
        for way, text in _WAYS.items():
            self.carry.addItem(text, way)
        self.carry.setToolTip("which way the hint is carried from its keyframe")
        self.carry.activated.connect(lambda i: self.carry_chosen.emit(self.carry.itemData(i)))
        row.addWidget(self.carry)
        self.show_life(None)

    def show_life(self, life: Lifetime | None) -> None:
        self.label.setText(describe(life))
        for widget in (*self.buttons.values(), self.carry):
            widget.setEnabled(life is not None)
        self.carry.blockSignals(True)
        self.carry.setCurrentIndex(list(_WAYS).index(life.carry if life is not None else "both"))
        self.carry.blockSignals(False)
