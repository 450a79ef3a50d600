"""The paint window's picture views (pyqtgraph): where the mouse paints and picks colors.

:class:`HintCanvas` shows the gray frame and turns left clicks and drags into signals in frame
pixels (middle drag pans, the wheel zooms); :class:`HintLayer` draws the hints over it (their colors
as the engine sees them, a filled marker per point, the selection highlighted).
:class:`PictureView` shows the result or a reference picture; a click there is an eyedropper.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore

from vscolorize.core.color import lab_to_srgb
from vscolorize.core.hints import Keyframe, paint_hints

from .widgets import color_to_qcolor

__all__ = ["HintCanvas", "HintLayer", "Marks", "PictureView", "hint_overlay"]

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
