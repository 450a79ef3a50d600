"""The paint window's panels around the views (``canvas.Views``): the tool row above them, the color
panel beside them, the navigation under them; and the window's dialogs.

Each panel builds its widgets (``widgets.py``'s), shows the state it is given
(``show_*``) and reports what the artist did through its signals; none knows the document or the
controller. The window (``window.py``) wires them together.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from PySide6 import QtCore, QtWidgets

from vscolorize.core.hints import Color

from .controller import Tool
from .document import HintDocument
from .timeline import LifeBars, LifeRow
from .widgets import (
    ColorEntry,
    GamutPlane,
    HintList,
    KeyframeBar,
    SizeControl,
    color_to_qcolor,
    fill_swatches,
)

__all__ = ["ColorPanel", "Navigation", "ToolRow", "ask_path", "offer_recovery"]

PICTURE_FILTER = "Pictures (*.png *.jpg *.jpeg *.tif *.tiff *.webp)"
HINTS_FILTER = "Hints (*.hints.json *.json)"


def _bare[L: QtWidgets.QLayout](layout: L) -> L:
    """``layout`` without margins: a panel lines up with the window's other rows."""
    layout.setContentsMargins(0, 0, 0, 0)
    return layout


class ToolRow(QtWidgets.QWidget):
    """The row above the views: tools, size, color dialog, reference, recent colors, the model's
    suggestions and the status line."""

    tool_chosen = QtCore.Signal(str)
    size_chosen = QtCore.Signal(float)
    color_asked = QtCore.Signal()  # the color dialog button
    reference_asked = QtCore.Signal()

    def __init__(self, tool: str, size: float, *, suggesting: bool) -> None:
        super().__init__()
        row = _bare(QtWidgets.QHBoxLayout(self))
        group = QtWidgets.QButtonGroup(self)
        self.tool_buttons: dict[str, QtWidgets.QRadioButton] = {}
        for name in (Tool.POINT, Tool.BRUSH, Tool.ERASER):
            button = self.tool_buttons[name] = QtWidgets.QRadioButton(name)
            button.setChecked(name == tool)
            button.toggled.connect(partial(self._toggled, name))
            group.addButton(button)
            row.addWidget(button)
        self.size_spin = SizeControl(size)
        self.size_spin.chosen.connect(self.size_chosen)
        row.addWidget(QtWidgets.QLabel("size"))
        row.addWidget(self.size_spin)
        self.color_button = QtWidgets.QPushButton("color...")
        self.color_button.clicked.connect(self.color_asked)
        row.addWidget(self.color_button)
        reference_button = QtWidgets.QPushButton("reference...")
        reference_button.clicked.connect(self.reference_asked)
        row.addWidget(reference_button)
        self.palette_row = QtWidgets.QHBoxLayout()
        row.addLayout(self.palette_row)
        row.addWidget(QtWidgets.QLabel("suggested:" if suggesting else ""))
        self.suggest_row = QtWidgets.QHBoxLayout()
        row.addLayout(self.suggest_row)
        self.where_next = QtWidgets.QCheckBox("where next")
        self.where_next.setToolTip("N: rings where the next hint pays most; click one to place a point")
        self.where_next.setVisible(suggesting)  # the learned model ranks the places
        row.addWidget(self.where_next)
        row.addStretch(1)
        self.status = QtWidgets.QLabel()
        row.addWidget(self.status)
        self._palette: list[Color] | None = None

    def _toggled(self, tool: str, on: bool) -> None:
        if on:
            self.tool_chosen.emit(tool)

    def show_tool(self, tool: str) -> None:
        button = self.tool_buttons[tool]
        if not button.isChecked():
            button.blockSignals(True)
            button.setChecked(True)  # the group unticks the others
            button.blockSignals(False)

    def show_color(self, color: Color) -> None:
        self.color_button.setStyleSheet(f"background: {color_to_qcolor(color).name()}")

    def show_palette(self, colors: list[Color], pick: Callable[[Color], None]) -> None:
        """The recent colors' swatches, rebuilt only when they changed."""
        if colors != self._palette:
            self._palette = list(colors)
            fill_swatches(self.palette_row, colors, pick)

    def show_suggestions(self, colors: list[Color], pick: Callable[[Color], None]) -> None:
        fill_swatches(self.suggest_row, colors, pick)


