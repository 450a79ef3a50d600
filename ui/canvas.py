"""The paint window's picture views (pyqtgraph): where the mouse paints and picks colors.

:class:`HintCanvas` shows the gray frame and turns left clicks and drags into signals in frame
pixels (middle drag pans, the wheel zooms); :class:`HintLayer` draws the hints over it (their colors
as the engine sees them, a filled marker per point, the selection highlighted).
:class:`PictureView` shows the result or a reference picture; a click there is an eyedropper.
:class:`Views` puts them side by side, with the bar that compares the result.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import cv2
import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from vscolorize.core.color import lab_to_srgb, srgb_to_lab
from vscolorize.core.errors import ImageError
from vscolorize.core.hints import Color, Keyframe, paint_hints
from vscolorize.core.images import read_image

from .widgets import CompareBar, color_to_qcolor, wipe

__all__ = ["HintCanvas", "HintLayer", "Marks", "PictureView", "Views", "color_at", "hint_overlay"]

SELECTED_PEN = (255, 210, 0)  # the selected hint's highlight


def hint_overlay(keyframe: Keyframe | None, lightness: np.ndarray, alpha: int) -> np.ndarray:
    """(H, W, 4) uint8: the hints in their colors at the frame's lightness, clear elsewhere; a
    carried hint the fainter the less its confidence (``alpha`` at full confidence)."""
    height, width = lightness.shape
    ab, weight = paint_hints(keyframe, height, width)
    mask = weight > 0
    rgba = np.zeros((height, width, 4), np.uint8)
    if mask.any():  # only the hinted pixels are converted: a few, even on an HD frame
        lab = np.concatenate([np.clip(lightness[mask], 25, 85)[:, None], ab[mask]], -1)
        rgba[mask, :3] = np.round(lab_to_srgb(lab, gamut="chroma") * 255).astype(np.uint8)
        rgba[mask, 3] = np.round(alpha * np.sqrt(weight[mask])).astype(np.uint8)
    return rgba


class HintCanvas(pg.ViewBox):
    """The gray frame's view. The left button's clicks and drags come out as signals with frame
    pixel positions (x right, y down); the right button's click too; middle drag pans."""

    clicked = QtCore.Signal(float, float)
    right_clicked = QtCore.Signal(float, float)
    drag_started = QtCore.Signal(float, float)  # where the button went down
    dragged = QtCore.Signal(float, float)
    drag_ended = QtCore.Signal(float, float)

    def __init__(self) -> None:
        super().__init__(lockAspect=True, invertY=True, enableMenu=False)

    def _image_pos(self, ev: Any) -> tuple[float, float]:
        p = self.mapSceneToView(ev.scenePos())
        return float(p.x()), float(p.y())

    def mouseClickEvent(self, ev: Any) -> None:
        if ev.button() == QtCore.Qt.MouseButton.LeftButton:
            ev.accept()
            self.clicked.emit(*self._image_pos(ev))
        elif ev.button() == QtCore.Qt.MouseButton.RightButton:
            ev.accept()
            self.right_clicked.emit(*self._image_pos(ev))
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
            self.drag_started.emit(float(p.x()), float(p.y()))
        self.dragged.emit(x, y)
        if ev.isFinish():
            self.drag_ended.emit(x, y)


class Marks(pg.ScatterPlotItem):
    """Markers that leave clicks to the canvas under them (a click there selects the hint)."""

    def mouseClickEvent(self, ev: Any) -> None:
        ev.ignore()


class HintLayer:
    """What is drawn over the gray frame: the hints in their colors (``overlay``), a marker per
    point (a disc of its own color in a light ring in a dark ring, seen on any picture) and the
    selected point or stroke highlighted."""

    def __init__(self, canvas: pg.ViewBox, width: int, height: int) -> None:
        self.width, self.height = width, height
        self.overlay = pg.ImageItem(axisOrder="row-major")
        self.outline = Marks(pxMode=True, size=15, brush=None, pen=pg.mkPen(0, 0, 0, 230, width=2))
        self.marks = Marks(pxMode=True, size=12, pen=pg.mkPen("w", width=1.5))
        self.selected_ring = Marks(pxMode=True, size=22, brush=None, pen=pg.mkPen(SELECTED_PEN, width=2.5))
        self.selected_path = pg.PlotDataItem(pen=pg.mkPen(SELECTED_PEN, width=2.5))
        for item in self.items():
            canvas.addItem(item)

    def items(self) -> tuple[Any, ...]:
        return self.overlay, self.outline, self.marks, self.selected_ring, self.selected_path

    def draw(
        self, keyframe: Keyframe | None, selected: tuple[str, int] | None, lightness: np.ndarray, alpha: int
    ) -> None:
        """The hints of ``keyframe`` over a frame of ``lightness`` ((H, W) L*), their colors at
        ``alpha`` (0-255); ``selected`` (``("point" | "stroke", index)``) highlighted."""
        self.overlay.setImage(hint_overlay(keyframe, lightness, alpha))
        points = keyframe.points if keyframe else ()
        strokes = keyframe.strokes if keyframe else ()
        xs = [p.x * self.width for p in points]
        ys = [p.y * self.height for p in points]
        self.outline.setData(xs, ys)
        self.marks.setData(xs, ys, brush=[pg.mkBrush(color_to_qcolor(p.color)) for p in points])
        kind, index = selected or ("", -1)
        if kind == "point" and index < len(points):
            self.selected_ring.setData([xs[index]], [ys[index]])
        else:
            self.selected_ring.setData([], [])
        if kind == "stroke" and index < len(strokes):
            path = strokes[index].path
            self.selected_path.setData(
                [fx * self.width for fx, _ in path], [fy * self.height for _, fy in path]
            )
        else:
            self.selected_path.setData([], [])

    def set_visible(self, on: bool) -> None:
        for item in self.items():
            item.setVisible(on)


