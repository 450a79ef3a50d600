"""Small widgets of the paint window, each with one job and a signal for what the artist chose.

They know nothing of the document: the window shows them the state (``show_*``, ``set_state``)
and turns their signals into edits. Setting a value from the window never emits the signal that a
user's change does, so showing the selection can never edit it. Also here: how a hint color is
shown on screen (:func:`color_to_qcolor`) and rows of color swatches.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from vscolorize.core.color import lab_to_srgb
from vscolorize.core.errors import HintError
from vscolorize.core.hints import Color, Keyframe

__all__ = [
    "HINT_SHOWN_L",
    "ColorEntry",
    "CompareBar",
    "GamutPlane",
    "HintList",
    "KeyframeBar",
    "SizeControl",
    "color_to_qcolor",
    "fill_swatches",
    "gamut_plane",
    "hint_rows",
    "parse_color",
    "qcolor_to_color",
    "wipe",
]

HINT_SHOWN_L = 65.0  # hint colors are drawn at this lightness in markers, swatches and lists

SIZE_RANGE = (0.001, 0.2)  # hint sizes offered: fractions of the frame's shorter side
_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)"
_LAB = re.compile(rf"\s*({_NUMBER})[\s,;]+({_NUMBER})[\s,;]+({_NUMBER})\s*")
_ERROR_STYLE = "QLineEdit { border: 1px solid #d04040; }"


def parse_color(text: str) -> tuple[Color, float | None]:
    """A typed color: ``#rrggbb`` (sRGB, the ``#`` optional) or ``L a b`` (CIE L*a*b*, spaces
    or commas between). Returns the color and the lightness typed (None for hex); hints keep only
    a*b*, the frame gives the lightness. Raises ValueError with a one-line reason."""
    text = text.strip()
    if re.fullmatch(r"#?[0-9a-fA-F]{6}", text):
        return Color.from_rgb("#" + text.lstrip("#").lower()), None
    match = _LAB.fullmatch(text)
    if match is None:
        raise ValueError(f"{text!r}: type #rrggbb or three numbers 'L a b'")
    lightness, a, b = (float(v) for v in match.groups())
    if not 0 <= lightness <= 100:
        raise ValueError(f"{text!r}: L* {lightness:g} is outside [0, 100]")
    try:
        return Color.from_ab(a, b), lightness
    except HintError as e:
        raise ValueError(f"{text!r}: a*b* ({a:g}, {b:g}) are outside [-128, 127]") from e


class ColorEntry(QtWidgets.QLineEdit):
    """A color typed as hex or L*a*b*; Enter applies it like any other color choice."""

    chosen = QtCore.Signal(object, object)  # Color, the lightness typed (float) or None
    refused = QtCore.Signal(str)  # why the text is not a color

    def __init__(self) -> None:
        super().__init__()
        self.setPlaceholderText("#rrggbb or L a b")
        self.setToolTip("a hint color: sRGB hex (#6b8e3a) or CIE L*a*b* (50 -20 35); Enter applies")
        self.setMaximumWidth(180)
        self.returnPressed.connect(self._apply)
        self.textEdited.connect(lambda _: self.setStyleSheet(""))

    def _apply(self) -> None:
        try:
            color, lightness = parse_color(self.text())
        except ValueError as e:
            self.setStyleSheet(_ERROR_STYLE)
            self.refused.emit(str(e))
            return
        self.setStyleSheet("")
        self.chosen.emit(color, lightness)

    def show_color(self, color: Color, lightness: float) -> None:
        """Show the current color as it was given: hex when it came as hex, else L*a*b*."""
        if self.hasFocus() and self.isModified():
            return  # the artist is typing: keep it
        a, b = color.ab
        self.setText(color.rgb or f"{lightness:.0f} {a:.1f} {b:.1f}")
        self.setModified(False)
        self.setStyleSheet("")


class SizeControl(QtWidgets.QDoubleSpinBox):
    """A hint's size: a point's diameter or a stroke's width, as a fraction of the frame's
    shorter side. ``chosen`` fires on the artist's changes only (arrows, wheel, Enter)."""

    chosen = QtCore.Signal(float)

    def __init__(self, value: float) -> None:
        super().__init__()
        self.setDecimals(3)
        self.setRange(*SIZE_RANGE)
        self.setSingleStep(0.002)
        self.setKeyboardTracking(False)  # typing "0.05" is one change, not three
        self.setToolTip("size of the selected hint and of the next (fraction of the short side)")
        self.setValue(value)
        self._showing = False
        self.valueChanged.connect(self._changed)

    def _changed(self, value: float) -> None:
        if not self._showing:
            self.chosen.emit(value)

    def show_size(self, value: float) -> None:
        self._showing = True
        try:
            self.setValue(value)
        finally:
            self._showing = False