class ColorPanel(QtWidgets.QWidget):
    """Beside the views: the gamut plane at a lightness, the color typed, the hint list.
    ``color_chosen`` says a color picked on the plane or typed (the plane moves to the lightness
    typed, if any)."""

    color_chosen = QtCore.Signal(object)  # a Color

    def __init__(self) -> None:
        super().__init__()
        side = _bare(QtWidgets.QVBoxLayout(self))
        self.gamut_label = QtWidgets.QLabel()
        side.addWidget(self.gamut_label)
        self.gamut = GamutPlane()
        self.gamut.picked.connect(lambda a, b: self.color_chosen.emit(Color(ab=(a, b))))
        side.addWidget(self.gamut)
        self.color_entry = ColorEntry()
        self.color_entry.chosen.connect(self._typed)
        side.addWidget(self.color_entry)
        self.hint_list = HintList()
        side.addWidget(self.hint_list, 1)

    def _typed(self, color: Color, lightness: float | None) -> None:
        if lightness is not None:
            self.gamut.show_lightness(lightness, color)
        self.color_chosen.emit(color)

    def show_color(self, color: Color, lightness: float | None = None) -> None:
        """``color`` on the gamut plane at ``lightness`` (None: the lightness shown now)."""
        self.gamut.show_lightness(self.gamut.lightness if lightness is None else lightness, color)
        self.gamut_label.setText(f"a*b* at L* {self.gamut.lightness:.0f}")
        self.color_entry.show_color(color, self.gamut.lightness)


class Navigation(QtWidgets.QWidget):
    """Under the views: the keyframe bar, the hints' lifetime bars, the frame slider and number,
    the keyframe box, and the selected hint's lifetime edits."""

    frame_chosen = QtCore.Signal(int)
    keyframe_toggled = QtCore.Signal(bool)

    def __init__(self, count: int) -> None:
        super().__init__()
        self.bar = KeyframeBar(count)
        self.bar.clicked.connect(self.frame_chosen)
        self.life_bars = LifeBars(count)
        self.life_row = LifeRow()
        self.slider = QtWidgets.QSlider(QtCore.Qt.Orientation.Horizontal)
        self.spin = QtWidgets.QSpinBox()
        for widget in (self.slider, self.spin):
            widget.setRange(0, count - 1)
            widget.valueChanged.connect(self.frame_chosen)
        self.keyframe_box = QtWidgets.QCheckBox("keyframe")
        self.keyframe_box.toggled.connect(self.keyframe_toggled)
        self.suggest_button = QtWidgets.QPushButton("suggest keyframes")
        self.suggest_button.setToolTip("mark the shot's frames where a keyframe pays most (J: the next)")
        nav = QtWidgets.QHBoxLayout()
        nav.addWidget(self.slider, 1)
        nav.addWidget(self.spin)
        nav.addWidget(self.keyframe_box)
        nav.addWidget(self.suggest_button)
        rows = _bare(QtWidgets.QVBoxLayout(self))
        rows.addWidget(self.bar)
        rows.addWidget(self.life_bars)
        rows.addLayout(nav)
        rows.addWidget(self.life_row)

    def show_frame(self, n: int) -> None:
        for widget in (self.slider, self.spin):
            if widget.value() != n:
                widget.blockSignals(True)
                widget.setValue(n)
                widget.blockSignals(False)

    def show_keyframes(self, frames: tuple[int, ...], current: int, is_keyframe: bool) -> None:
        """The keyframes on the bar and whether the frame shown is one (the box and the bar tell
        the same)."""
        self.bar.set_state(frames, current)
        self.keyframe_box.blockSignals(True)
        self.keyframe_box.setChecked(is_keyframe)
        self.keyframe_box.blockSignals(False)


def ask_path(parent: QtWidgets.QWidget, title: str, *, save: str | None = None) -> str | None:
    """A file dialog: a reference picture to open, or (``save``: the name offered) where to save
    hints; None when cancelled."""
    if save is None:
        name, _ = QtWidgets.QFileDialog.getOpenFileName(parent, title, "", PICTURE_FILTER)
    else:
        name, _ = QtWidgets.QFileDialog.getSaveFileName(parent, title, save, HINTS_FILTER)
    return name or None


def offer_recovery(parent: QtWidgets.QWidget, doc: HintDocument, recover: str) -> None:
    """Work autosaved for ``doc``'s file and never saved: taken back into ``doc`` (unsaved, Ctrl+S
    keeps it) or removed (not offered again at every start), as ``recover`` says: ``"yes"``,
    ``"no"`` or ``"ask"`` (a dialog)."""
    recovered = HintDocument.recoverable(doc.path) if doc.path is not None else None
    if recovered is None or doc.path is None:
        return
    if recover == "ask":
        answer = QtWidgets.QMessageBox.question(
            parent,
            "Recover unsaved hints?",
            f"{doc.path.name} has unsaved work from an earlier session. Recover it?",
        )
        recover = "yes" if answer == QtWidgets.QMessageBox.StandardButton.Yes else "no"
    if recover == "yes":
        doc.hints = recovered
    else:
        doc.discard_autosave()
