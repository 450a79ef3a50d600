"""The paint window's background work: the preview of a frame and the model's color suggestions.

Both run on Qt thread pools, off the UI thread; results come back through :class:`WorkSignals`
(queued to the UI thread), tagged with a generation number so that only the newest is shown.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, replace

import cv2
import numpy as np
from PySide6 import QtCore

from vscolorize.core.engine import FrameColorizer
from vscolorize.core.hints import Color, Keyframe

__all__ = ["DRAFT_SHORT_SIDE", "PreviewJob", "PreviewTask", "WorkSignals", "suggest_colors"]

log = logging.getLogger(__name__)

DRAFT_SHORT_SIDE = 96  # while the mouse moves the preview is computed this small
_SUGGEST_SHORT_SIDE = 256  # the model's own working size: suggestions cost one small prediction
_SUGGEST_APART = 6.0  # a*b* distance under which two suggestions count as the same color


@dataclass(frozen=True)
class PreviewJob:
    generation: int
    frame: int
    keyframe: Keyframe | None
    lightness: np.ndarray
    draft: bool


class WorkSignals(QtCore.QObject):
    """What the background work reports."""

    done = QtCore.Signal(int, int, bool, object, float)  # generation, frame, draft, rgb, seconds
    suggested = QtCore.Signal(int, object)  # generation, list of Color
    tracked = QtCore.Signal(object, int, object)  # the hints, a frame, its carried hints


def suggest_colors(
    suggester: FrameColorizer, lightness: np.ndarray, keyframe: Keyframe | None, x: float, y: float
) -> list[Color]:
    """The learned model's guesses for pixel (x, y): with the frame's other hints, without hints,
    mirrored and at a coarser scale; near-duplicates dropped."""
    height, width = lightness.shape
    scale = min(1.0, _SUGGEST_SHORT_SIDE / min(height, width))
    size = (max(round(width * scale), 16), max(round(height * scale), 16))
    small = cv2.resize(lightness, size, interpolation=cv2.INTER_AREA)
    row = min(int(y * small.shape[0] / height), small.shape[0] - 1)
    col = min(int(x * small.shape[1] / width), small.shape[1] - 1)
    if keyframe is not None:  # leave out the point being asked about
        others = tuple(p for p in keyframe.points if math.dist((p.x * width, p.y * height), (x, y)) > 2)
        keyframe = replace(keyframe, points=others)
    coarse = cv2.resize(
        small, (max(small.shape[1] // 2, 16), max(small.shape[0] // 2, 16)), interpolation=cv2.INTER_AREA
    )
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


class PreviewTask(QtCore.QRunnable):
    """Colorize one frame (small when it is a draft) and report it through ``signals.done``."""

    def __init__(self, job: PreviewJob, colorizer: FrameColorizer, signals: WorkSignals) -> None:
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
        self.signals.done.emit(
            self.job.generation, self.job.frame, self.job.draft, rgb, time.perf_counter() - start
        )