def hint_rows(keyframe: Keyframe | None, own: bool) -> list[tuple[str, int, Color, str, float]]:
    """The rows of ``keyframe``'s hints: (kind, index, color, frame, size), points first, each
    in painting order (their indices in the keyframe). A carried hint's frame is the keyframe it
    came from, marked "carried" (or "stand-in": shown beside what covers it) with its
    confidence."""
    if keyframe is None:
        return []

    def frame_of(extra: Mapping[str, Any]) -> str:
        source = extra.get("propagated_from")
        if own or source is None:
            return str(keyframe.frame)
        how = "stand-in" if extra.get("stand_in") else "carried"
        confidence = extra.get("confidence")
        if isinstance(confidence, int | float):
            return f"{source} ({how}, {round(100 * confidence)} %)"
        return f"{source} ({how})"

    rows: list[tuple[str, int, Color, str, float]] = []
    rows += [("point", i, p.color, frame_of(p.extra), 2 * p.radius) for i, p in enumerate(keyframe.points)]
    rows += [("stroke", i, s.color, frame_of(s.extra), s.width) for i, s in enumerate(keyframe.strokes)]
    return rows


class HintList(QtWidgets.QTreeWidget):
    """The hints of the frame shown, one row each: color swatch, kind, frame, size. Clicking a
    row (or moving to it with the arrows) selects that hint."""

    chosen = QtCore.Signal(object)  # ("point" | "stroke", index), or None

    def __init__(self) -> None:
        super().__init__()
        self.setColumnCount(4)
        self.setHeaderLabels(["color", "kind", "frame", "size"])
        self.setRootIsDecorated(False)
        self.setUniformRowHeights(True)
        self.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.SingleSelection)
        self.setMinimumWidth(250)
        self.header().setSectionResizeMode(QtWidgets.QHeaderView.ResizeMode.ResizeToContents)
        self._showing = False
        self.itemSelectionChanged.connect(self._selection_changed)

    def show_hints(
        self, rows: list[tuple[str, int, QtGui.QColor, str, float]], selected: tuple[str, int] | None
    ) -> None:
        """Rows as (kind, index, shown color, frame, size); ``selected`` highlighted."""
        self._showing = True
        try:
            self.clear()
            for kind, index, color, frame, size in rows:
                swatch = QtGui.QPixmap(14, 14)
                swatch.fill(color)
                item = QtWidgets.QTreeWidgetItem([color.name(), kind, frame, f"{size:.3f}"])
                item.setIcon(0, QtGui.QIcon(swatch))
                item.setData(0, QtCore.Qt.ItemDataRole.UserRole, (kind, index))
                self.addTopLevelItem(item)
                if (kind, index) == selected:
                    item.setSelected(True)
                    self.scrollToItem(item)
        finally:
            self._showing = False

    def hint(self, item: QtWidgets.QTreeWidgetItem) -> tuple[str, int]:
        kind, index = item.data(0, QtCore.Qt.ItemDataRole.UserRole)
        return str(kind), int(index)

    def item_for(self, hint: tuple[str, int]) -> QtWidgets.QTreeWidgetItem | None:
        for i in range(self.topLevelItemCount()):
            item = self.topLevelItem(i)
            if item is not None and self.hint(item) == hint:
                return item
        return None

    def _selection_changed(self) -> None:
        if self._showing:
            return
        items = self.selectedItems()
        self.chosen.emit(self.hint(items[0]) if items else None)


