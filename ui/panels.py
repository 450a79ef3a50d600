"""The paint window's panels: the views, the tool row above them, the color panel beside them and
the navigation under them.

Each panel builds its widgets (``widgets.py``'s and ``canvas.py``'s), shows the state it is given
(``show_*``) and reports what the artist did through its signals; none knows the document or the
controller. The window (``window.py``) wires them together.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from vscolorize.core.color import srgb_to_lab
from vscolorize.core.hints import Color

from .canvas import HintCanvas, HintLayer, PictureView
from .controller import Tool
from .widgets import (
    ColorEntry,
    GamutPlane,
    HintList,
    KeyframeBar,
    SizeControl,
    color_to_qcolor,
    fill_swatches,
    wipe,
)

__all__ = ["ColorPanel", "Navigation", "ToolRow", "Views", "color_at"]

PICTURE_FILTER = "Pictures (*.png *.jpg *.jpeg *.tif *.tiff *.webp)"
HINTS_FILTER = "Hints (*.hints.json *.json)"


def color_at(image: np.ndarray | None, row: float, col: float) -> Color | None:
    """The a*b* of pixel (row, col) of an (H, W, 3+) uint8 sRGB picture; None outside it."""
    if image is None:
        return None
    r, c = int(row), int(col)
    if not (0 <= r < image.shape[0] and 0 <= c < image.shape[1]):
        return None
    rgb = image[r, c, :3].astype(np.float32) / 255
    _, a, b = srgb_to_lab(rgb[None, None])[0, 0].tolist()
    return Color(ab=(a, b))


def _bare(layout: QtWidgets.QLayout) -> QtWidgets.QLayout:
    layout.setContentsMargins(0, 0, 0, 0)
    return layout


class Views(pg.GraphicsLayoutWidget):
    """The labeled views side by side: the gray frame with its hints (:attr:`canvas`), the
    result (:attr:`preview_view`, zoomed and panned with the frame) and a reference picture
    (hidden until one is opened). A click on the result or the reference is an eyedropper
    (``PictureView.picked``)."""

    def __init__(self, width: int, height: int) -> None:
        super().__init__()
        self.frame_width = width
        self.setFocusPolicy(QtCore.Qt.FocusPolicy.StrongFocus)
        names = ("hints", "result", "reference")
        self.labels = {name: self.addLabel(name, row=0, col=i) for i, name in enumerate(names)}
        self.canvas = HintCanvas()
        self.preview_view, self.reference_view = PictureView(), PictureView()
        for i, box in enumerate((self.canvas, self.preview_view, self.reference_view)):
            self.addItem(box, row=1, col=i)
        self.reference_item = pg.ImageItem(axisOrder="row-major")
        self.reference_view.addItem(self.reference_item)
        self.reference_view.setVisible(False)
        self.labels["reference"].setVisible(False)
        self.preview_view.setXLink(self.canvas)
        self.preview_view.setYLink(self.canvas)
        self.gray_item = pg.ImageItem(axisOrder="row-major")
        self.canvas.addItem(self.gray_item)
        self.layer = HintLayer(self.canvas, width, height)
        self.preview_item = pg.ImageItem(axisOrder="row-major")
        self.preview_view.addItem(self.preview_item)
        self.wipe_line = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen("w", width=1))
        self.wipe_line.setVisible(False)
        self.preview_view.addItem(self.wipe_line)
        # says why the preview is gray when it is (no hints here, or not carried here yet)
        self.notice = pg.TextItem(color="w", fill=pg.mkBrush(0, 0, 0, 170), anchor=(0, 0))
        self.notice.setParentItem(self.preview_view)  # in the view's corner, whatever the zoom
        self.notice.setPos(6, 6)

    def show_gray(self, lightness: np.ndarray) -> None:
        """The frame to paint on: (H, W) L* in [0, 100]."""
        gray = (np.clip(lightness, 0, 100) * 2.55).astype(np.uint8)
        self.gray_item.setImage(gray, levels=(0, 255))

    def show_result(self, result: np.ndarray | None, against: np.ndarray, share: float) -> None:
        """The result ((H, W, 3) uint8, or None before the first) in the left ``share`` of the
        width, ``against`` (the gray frame's L*, or the original frame) right of the line."""
        self.wipe_line.setVisible(share < 1)
        self.wipe_line.setValue(share * self.frame_width)
        if result is not None:
            self.preview_item.setImage(wipe(result, against, share), levels=(0, 255))

    def show_notice(self, text: str) -> None:
        self.notice.setText(text)
        self.notice.setVisible(bool(text))

    def show_reference(self, rgb: np.ndarray) -> None:
        """A reference picture ((H, W, 3) uint8 sRGB) beside the result."""
        self.reference_item.setImage(rgb, levels=(0, 255))
        self.reference_view.setVisible(True)
        self.labels["reference"].setVisible(True)
        self.reference_view.autoRange(padding=0)


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
    """Beside the views: the gamut plane at a lightness, the color typed, the hint list."""

    def __init__(self) -> None:
        super().__init__()
        side = _bare(QtWidgets.QVBoxLayout(self))
        self.gamut_label = QtWidgets.QLabel()
        side.addWidget(self.gamut_label)
        self.gamut = GamutPlane()
        side.addWidget(self.gamut)
        self.color_entry = ColorEntry()
        side.addWidget(self.color_entry)
        self.hint_list = HintList()
        side.addWidget(self.hint_list, 1)

    def show_color(self, color: Color, lightness: float | None = None) -> None:
        """``color`` on the gamut plane at ``lightness`` (None: the lightness shown now)."""
        self.gamut.show_lightness(self.gamut.lightness if lightness is None else lightness, color)
        self.gamut_label.setText(f"a*b* at L* {self.gamut.lightness:.0f}")
        self.color_entry.show_color(color, self.gamut.lightness)


class Navigation(QtWidgets.QWidget):
    """Under the views: the keyframe bar, the frame slider and number, the keyframe box."""

    frame_chosen = QtCore.Signal(int)
    keyframe_toggled = QtCore.Signal(bool)

    def __init__(self, count: int) -> None:
        super().__init__()
        self.bar = KeyframeBar(count)
        self.bar.clicked.connect(self.frame_chosen)
        self.slider = QtWidgets.QSlider(QtCore.Qt.Orientation.Horizontal)
        self.spin = QtWidgets.QSpinBox()
        for widget in (self.slider, self.spin):
            widget.setRange(0, count - 1)
            widget.valueChanged.connect(self.frame_chosen)
        self.keyframe_box = QtWidgets.QCheckBox("keyframe")
        self.keyframe_box.toggled.connect(self.keyframe_toggled)
        nav = QtWidgets.QHBoxLayout()
        nav.addWidget(self.slider, 1)
        nav.addWidget(self.spin)
        nav.addWidget(self.keyframe_box)
        rows = _bare(QtWidgets.QVBoxLayout(self))
        rows.addWidget(self.bar)
        rows.addLayout(nav)

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