class PictureView(pg.ViewBox):
    """The colorized preview, or a reference picture: a left click there says where (``picked``,
    in the view's coordinates: frame pixels for the preview, picture pixels for a reference)."""

    picked = QtCore.Signal(float, float)

    def __init__(self) -> None:
        super().__init__(lockAspect=True, invertY=True, enableMenu=False)

    def mouseClickEvent(self, ev: Any) -> None:
        if ev.button() != QtCore.Qt.MouseButton.LeftButton:
            super().mouseClickEvent(ev)
            return
        ev.accept()
        p = self.mapSceneToView(ev.scenePos())
        self.picked.emit(float(p.x()), float(p.y()))


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


class Views(pg.GraphicsLayoutWidget):
    """The labeled views side by side: the gray frame with its hints (:attr:`canvas`, drawn by
    :attr:`layer`), the result (:attr:`preview_view`, zoomed and panned with the frame) and a
    reference picture (hidden until one is opened); and under them (:attr:`compare`, for the
    window to place) a wipe between the result and the gray or original frame, and the switch
    for the hints drawn over the frame. A click on the result or on the reference picture is an
    eyedropper: :attr:`color_picked` says the color under it.

    Args:
        width, height: the frame's size.
        original: frame n as it came, (H, W, 3) uint8 sRGB, when the source has color (the
            compare bar then offers it), else None.
    """

    color_picked = QtCore.Signal(object)  # a Color

    def __init__(
        self, width: int, height: int, original: Callable[[int], np.ndarray | None] | None = None
    ) -> None:
        super().__init__()
        self.frame_size = (width, height)
        self._original = original
        self._shown: tuple[int, np.ndarray | None] = (-1, None)  # the frame shown and its L*
        self._shown_original: tuple[int, np.ndarray | None] = (-1, None)  # read once per frame
        self.result: np.ndarray | None = None  # the latest preview, (H, W, 3) uint8, before the wipe
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
        self.preview_view.picked.connect(self.pick_result)
        self.reference_view.picked.connect(self.pick_reference)
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
        self.compare = CompareBar()
        self.compare.set_original_available(original is not None)
        self.compare.wiped.connect(lambda _: self.show_result())
        self.compare.against_changed.connect(lambda _: self.show_result())
        self.compare.overlay_toggled.connect(self.layer.set_visible)

    def show_frame(self, n: int, lightness: np.ndarray) -> None:
        """Frame ``n`` to paint on: (H, W) L* in [0, 100]."""
        self._shown = (n, lightness)
        gray = (np.clip(lightness, 0, 100) * 2.55).astype(np.uint8)
        self.gray_item.setImage(gray, levels=(0, 255))

    def show_preview(self, rgb: np.ndarray, *, draft: bool) -> None:
        """A new result: (h, w, 3) float sRGB, small when it is a ``draft``."""
        image = np.round(np.clip(rgb, 0, 1) * 255).astype(np.uint8)
        if draft:
            image = cv2.resize(image, self.frame_size, interpolation=cv2.INTER_LINEAR)
        self.result = image
        self.show_result()

    def show_result(self) -> None:
        """The latest result, wiped to the gray frame (or the original color frame, as the
        compare bar says) right of its line."""
        share = self.compare.share
        self.wipe_line.setVisible(share < 1)
        self.wipe_line.setValue(share * self.frame_size[0])
        n, against = self._shown
        if self.result is None or against is None:
            return
        if share < 1 and self.compare.against == CompareBar.ORIGINAL and self._original is not None:
            if self._shown_original[0] != n:
                self._shown_original = (n, self._original(n))
            against = self._shown_original[1] if self._shown_original[1] is not None else against
        self.preview_item.setImage(wipe(self.result, against, share), levels=(0, 255))

    def pick_result(self, x: float, y: float) -> None:
        """The result's color under frame pixel (x, y), wherever the wipe is (nothing before the
        first result or outside it)."""
        if self.result is not None:
            (height, width), (frame_width, frame_height) = self.result.shape[:2], self.frame_size
            self._picked(color_at(self.result, y * height / frame_height, x * width / frame_width))

    def pick_reference(self, x: float, y: float) -> None:
        """The reference picture's color at its pixel (x, y) (nothing outside it)."""
        self._picked(color_at(self.reference_item.image, y, x))

    def _picked(self, color: Color | None) -> None:
        if color is not None:
            self.color_picked.emit(color)

    def show_notice(self, text: str) -> None:
        self.notice.setText(text)
        self.notice.setVisible(bool(text))

    def open_reference(self, path: str | os.PathLike[str]) -> bool:
        """Show a color picture beside the result; a click there picks its colors. False when it
        cannot be read (a dialog says why)."""
        try:
            rgb = read_image(path)
        except ImageError as e:
            QtWidgets.QMessageBox.warning(self, "Reference picture", str(e))
            return False
        self.reference_item.setImage(np.round(rgb * 255).astype(np.uint8), levels=(0, 255))
        self.reference_view.setVisible(True)
        self.labels["reference"].setVisible(True)
        self.reference_view.autoRange(padding=0)
        return True