class CompareBar(QtWidgets.QWidget):
    """How the result is compared: a wipe between the result (left of the line) and what it is
    compared with (right of it: the gray frame, or the original color frame when the source has
    color), and whether the hints are drawn over the frame."""

    GRAY, ORIGINAL = "gray", "original"

    wiped = QtCore.Signal(float)  # the share of the width (from the left) showing the result
    against_changed = QtCore.Signal(str)  # GRAY or ORIGINAL: what right of the line shows
    overlay_toggled = QtCore.Signal(bool)

    def __init__(self) -> None:
        super().__init__()
        row = QtWidgets.QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(QtWidgets.QLabel("result"))
        self.wipe = QtWidgets.QSlider(QtCore.Qt.Orientation.Horizontal)
        self.wipe.setRange(0, 100)
        self.wipe.setValue(100)
        self.wipe.setToolTip("wipe: the result left of the line, gray or original right of it")
        self.wipe.valueChanged.connect(lambda v: self.wiped.emit(v / 100))
        row.addWidget(self.wipe, 1)
        self.against_box = QtWidgets.QComboBox()
        self.against_box.addItems([self.GRAY, self.ORIGINAL])
        self.against_box.currentTextChanged.connect(self.against_changed)
        row.addWidget(self.against_box)
        self.set_original_available(False)
        self.overlay = QtWidgets.QCheckBox("show hints")
        self.overlay.setChecked(True)
        self.overlay.setToolTip("draw the hints over the frame (H)")
        self.overlay.toggled.connect(self.overlay_toggled)
        row.addWidget(self.overlay)

    @property
    def share(self) -> float:
        return self.wipe.value() / 100

    @property
    def against(self) -> str:
        """What the wipe compares the result with: :attr:`GRAY` or :attr:`ORIGINAL`."""
        return self.against_box.currentText()

    def set_original_available(self, available: bool) -> None:
        """Offer the original only when the source has color (else back to gray)."""
        model = self.against_box.model()
        item = model.item(1) if isinstance(model, QtGui.QStandardItemModel) else None
        if item is not None:
            item.setEnabled(available)
        if not available and self.against == self.ORIGINAL:
            self.against_box.setCurrentIndex(0)
        self.against_box.setToolTip(
            "right of the wipe: the gray frame or the original color frame"
            if available
            else "right of the wipe: the gray frame (the source has no color to compare with)"
        )


def wipe(result: np.ndarray, against: np.ndarray, share: float) -> np.ndarray:
    """(H, W, 3) uint8: ``result`` in the left ``share`` of the width, ``against`` in the rest:
    the gray frame (``against`` (H, W) L* in [0, 100]) or the original color frame (``against``
    (H, W, 3) uint8 sRGB)."""
    cut = round(result.shape[1] * min(max(share, 0.0), 1.0))
    if cut >= result.shape[1]:
        return result
    out = result.copy()
    if against.ndim == 3:
        out[:, cut:] = against[:, cut:]
    else:
        gray = np.round(np.clip(against[:, cut:], 0, 100) * 2.55).astype(np.uint8)
        out[:, cut:] = gray[..., None]
    return out


def color_to_qcolor(color: Color) -> QtGui.QColor:
    """How a hint color is shown on screen: its a*b* at :data:`HINT_SHOWN_L`."""
    rgb = lab_to_srgb(np.array([[[HINT_SHOWN_L, *color.ab]]], np.float32), gamut="chroma")[0, 0]
    r, g, b = (round(float(v) * 255) for v in rgb)
    return QtGui.QColor(r, g, b)


def qcolor_to_color(q: QtGui.QColor) -> Color:
    return Color.from_rgb(f"#{q.red():02x}{q.green():02x}{q.blue():02x}")


def fill_swatches(row: QtWidgets.QHBoxLayout, colors: list[Color], pick: Callable[[Color], None]) -> None:
    """Replace a row's color buttons with ``colors``; a click calls ``pick`` with its color."""
    while row.count():
        item = row.takeAt(0)
        widget = item.widget() if item is not None else None
        if widget is not None:
            widget.deleteLater()
    for color in colors:
        swatch = QtWidgets.QPushButton()
        swatch.setFixedSize(18, 18)
        swatch.setStyleSheet(f"background: {color_to_qcolor(color).name()}")
        swatch.clicked.connect(partial(pick, color))
        row.addWidget(swatch)


