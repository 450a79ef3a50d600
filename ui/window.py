"""The paint window: a keyframe scribble tool with a live colorized preview (PySide6 + pyqtgraph).

Left: the gray frame, where hints are painted (their colors shown over it as the engine sees
them); right: the colorized preview, zoomed and panned together (wheel, middle drag). Tools: point
(click to place, drag to move, right-click to delete), brush (strokes), eraser. With the point
tool a click on a point or stroke (or on its row in the hint list) selects it: a color chosen then
(gamut plane, color dialog, typed hex or L*a*b*, eyedropper, swatch, suggestion) recolors it, the
size box resizes it, Delete removes it, Escape lets it go. Editing a frame that is not a keyframe
makes it one that starts from the hints carried there: a correction adds to them. Under the views,
a wipe between the result and the gray frame, and a switch for the hint overlay (H). The preview is
computed off the UI thread: small (short side 96) while the mouse moves, at full quality once it
rests. Work is autosaved every few seconds beside the hints file and offered back after a crash.
"""

from __future__ import annotations

import logging
import math
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from vscolorize.core.color import lab_to_srgb, srgb_to_lab
from vscolorize.core.engine import DEFAULT_METHOD, FrameColorizer
from vscolorize.core.errors import ImageError
from vscolorize.core.hints import Color, Hints, Keyframe, load_hints, rasterize
from vscolorize.core.images import read_image
from vscolorize.core.inference import installed_models
from vscolorize.core.propagation import HintCarrier

from .document import HintDocument, NotCarriedYet
from .sources import FrameSource
from .widgets import ColorEntry, CompareBar, HintList, SizeControl, hint_rows, wipe

__all__ = ["PaintWindow", "Tool"]

log = logging.getLogger(__name__)

AUTOSAVE_MS = 5000
PREVIEW_REST_MS = 120  # full-quality preview once the mouse has rested this long
DRAFT_SHORT_SIDE = 96  # while the mouse moves the preview is computed this small
_HINT_SHOWN_L = 65.0  # hint colors are drawn at this lightness in the overlay and swatches
_RECENT = 8
_SUGGEST_SHORT_SIDE = 256  # the model's own working size: suggestions cost one small prediction
_SUGGEST_APART = 6.0  # a*b* distance under which two suggestions count as the same color
_START_L = 50.0  # the gamut plane's lightness until a pixel of the frame is clicked
# offered before any color is used: foliage, sky, skin, wood, brick, sand (sRGB)
_STARTER_PALETTE = ("#6b8e3a", "#7fa7cf", "#d9a184", "#8a5a35", "#a8453a", "#c9b27c")
_SELECTED_PEN = (255, 210, 0)  # the selected hint's highlight


def _fill_swatches(row: QtWidgets.QHBoxLayout, colors: list[Color],
                   pick: Callable[[Color], None]) -> None:  # fmt: skip
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


class Tool:
    POINT, BRUSH, ERASER = "point", "brush", "eraser"


def color_to_qcolor(color: Color) -> QtGui.QColor:
    rgb = lab_to_srgb(np.array([[[_HINT_SHOWN_L, *color.ab]]], np.float32), gamut="chroma")[0, 0]
    r, g, b = (round(float(v) * 255) for v in rgb)
    return QtGui.QColor(r, g, b)


def qcolor_to_color(q: QtGui.QColor) -> Color:
    return Color.from_rgb(f"#{q.red():02x}{q.green():02x}{q.blue():02x}")


def hint_overlay(keyframe: Keyframe | None, lightness: np.ndarray, alpha: int) -> np.ndarray:
    """(H, W, 4) uint8: the hints in their colors at the frame's lightness, clear elsewhere."""
    height, width = lightness.shape
    ab, mask = rasterize(keyframe, height, width)
    rgba = np.zeros((height, width, 4), np.uint8)
    if mask.any():  # only the hinted pixels are converted: a few, even on an HD frame
        lab = np.concatenate([np.clip(lightness[mask], 25, 85)[:, None], ab[mask]], -1)
        rgba[mask, :3] = np.round(lab_to_srgb(lab, gamut="chroma") * 255).astype(np.uint8)
        rgba[mask, 3] = alpha
    return rgba


@dataclass(frozen=True)
class _Job:
    generation: int
    frame: int
    keyframe: Keyframe | None
    lightness: np.ndarray
    draft: bool


class _PreviewSignals(QtCore.QObject):
    done = QtCore.Signal(int, int, bool, object, float)  # generation, frame, draft, rgb, seconds
    suggested = QtCore.Signal(int, object)  # generation, list of Color
    tracked = QtCore.Signal(object, int, object)  # the hints, a frame, its carried hints