def gamut_plane(lightness: float, size: int = 221) -> tuple[np.ndarray, np.ndarray]:
    """The a*b* plane (a right, b up, -110..110) at ``lightness``: (size, size, 3) uint8 sRGB of
    each color, dark gray where the color does not exist in sRGB, and the (size, size) mask of
    those that do."""
    a = np.linspace(-110, 110, size, dtype=np.float32)
    b = a[::-1]
    lab = np.stack(np.broadcast_arrays(np.float32(lightness), a[None, :], b[:, None]), -1)
    rgb = lab_to_srgb(np.ascontiguousarray(lab), gamut="none")
    shown = ((rgb >= 0) & (rgb <= 1)).all(-1)
    image = np.where(shown[..., None], np.round(np.clip(rgb, 0, 1) * 255), 48).astype(np.uint8)
    return image, shown


class GamutPlane(pg.PlotWidget):
    """Picks a hint color from the a*b* plane at a given lightness (only displayable colors)."""

    picked = QtCore.Signal(float, float)

    def __init__(self) -> None:
        super().__init__()
        self.setFixedSize(180, 180)
        self.hideAxis("left")
        self.hideAxis("bottom")
        self.setMouseEnabled(False, False)
        self.item = pg.ImageItem(axisOrder="row-major")
        self.addItem(self.item)
        self.getViewBox().invertY(False)
        self.setRange(QtCore.QRectF(-110, -110, 220, 220), padding=0)
        self.marker = pg.ScatterPlotItem(size=9, brush=None, pen=pg.mkPen("w", width=2))
        self.addItem(self.marker)
        self.shown = np.zeros((221, 221), bool)
        self.lightness = -1.0
        self.scene().sigMouseClicked.connect(self._clicked)

    def show_lightness(self, lightness: float, current: Color) -> None:
        lightness = float(np.clip(lightness, 1, 99))
        if abs(lightness - self.lightness) > 0.5:
            image, self.shown = gamut_plane(lightness)
            self.item.setImage(image[::-1], levels=(0, 255))  # row 0 at b = -110 (bottom)
            self.item.setRect(QtCore.QRectF(-110, -110, 220, 220))  # after the image: it scales it
            self.lightness = lightness
        self.marker.setData([current.ab[0]], [current.ab[1]])

    def _clicked(self, ev: Any) -> None:
        p = self.getViewBox().mapSceneToView(ev.scenePos())
        a, b = float(p.x()), float(p.y())
        col, row = round((a + 110) / 220 * 220), round((110 - b) / 220 * 220)
        if 0 <= row < 221 and 0 <= col < 221 and self.shown[row, col]:
            self.picked.emit(a, b)


class KeyframeBar(QtWidgets.QWidget):
    """The timeline under the frame: keyframes as ticks, suggested keyframes as triangles under
    them (click anywhere to go there)."""

    clicked = QtCore.Signal(int)

    def __init__(self, count: int) -> None:
        super().__init__()
        self.count, self.current = count, 0
        self.frames: tuple[int, ...] = ()
        self.suggested: tuple[int, ...] = ()
        self.setMinimumHeight(14)

    def set_state(self, frames: tuple[int, ...], current: int) -> None:
        self.frames, self.current = frames, current
        self.update()

    def set_suggested(self, frames: tuple[int, ...]) -> None:
        self.suggested = frames
        self.update()

    def _x(self, frame: int) -> float:
        return (frame + 0.5) / max(self.count, 1) * self.width()

    def paintEvent(self, event: QtGui.QPaintEvent) -> None:
        painter = QtGui.QPainter(self)
        painter.fillRect(self.rect(), QtGui.QColor(40, 40, 40))
        painter.setPen(QtGui.QPen(QtGui.QColor(255, 200, 60), 2))
        for frame in self.frames:
            x = int(self._x(frame))
            painter.drawLine(x, 1, x, self.height() - 2)
        painter.setPen(QtCore.Qt.PenStyle.NoPen)
        painter.setBrush(QtGui.QColor(0, 230, 255))
        bottom = self.height()
        for frame in self.suggested:
            at = self._x(frame)
            corners = ((0, 7), (-5, 0), (5, 0))
            painter.drawPolygon([QtCore.QPointF(at + dx, bottom - dy) for dx, dy in corners])
        painter.setPen(QtGui.QPen(QtGui.QColor(255, 255, 255), 1))
        x = int(self._x(self.current))
        painter.drawLine(x, 0, x, self.height())
        painter.end()

    def mousePressEvent(self, event: QtGui.QMouseEvent) -> None:
        frame = int(event.position().x() / max(self.width(), 1) * self.count)
        self.clicked.emit(min(max(frame, 0), self.count - 1))