def suggest_colors(suggester: FrameColorizer, lightness: np.ndarray, keyframe: Keyframe | None,
                   x: float, y: float) -> list[Color]:  # fmt: skip
    """The learned model's guesses for pixel (x, y): with the frame's other hints, without hints,
    mirrored and at a coarser scale; near-duplicates dropped."""
    height, width = lightness.shape
    scale = min(1.0, _SUGGEST_SHORT_SIDE / min(height, width))
    size = (max(round(width * scale), 16), max(round(height * scale), 16))
    small = cv2.resize(lightness, size, interpolation=cv2.INTER_AREA)
    row = min(int(y * small.shape[0] / height), small.shape[0] - 1)
    col = min(int(x * small.shape[1] / width), small.shape[1] - 1)
    if keyframe is not None:  # leave out the point being asked about
        others = tuple(p for p in keyframe.points
                       if math.dist((p.x * width, p.y * height), (x, y)) > 2)  # fmt: skip
        keyframe = replace(keyframe, points=others)
    coarse = cv2.resize(small, (max(small.shape[1] // 2, 16), max(small.shape[0] // 2, 16)),
                        interpolation=cv2.INTER_AREA)  # fmt: skip
    guesses = [
        suggester.ab(small, keyframe)[row, col],
        suggester.ab(small, None)[row, col],
        suggester.ab(np.ascontiguousarray(small[:, ::-1]), None)[row, -1 - col],
        suggester.ab(coarse, None)[row // 2, col // 2],
    ]
    colors: list[Color] = []
    for a, b in guesses:
        if all(math.dist((a, b), c.ab) > _SUGGEST_APART for c in colors):
            colors.append(Color(ab=(float(a), float(b))))
    return colors


class _PreviewTask(QtCore.QRunnable):
    def __init__(self, job: _Job, colorizer: FrameColorizer, signals: _PreviewSignals) -> None:
        super().__init__()
        self.job, self.colorizer, self.signals = job, colorizer, signals

    def run(self) -> None:
        start = time.perf_counter()
        lightness = self.job.lightness
        if self.job.draft:
            height, width = lightness.shape
            scale = min(1.0, DRAFT_SHORT_SIDE / min(height, width))
            size = (max(round(width * scale), 1), max(round(height * scale), 1))
            lightness = cv2.resize(lightness, size, interpolation=cv2.INTER_AREA)
        try:
            rgb = self.colorizer.rgb(lightness, self.job.keyframe)
        except Exception:  # a preview must never take the window down
            log.exception("preview of frame %d failed", self.job.frame)
            return
        self.signals.done.emit(self.job.generation, self.job.frame, self.job.draft, rgb,
                               time.perf_counter() - start)  # fmt: skip


class _Canvas(pg.ViewBox):
    """The gray frame's view: left button goes to the current tool, middle drag pans."""

    def __init__(self, window: PaintWindow) -> None:
        super().__init__(lockAspect=True, invertY=True, enableMenu=False)
        self.window = window

    def _image_pos(self, ev: Any) -> tuple[float, float]:
        p = self.mapSceneToView(ev.scenePos())
        return float(p.x()), float(p.y())

    def mouseClickEvent(self, ev: Any) -> None:
        if ev.button() == QtCore.Qt.MouseButton.LeftButton:
            ev.accept()
            self.window.click(*self._image_pos(ev))
        elif ev.button() == QtCore.Qt.MouseButton.RightButton:
            ev.accept()
            self.window.right_click(*self._image_pos(ev))
        else:
            super().mouseClickEvent(ev)

    def mouseDragEvent(self, ev: Any, axis: Any = None) -> None:
        if ev.button() != QtCore.Qt.MouseButton.LeftButton:
            super().mouseDragEvent(ev, axis)  # middle drag pans
            return
        ev.accept()
        x, y = self._image_pos(ev)
        if ev.isStart():
            p = self.mapSceneToView(ev.buttonDownScenePos())
            self.window.drag_start(float(p.x()), float(p.y()))
        self.window.drag_move(x, y)
        if ev.isFinish():
            self.window.drag_end(x, y)


class _Marks(pg.ScatterPlotItem):
    """Markers that leave clicks to the canvas under them (a click there selects the hint)."""

    def mouseClickEvent(self, ev: Any) -> None:
        ev.ignore()


class _Preview(pg.ViewBox):
    """The colorized preview, or a reference picture: a click there is an eyedropper."""

    def __init__(self, window: PaintWindow, *, reference: bool = False) -> None:
        super().__init__(lockAspect=True, invertY=True, enableMenu=False)
        self.window = window
        self.reference = reference

    def mouseClickEvent(self, ev: Any) -> None:
        if ev.button() != QtCore.Qt.MouseButton.LeftButton:
            super().mouseClickEvent(ev)
            return
        ev.accept()
        p = self.mapSceneToView(ev.scenePos())
        pick = self.window.pick_from_reference if self.reference else self.window.pick_from_preview
        pick(float(p.x()), float(p.y()))


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


class _GamutPlane(pg.PlotWidget):
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


class _KeyframeBar(QtWidgets.QWidget):
    """The timeline under the frame: keyframes as ticks (click one to go there)."""

    clicked = QtCore.Signal(int)

    def __init__(self, count: int) -> None:
        super().__init__()
        self.count, self.current = count, 0
        self.frames: tuple[int, ...] = ()
        self.setMinimumHeight(14)

    def set_state(self, frames: tuple[int, ...], current: int) -> None:
        self.frames, self.current = frames, current
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
        painter.setPen(QtGui.QPen(QtGui.QColor(255, 255, 255), 1))
        x = int(self._x(self.current))
        painter.drawLine(x, 0, x, self.height())
        painter.end()

    def mousePressEvent(self, event: QtGui.QMouseEvent) -> None:
        frame = int(event.position().x() / max(self.width(), 1) * self.count)
        self.clicked.emit(min(max(frame, 0), self.count - 1))


# carried hints of this many frames are kept between edits (they are tracked again when needed)
_KEEP_CARRIED = 2000


class PaintWindow(QtWidgets.QMainWindow):
    """The paint window on ``source`` with hints from (and saved to) ``hints_path``.

    Args:
        recover: what to do with autosaved work found for ``hints_path``: ``"ask"`` (a dialog),
            ``"yes"`` or ``"no"``.
        propagated: hints carried from the keyframes to other frames (shown faintly, tracked
            off the UI thread, on demand, shot by shot), or None.
        method, device, engine: the preview's colorizer (``engine``: ``model``,
            ``postprocess``, ``ensemble``, ``ensemble_mode``, as ``FrameColorizer`` takes them).
    """

    def __init__(
        self,
        source: FrameSource,
        hints_path: str | os.PathLike[str] | None = None,
        *,
        method: str = DEFAULT_METHOD,
        device: str | None = None,
        recover: str = "ask",
        propagated: HintCarrier | None = None,
        **engine: Any,
    ) -> None:
        super().__init__()
        self.source = source
        self.colorizer = FrameColorizer(caller="paint", method=method, device=device, **engine)
        path = Path(hints_path) if hints_path is not None else None
        hints = load_hints(path) if path is not None and path.is_file() else None
        self.doc = HintDocument(source.width, source.height, hints, path)
        self.doc.carried = self._carried_to  # an edited non-keyframe starts from these
        self.frame = 0
        self.tool = Tool.POINT
        self.color = Color(ab=(0.0, 0.0))  # neutral: a first click must not tint the frame
        self.recent = [Color.from_rgb(rgb) for rgb in _STARTER_PALETTE]
        # the hint that colors are applied to: ("point" | "stroke", index) on the frame shown
        self.selected: tuple[str, int] | None = None
        self.width_fraction = 0.01
        self._propagate = propagated
        self._suggester = (
            FrameColorizer(caller="paint", method="model", device=device)
            if installed_models()
            else None
        )
        self.suggestions: list[Color] = []
        self._last_point: tuple[int, int] | None = None
        # carried hints of the frames seen since the last edit (bounded: reset by every edit)
        self._carried: dict[int, Keyframe | None] = {}
        self._carried_from: Hints | None = None
        self._dragging: int | None = None
        self._stroke: list[tuple[float, float]] = []
        self._generation = 0
        self._lightness_cache: tuple[int, np.ndarray] | None = None
        self.preview_seconds: list[tuple[bool, float]] = []
        self._pool = QtCore.QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._signals = _PreviewSignals()
        self._signals.done.connect(self._show_preview)
        self._signals.suggested.connect(self._show_suggestions)
        self._signals.tracked.connect(self._show_tracked)
        self._track_pool = QtCore.QThreadPool(self)
        self._track_pool.setMaxThreadCount(1)
        self._tracking: tuple[Hints, int] | None = None
        self._suggest_pool = QtCore.QThreadPool(self)
        self._suggest_pool.setMaxThreadCount(1)
        self._suggest_generation = 0
        self._build()
        self._offer_recovery(recover)
        self._autosave = QtCore.QTimer(self)
        self._autosave.setInterval(AUTOSAVE_MS)
        self._autosave.timeout.connect(self.doc.autosave)
        self._autosave.start()
        self._rest = QtCore.QTimer(self)
        self._rest.setSingleShot(True)
        self._rest.setInterval(PREVIEW_REST_MS)
        self._rest.timeout.connect(lambda: self.request_preview(draft=False))
        self.go_to(0)

    # --- building ---------------------------------------------------------------------------

    def _build(self) -> None:
        self.setWindowTitle(f"vscolorize paint: {self.doc.path or 'untitled'}")
        view = self.view = pg.GraphicsLayoutWidget()
        view.setFocusPolicy(QtCore.Qt.FocusPolicy.StrongFocus)
        self.canvas = _Canvas(self)
        self.preview_view = _Preview(self)
        names = ("hints", "result", "reference")
        self.view_labels = {name: view.addLabel(name, row=0, col=i) for i, name in enumerate(names)}
        view.addItem(self.canvas, row=1, col=0)
        view.addItem(self.preview_view, row=1, col=1)
        self.reference_view = _Preview(self, reference=True)
        self.reference_item = pg.ImageItem(axisOrder="row-major")
        self.reference_view.addItem(self.reference_item)
        view.addItem(self.reference_view, row=1, col=2)
        self.reference_view.setVisible(False)
        self.view_labels["reference"].setVisible(False)
        self.preview_view.setXLink(self.canvas)
        self.preview_view.setYLink(self.canvas)
        self.gray_item = pg.ImageItem(axisOrder="row-major")
        self.overlay_item = pg.ImageItem(axisOrder="row-major")
        self.preview_item = pg.ImageItem(axisOrder="row-major")
        self.canvas.addItem(self.gray_item)
        self.canvas.addItem(self.overlay_item)
        self.preview_view.addItem(self.preview_item)
        self._result: np.ndarray | None = None  # the latest preview, before the wipe
        self.wipe_line = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen("w", width=1))
        self.wipe_line.setVisible(False)
        self.preview_view.addItem(self.wipe_line)
        # a point: a disc of its own color in a light ring in a dark ring, seen on any picture
        self.marks_outline = _Marks(pxMode=True, size=15, brush=None,
                                                pen=pg.mkPen(0, 0, 0, 230, width=2))  # fmt: skip
        self.marks = _Marks(pxMode=True, size=12, pen=pg.mkPen("w", width=1.5))
        self.selected_ring = _Marks(pxMode=True, size=22, brush=None,
                                                pen=pg.mkPen(_SELECTED_PEN, width=2.5))  # fmt: skip
        self.selected_path = pg.PlotDataItem(pen=pg.mkPen(_SELECTED_PEN, width=2.5))
        for item in (self.marks_outline, self.marks, self.selected_ring, self.selected_path):
            self.canvas.addItem(item)
        # says why the preview is gray when it is (no hints here, or not carried here yet)
        self.notice = pg.TextItem(color="w", fill=pg.mkBrush(0, 0, 0, 170), anchor=(0, 0))
        self.notice.setParentItem(self.preview_view)  # in the view's corner, whatever the zoom
        self.notice.setPos(6, 6)

        self.slider = QtWidgets.QSlider(QtCore.Qt.Orientation.Horizontal)
        self.slider.setRange(0, self.source.count - 1)
        self.slider.valueChanged.connect(self.go_to)
        self.spin = QtWidgets.QSpinBox()
        self.spin.setRange(0, self.source.count - 1)
        self.spin.valueChanged.connect(self.go_to)
        self.bar = _KeyframeBar(self.source.count)
        self.bar.clicked.connect(self.go_to)
        self.keyframe_box = QtWidgets.QCheckBox("keyframe")
        self.keyframe_box.toggled.connect(self._keyframe_toggled)

        tools = QtWidgets.QButtonGroup(self)
        tool_row = QtWidgets.QHBoxLayout()
        for name in (Tool.POINT, Tool.BRUSH, Tool.ERASER):
            button = QtWidgets.QRadioButton(name)
            button.setChecked(name == self.tool)
            button.toggled.connect(partial(self._tool_toggled, name))
            tools.addButton(button)
            tool_row.addWidget(button)
        self.size_spin = SizeControl(self.width_fraction)
        self.size_spin.chosen.connect(self.set_size)
        tool_row.addWidget(QtWidgets.QLabel("size"))
        tool_row.addWidget(self.size_spin)
        self.gamut = _GamutPlane()
        self.gamut.picked.connect(lambda a, b: self.set_color(Color(ab=(a, b))))
        self.color_button = QtWidgets.QPushButton("color...")
        self.color_button.clicked.connect(self.pick_color)
        tool_row.addWidget(self.color_button)
        reference_button = QtWidgets.QPushButton("reference...")
        reference_button.clicked.connect(lambda: self.open_reference())
        tool_row.addWidget(reference_button)
        self.palette_row = QtWidgets.QHBoxLayout()
        _fill_swatches(self.palette_row, self.recent, self.set_color)
        tool_row.addLayout(self.palette_row)
        tool_row.addWidget(QtWidgets.QLabel("suggested:" if self._suggester else ""))
        self.suggest_row = QtWidgets.QHBoxLayout()
        tool_row.addLayout(self.suggest_row)
        tool_row.addStretch(1)
        self.status = QtWidgets.QLabel()
        tool_row.addWidget(self.status)

        nav = QtWidgets.QHBoxLayout()
        nav.addWidget(self.slider, 1)
        nav.addWidget(self.spin)
        nav.addWidget(self.keyframe_box)
        central = QtWidgets.QWidget()
        layout = QtWidgets.QVBoxLayout(central)
        layout.addLayout(tool_row)
        middle = QtWidgets.QHBoxLayout()
        middle.addWidget(view, 1)
        side = QtWidgets.QVBoxLayout()
        self.gamut_label = QtWidgets.QLabel()
        side.addWidget(self.gamut_label)
        side.addWidget(self.gamut)
        self.color_entry = ColorEntry()
        self.color_entry.chosen.connect(self._typed_color)
        self.color_entry.refused.connect(self.say)
        side.addWidget(self.color_entry)
        self.hint_list = HintList()
        self.hint_list.chosen.connect(self.select)
        side.addWidget(self.hint_list, 1)
        middle.addLayout(side)
        layout.addLayout(middle, 1)
        self.compare = CompareBar()
        self.compare.wiped.connect(lambda _: self._show_result())
        self.compare.overlay_toggled.connect(self.show_overlay)
        layout.addWidget(self.compare)
        layout.addWidget(self.bar)
        layout.addLayout(nav)
        self.setCentralWidget(central)
        self.statusBar()  # messages: why an edit was refused, how to undo a removal
        self._update_swatch()
        self._show_gamut(_START_L)  # a plane to pick from before the first click

        self._keys: dict[QtGui.QKeySequence, Callable[[], object]] = {
            QtGui.QKeySequence(keys): action
            for keys, action in {
                "Ctrl+Z": self.undo,
                "Ctrl+Shift+Z": self.redo,
                "Ctrl+S": self.save,
                "Right": lambda: self.go_to(self.frame + 1),
                "Left": lambda: self.go_to(self.frame - 1),
                "PgDown": lambda: self._jump(1),
                "PgUp": lambda: self._jump(-1),
                "Shift+PgDown": lambda: self._jump_cut(1),
                "Shift+PgUp": lambda: self._jump_cut(-1),
                "K": lambda: self.keyframe_box.toggle(),
                "H": lambda: self.compare.overlay.toggle(),
                "P": lambda: self.set_tool(Tool.POINT),
                "B": lambda: self.set_tool(Tool.BRUSH),
                "E": lambda: self.set_tool(Tool.ERASER),
                "Delete": self.delete_selected,
                "Escape": lambda: self.select(None),
            }.items()
        }
        self.resize(1400, 700)

    def _offer_recovery(self, recover: str) -> None:
        if self.doc.path is None:
            return
        recovered = HintDocument.recoverable(self.doc.path)
        if recovered is None:
            return
        if recover == "ask":
            answer = QtWidgets.QMessageBox.question(
                self, "Recover unsaved hints?",
                f"{self.doc.path.name} has unsaved work from an earlier session. Recover it?",
            )  # fmt: skip
            accept = answer == QtWidgets.QMessageBox.StandardButton.Yes
        else:
            accept = recover == "yes"
        if accept:
            self.doc.hints = recovered  # unsaved: Ctrl+S keeps it
        else:
            self.doc.discard_autosave()  # declined: not offered again at every start

    # --- frames -----------------------------------------------------------------------------

    def lightness(self, n: int) -> np.ndarray:
        if self._lightness_cache is None or self._lightness_cache[0] != n:
            self._lightness_cache = (n, self.source.lightness(n))
        return self._lightness_cache[1]

    def go_to(self, n: int) -> None:
        n = min(max(int(n), 0), self.source.count - 1)
        if n != self.frame:
            self.selected = None
        self.frame = n
        for widget in (self.slider, self.spin):
            if widget.value() != n:
                widget.blockSignals(True)
                widget.setValue(n)
                widget.blockSignals(False)
        gray = (np.clip(self.lightness(n), 0, 100) * 2.55).astype(np.uint8)
        self.gray_item.setImage(gray, levels=(0, 255))
        self.refresh()

    def _jump(self, step: int) -> None:
        target = self.doc.next_keyframe(self.frame, step)
        if target is not None:
            self.go_to(target)

    def _jump_cut(self, step: int) -> None:
        """To the next scene cut (the first frame of the next shot), or the one before this
        frame; reads the frames of this shot the first time (cuts are then known)."""
        if self._propagate is None:
            return
        shot = self._propagate.shot(self.frame)
        if step > 0:
            cut = shot.stop if shot.stop < self.source.count else None
        elif self.frame > shot.start:
            cut = shot.start
        else:
            cut = self._propagate.shot(shot.start - 1).start if shot.start > 0 else None
        if cut:  # frame 0 starts the clip, not a cut
            self.go_to(cut)

    def _keyframe_toggled(self, on: bool) -> None:
        """Ticked: the frame becomes a keyframe holding the hints carried to it. Unticked: its
        keyframe goes (undoable), and the frame shows what is carried to it again."""
        with self._editing():
            if on:
                self.doc.mark_keyframe(self.frame)
            elif self.doc.hints.keyframe(self.frame) is not None:
                self.doc.unmark_keyframe(self.frame)
                self.selected = None  # it named one of the hints just removed
                self.say(f"keyframe {self.frame} removed (Ctrl+Z brings it back)")
        self.changed()

    # --- hints ------------------------------------------------------------------------------

    def shown_keyframe(self) -> tuple[Keyframe | None, bool]:
        """The hints of the current frame and whether they are the artist's own (else carried
        there from keyframes, when propagation is on)."""
        own = self.doc.hints.keyframe(self.frame)
        if own is not None or self._propagate is None:
            return own, True
        if self._carried_from is not self.doc.hints or self.frame not in self._carried:
            self._track()  # shown when ready; the status line says so meanwhile
            return None, False
        return self._carried[self.frame], False

    def _carried_to(self, frame: int) -> Keyframe | None:
        """The hints carried to ``frame`` under the current hints, for the document to start an
        edit from (None: none reach it); NotCarriedYet while they are being tracked."""
        if self._propagate is None:
            return None
        if self._carried_from is self.doc.hints and frame in self._carried:
            return self._carried[frame]
        raise NotCarriedYet(frame)

    @contextmanager
    def _editing(self) -> Iterator[None]:
        """Around an edit: one refused because the frame's carried hints are not known yet (it
        would make a keyframe without them) is dropped, and the status bar says so."""
        try:
            yield
        except NotCarriedYet as e:
            self.say(f"not changed: {e}; edit again once they are shown")

    def say(self, message: str) -> None:
        """A line in the status bar for a few seconds."""
        self.statusBar().showMessage(message, 10_000)

    def carried_pending(self) -> bool:
        """Whether the current frame's carried hints are still being tracked."""
        own = self.doc.hints.keyframe(self.frame)
        return (own is None and self._propagate is not None
                and (self._carried_from is not self.doc.hints
                     or self.frame not in self._carried))  # fmt: skip

    def _track(self) -> None:
        """Carry the hints to the current frame off the UI thread (it may read and track the
        frames of its span)."""
        job = (self.doc.hints, self.frame)
        if self._propagate is None or self._tracking == job:
            return
        carrier = self._propagate
        self._tracking = job

        def work() -> None:
            hints, frame = job
            self._signals.tracked.emit(hints, frame, carrier.keyframe(hints, frame))

        self._track_pool.start(work)

    def _show_tracked(self, source: Hints, frame: int, keyframe: Keyframe | None) -> None:
        if self._tracking == (source, frame):
            self._tracking = None
        if source is not self.doc.hints:
            self._track()  # edited meanwhile: again, with the hints as they are now
            return
        if self._carried_from is not source or len(self._carried) > _KEEP_CARRIED:
            self._carried, self._carried_from = {}, source
        self._carried[frame] = keyframe
        if frame == self.frame:
            self.refresh()
        else:
            self._track()  # moved on meanwhile

    def refresh(self) -> None:
        keyframe, own = self.shown_keyframe()
        self.overlay_item.setImage(hint_overlay(keyframe, self.lightness(self.frame),
                                                230 if own else 120))  # fmt: skip
        self._draw_marks(keyframe)
        self._show_hint_list(keyframe, own)
        points = keyframe.points if keyframe else ()
        self.bar.set_state(self.doc.hints.frames, self.frame)
        self.keyframe_box.blockSignals(True)  # the box and the bar tell the same
        self.keyframe_box.setChecked(self.doc.hints.keyframe(self.frame) is not None)
        self.keyframe_box.blockSignals(False)
        marker = "*" if self.doc.modified else ""
        pending = self.carried_pending()
        state = "(tracking hints...) " if pending else ""
        state = state or ("" if own else "(propagated) ")
        self.status.setText(f"frame {self.frame}/{self.source.count - 1}  {len(points)} points "
                            f"{state}{marker}")  # fmt: skip
        if pending:
            notice = "carrying the keyframes' hints to this frame..."
        elif keyframe is None or not (keyframe.points or keyframe.strokes):
            notice = "no hints on this frame" if own else "no hints reach this frame"
        else:
            notice = ""
        self.notice.setText(notice)
        self.notice.setVisible(bool(notice))
        self.request_preview(draft=False)

    def _draw_marks(self, keyframe: Keyframe | None) -> None:
        """The points over the frame, each filled with its color; the selection highlighted."""
        points = keyframe.points if keyframe else ()
        xs = [p.x * self.source.width for p in points]
        ys = [p.y * self.source.height for p in points]
        self.marks_outline.setData(xs, ys)
        self.marks.setData(xs, ys, brush=[pg.mkBrush(color_to_qcolor(p.color)) for p in points])
        kind, index = self.selected or ("", -1)
        strokes = keyframe.strokes if keyframe else ()
        if kind == "point" and index < len(points):
            self.selected_ring.setData([points[index].x * self.source.width],
                                       [points[index].y * self.source.height])  # fmt: skip
        else:
            self.selected_ring.setData([], [])
        if kind == "stroke" and index < len(strokes):
            path = strokes[index].path
            self.selected_path.setData([fx * self.source.width for fx, _ in path],
                                       [fy * self.source.height for _, fy in path])  # fmt: skip
        else:
            self.selected_path.setData([], [])

    def _show_hint_list(self, keyframe: Keyframe | None, own: bool) -> None:
        """The list beside the view, and the size box, for the hints shown and the selection."""
        rows = [(kind, index, color_to_qcolor(color), frame, size)
                for kind, index, color, frame, size in hint_rows(keyframe, own)]  # fmt: skip
        self.hint_list.show_hints(rows, self.selected)
        sizes = {(kind, index): size for kind, index, _, _, size in rows}
        self.size_spin.show_size(sizes.get(self.selected or ("", -1), self.width_fraction))

    def changed(self, *, draft: bool = False) -> None:
        """After an edit (or a new selection): redraw, and a preview (a draft while the mouse
        moves)."""
        if self._carried_from is not self.doc.hints:
            self._carried, self._carried_from = {}, None
        if not draft:
            self.refresh()
            return
        self._redraw_hints_only()
        self.request_preview(draft=True)
        self._rest.start()

    def _redraw_hints_only(self) -> None:
        keyframe, own = self.shown_keyframe()
        self.overlay_item.setImage(hint_overlay(keyframe, self.lightness(self.frame), 230))
        self._draw_marks(keyframe)
        self._show_hint_list(keyframe, own)

    def click(self, x: float, y: float) -> None:
        self.look_at(x, y)
        with self._editing():
            if self.tool == Tool.POINT:  # on a hint: selects it; elsewhere: a new point
                hit = self.hint_at(x, y)
                if hit is None:
                    index = self.doc.add_point(self.frame, x, y, self.color,
                                               radius=self.width_fraction / 2)  # fmt: skip
                    self._used(self.color)
                    self._last_point = (self.frame, index)
                elif hit[0] == "point":
                    self._last_point = (self.frame, hit[1])
                self.selected = hit
                self._suggest_at(x, y)
            elif self.tool == Tool.BRUSH:
                self.doc.add_stroke(self.frame, [(x, y)], self.color, width=self.width_fraction)
                self._used(self.color)
            else:
                self.selected = None
                self.doc.erase(self.frame, x, y, self._eraser_radius())
        self.changed()

    def hint_at(self, x: float, y: float) -> tuple[str, int] | None:
        """The hint under pixel (x, y) of the frame shown (its own, or carried there: an edit
        of that makes the frame a keyframe holding them): a point before a stroke."""
        index = self.doc.point_at(self.frame, x, y)
        if index is not None:
            return "point", index
        index = self.doc.stroke_at(self.frame, x, y)
        return None if index is None else ("stroke", index)

    def select(self, hint: tuple[str, int] | None) -> None:
        """Make ``hint`` (see :meth:`hint_at`) the one colors and sizes apply to, or select
        nothing; the canvas, the hint list and the size box show it."""
        self.selected = hint
        keyframe, own = self.shown_keyframe()
        self._draw_marks(keyframe)
        self._show_hint_list(keyframe, own)

    def delete_selected(self) -> None:
        if self.selected is None:
            return
        kind, index = self.selected
        with self._editing():
            if kind == "point":
                self.doc.delete_point(self.frame, index)
            else:
                self.doc.delete_stroke(self.frame, index)
            self.selected = None
        self.changed()

    def _recolor_selected(self, color: Color) -> None:
        if self.selected is None:
            return
        kind, index = self.selected
        with self._editing():
            if kind == "point":
                self.doc.recolor_point(self.frame, index, color)
            else:
                self.doc.recolor_stroke(self.frame, index, color)
        self.changed()

    def set_size(self, size: float) -> None:
        """The size of the next hint (a point's diameter, a stroke's width; fractions of the
        shorter side) and of the selected one (an edit that undo takes back)."""
        self.width_fraction = size
        if self.selected is None:
            return
        kind, index = self.selected
        with self._editing():
            if kind == "point":
                self.doc.resize_point(self.frame, index, size / 2)
            else:
                self.doc.resize_stroke(self.frame, index, size)
        self.changed()

    def right_click(self, x: float, y: float) -> None:
        index = self.doc.point_at(self.frame, x, y)
        if index is not None:
            with self._editing():
                self.doc.delete_point(self.frame, index)
                self.selected = None
            self.changed()

    def drag_start(self, x: float, y: float) -> None:
        self._dragging = None
        self._stroke = [(x, y)]
        if self.tool == Tool.POINT:
            self._dragging = self.doc.point_at(self.frame, x, y)
            if self._dragging is not None:  # the point being moved is the one selected
                self.selected = ("point", self._dragging)

    def drag_move(self, x: float, y: float) -> None:
        if self.tool == Tool.POINT and self._dragging is not None:
            with self._editing():
                self.doc.move_point(self.frame, self._dragging, x, y)
            self.changed(draft=True)
        elif self.tool == Tool.BRUSH:
            self._stroke.append((x, y))
        elif self.tool == Tool.ERASER:
            self.selected = None
            with self._editing():
                self.doc.erase(self.frame, x, y, self._eraser_radius())
            self.changed(draft=True)

    def drag_end(self, x: float, y: float) -> None:
        if self.tool == Tool.BRUSH and self._stroke:
            with self._editing():
                self.doc.add_stroke(self.frame, self._stroke, self.color,
                                    width=self.width_fraction)  # fmt: skip
                self._used(self.color)
        self._dragging, self._stroke = None, []
        self.changed()

    def _tool_toggled(self, tool: str, on: bool) -> None:
        if on:
            self.set_tool(tool)

    def set_tool(self, tool: str) -> None:
        self.tool = tool

    def _eraser_radius(self) -> float:
        return self.width_fraction * min(self.source.width, self.source.height)

    def undo(self) -> None:
        if self.doc.undo():
            self.selected = None  # it may name a hint that is not there any more
            self.changed()

    def redo(self) -> None:
        if self.doc.redo():
            self.selected = None
            self.changed()

    def save(self) -> Path | None:
        path = self.doc.path
        if path is None:
            name, _ = QtWidgets.QFileDialog.getSaveFileName(
                self, "Save hints", "hints.hints.json", "Hints (*.hints.json *.json)"
            )
            if not name:
                return None
            path = Path(name)
        saved = self.doc.save(path)
        self.setWindowTitle(f"vscolorize paint: {saved}")
        self.refresh()
        return saved

    # --- colors -----------------------------------------------------------------------------

    def pick_color(self) -> None:
        chosen = QtWidgets.QColorDialog.getColor(color_to_qcolor(self.color), self, "Hint color")
        if chosen.isValid():
            self.set_color(qcolor_to_color(chosen))

    def set_color(self, color: Color) -> None:
        """The color of the next hint, and of the selected one (an edit that undo takes back)."""
        self.color = color
        self._update_swatch()
        self._show_gamut(self.gamut.lightness)
        self._recolor_selected(color)

    def look_at(self, x: float, y: float) -> None:
        """The gamut plane shows the colors possible at the lightness under pixel (x, y)."""
        lightness = self.lightness(self.frame)
        row = min(max(int(y), 0), lightness.shape[0] - 1)
        col = min(max(int(x), 0), lightness.shape[1] - 1)
        self._show_gamut(float(lightness[row, col]))

    def _show_gamut(self, lightness: float) -> None:
        self.gamut.show_lightness(lightness, self.color)
        self.gamut_label.setText(f"a*b* at L* {self.gamut.lightness:.0f}")
        self.color_entry.show_color(self.color, self.gamut.lightness)

    def _typed_color(self, color: Color, lightness: float | None) -> None:
        """A color typed in the entry: the gamut plane moves to the lightness typed (if any),
        and the color applies like any other choice."""
        if lightness is not None:
            self._show_gamut(lightness)
        self.set_color(color)

    def pick_from_preview(self, x: float, y: float) -> None:
        """The eyedropper: the preview's color under frame pixel (x, y) becomes the current one
        (the result's, wherever the wipe is)."""
        image = self._result
        if image is not None:
            height, width = image.shape[:2]
            self._pick(image, y * height / self.source.height, x * width / self.source.width)

    def open_reference(self, path: str | os.PathLike[str] | None = None) -> bool:
        """Show a color picture (a reference photo, a costume still) beside the frame; a click on
        it picks its color. Without ``path``, a file dialog asks."""
        if path is None:
            name, _ = QtWidgets.QFileDialog.getOpenFileName(
                self, "Reference picture", "", "Pictures (*.png *.jpg *.jpeg *.tif *.tiff *.webp)"
            )
            if not name:
                return False
            path = name
        try:
            rgb = read_image(path)
        except ImageError as e:
            QtWidgets.QMessageBox.warning(self, "Reference picture", str(e))
            return False
        self.reference_item.setImage(np.round(rgb * 255).astype(np.uint8), levels=(0, 255))
        self.reference_view.setVisible(True)
        self.view_labels["reference"].setVisible(True)
        self.reference_view.autoRange(padding=0)
        return True

    def pick_from_reference(self, x: float, y: float) -> None:
        """The eyedropper on the reference picture, at its pixel (x, y)."""
        image = self.reference_item.image
        if image is not None:
            self._pick(image, y, x)

    def _pick(self, image: np.ndarray, row: float, col: float) -> None:
        r, c = int(row), int(col)
        if 0 <= r < image.shape[0] and 0 <= c < image.shape[1]:
            rgb = image[r, c, :3].astype(np.float32) / 255
            _, a, b = srgb_to_lab(rgb[None, None])[0, 0].tolist()
            self.set_color(Color(ab=(a, b)))

    def _used(self, color: Color) -> None:
        self.recent = [color, *(c for c in self.recent if c != color)][:_RECENT]
        _fill_swatches(self.palette_row, self.recent, self.set_color)

    def suggest(self, x: float, y: float) -> list[Color]:
        """What the learned model thinks belongs at pixel (x, y) of the current frame (see
        :func:`suggest_colors`); empty when no model is installed."""
        if self._suggester is None:
            return []
        return suggest_colors(self._suggester, self.lightness(self.frame),
                              self.doc.hints.keyframe(self.frame), x, y)  # fmt: skip

    def _suggest_at(self, x: float, y: float) -> None:
        """Suggestions for a click, computed off the UI thread; shown when they arrive."""
        if self._suggester is None:
            return
        self._suggest_generation += 1
        generation, suggester = self._suggest_generation, self._suggester
        lightness = self.lightness(self.frame)
        keyframe = self.doc.hints.keyframe(self.frame)

        def work() -> None:
            colors = suggest_colors(suggester, lightness, keyframe, x, y)
            self._signals.suggested.emit(generation, colors)

        self._suggest_pool.clear()
        self._suggest_pool.start(work)

    def _show_suggestions(self, generation: int, colors: list[Color]) -> None:
        if generation == self._suggest_generation:
            self.suggestions = colors
            _fill_swatches(self.suggest_row, colors, self._take_suggestion)

    def _take_suggestion(self, color: Color) -> None:
        """A suggestion recolors the selected hint, else the point last placed (and becomes the
        current color)."""
        self.set_color(color)
        if self.selected is None and self._last_point is not None:
            frame, index = self._last_point
            if index < len(self.doc.keyframe(frame).points):
                with self._editing():
                    self.doc.recolor_point(frame, index, color)
                self.changed()

    def _update_swatch(self) -> None:
        self.color_button.setStyleSheet(f"background: {color_to_qcolor(self.color).name()}")

    # --- preview ----------------------------------------------------------------------------

    def request_preview(self, *, draft: bool) -> None:
        """Colorize the current frame off the UI thread; only the newest result is shown."""
        self._generation += 1
        keyframe, _ = self.shown_keyframe()
        job = _Job(self._generation, self.frame, keyframe, self.lightness(self.frame), draft)
        self._pool.clear()  # a queued, not yet started, older request is useless now
        self._pool.start(_PreviewTask(job, self.colorizer, self._signals))

    def _show_preview(self, generation: int, frame: int, draft: bool, rgb: np.ndarray,
                      seconds: float) -> None:  # fmt: skip
        self.preview_seconds.append((draft, seconds))
        if generation != self._generation or frame != self.frame:
            return
        image = np.round(np.clip(rgb, 0, 1) * 255).astype(np.uint8)
        if draft:
            image = cv2.resize(image, (self.source.width, self.source.height),
                               interpolation=cv2.INTER_LINEAR)  # fmt: skip
        self._result = image
        self._show_result()

    def _show_result(self) -> None:
        """The latest result, wiped to the gray frame right of the compare bar's line."""
        share = self.compare.share
        self.wipe_line.setVisible(share < 1)
        self.wipe_line.setValue(share * self.source.width)
        if self._result is not None:
            shown = wipe(self._result, self.lightness(self.frame), share)
            self.preview_item.setImage(shown, levels=(0, 255))

    def show_overlay(self, on: bool) -> None:
        """Draw the hints (colors, markers, selection) over the frame, or the bare frame."""
        for item in (self.overlay_item, self.marks_outline, self.marks, self.selected_ring,
                     self.selected_path):  # fmt: skip
            item.setVisible(on)

    def wait_for_previews(self, timeout_ms: int = 30_000) -> None:
        """Block until no preview or suggestion is being computed (for tests and scripts)."""
        for pool in (self._pool, self._suggest_pool, self._track_pool):
            pool.waitForDone(timeout_ms)
        QtCore.QCoreApplication.processEvents()

    def keyPressEvent(self, event: QtGui.QKeyEvent) -> None:
        """The window's keys, whichever of its widgets let the key through (the slider and the
        frame number keep their own arrows and digits)."""
        pressed = QtGui.QKeySequence(event.keyCombination())
        action = self._keys.get(pressed)
        if action is None:
            super().keyPressEvent(event)
            return
        event.accept()
        action()

    def showEvent(self, event: QtGui.QShowEvent) -> None:
        super().showEvent(event)
        self.view.setFocus()  # keys (arrows, K, Ctrl+Z, ...) work from the start

    def closeEvent(self, event: QtGui.QCloseEvent) -> None:
        self._autosave.stop()
        self.doc.autosave()
        for pool in (self._pool, self._suggest_pool, self._track_pool):
            pool.clear()
            pool.waitForDone(10_000)
        super().closeEvent(event)
