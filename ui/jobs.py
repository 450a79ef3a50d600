"""The paint window's background work: the preview of a frame, the model's color suggestions for
a click, the hints carried to a frame that is not a keyframe, and the guidance (where the next
hint pays most, which frames of a shot the next keyframe).

:class:`Jobs` runs each kind on a Qt thread pool of its own (one thread each: a newer request of a
kind waits for the one running, and replaces any still queued), off the UI thread. Results come
back as its signals, on the UI thread; previews and suggestions carry a generation number, so that
only the newest request's result is reported.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, replace

import cv2
import numpy as np
from PySide6 import QtCore

from vscolorize.core.engines.learned import installed_models
from vscolorize.core.errors import named
from vscolorize.core.guidance import rank_places
from vscolorize.core.hints import Color, Hints, Keyframe
from vscolorize.core.images import shrink
from vscolorize.core.keyframes import suggest_keyframes
from vscolorize.core.pipeline import FramePipeline, Settings
from vscolorize.core.propagation import HintCarrier

__all__ = ["DRAFT_SHORT_SIDE", "Jobs", "PreviewJob", "PreviewTask", "suggest_colors"]

log = logging.getLogger(__name__)

DRAFT_SHORT_SIDE = 96  # while the mouse moves the preview is computed this small
_SUGGEST_SHORT_SIDE = 256  # the model's own working size: suggestions cost one small prediction
_SUGGEST_APART = 6.0  # a*b* distance under which two suggestions count as the same color
_MODEL_MINIMUM = 16  # the network's smallest input side


def suggest_colors(
    suggester: FramePipeline, lightness: np.ndarray, keyframe: Keyframe | None, x: float, y: float
) -> list[Color]:
    """The learned model's guesses for pixel (x, y) of a frame of ``lightness`` ((H, W) L*): with
    the frame's other hints, without hints, mirrored and at a coarser scale; near-duplicates
    dropped."""
    height, width = lightness.shape
    small = shrink(lightness, _SUGGEST_SHORT_SIDE, minimum=_MODEL_MINIMUM)
    row = min(int(y * small.shape[0] / height), small.shape[0] - 1)
    col = min(int(x * small.shape[1] / width), small.shape[1] - 1)
    if keyframe is not None:  # leave out the point being asked about
        others = tuple(p for p in keyframe.points if math.dist((p.x * width, p.y * height), (x, y)) > 2)
        keyframe = replace(keyframe, points=others)
    coarse = cv2.resize(
        small,
        (max(small.shape[1] // 2, _MODEL_MINIMUM), max(small.shape[0] // 2, _MODEL_MINIMUM)),
        interpolation=cv2.INTER_AREA,
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


@dataclass(frozen=True)
class PreviewJob:
    generation: int
    frame: int
    keyframe: Keyframe | None
    lightness: np.ndarray
    draft: bool


class Reports(QtCore.QObject):
    """What the worker threads report; queued to the UI thread, where :class:`Jobs` lives."""

    previewed = QtCore.Signal(int, int, bool, object, float)  # generation, frame, draft, rgb, seconds
    suggested = QtCore.Signal(int, object)  # generation, list of Color
    tracked = QtCore.Signal(object, int, object)  # the hints, a frame, its carried hints
    track_failed = QtCore.Signal(object, int)  # the hints, a frame
    placed = QtCore.Signal(int, int, object)  # generation, frame, places (fractions)
    keyframes_found = QtCore.Signal(int, object)  # generation, suggestions


class PreviewTask(QtCore.QRunnable):
    """Colorize one frame (small when it is a draft) and report it through ``reports.previewed``."""

    def __init__(self, job: PreviewJob, pipeline: FramePipeline, reports: Reports) -> None:
        super().__init__()
        self.job, self.pipeline, self.reports = job, pipeline, reports

    def run(self) -> None:
        start = time.perf_counter()
        lightness = self.job.lightness
        if self.job.draft:
            lightness = shrink(lightness, DRAFT_SHORT_SIDE)
        try:
            rgb = self.pipeline.rgb(lightness, self.job.keyframe)
        except Exception:  # a preview must never take the window down
            log.exception("preview of frame %d failed", self.job.frame)
            return
        self.reports.previewed.emit(
            self.job.generation, self.job.frame, self.job.draft, rgb, time.perf_counter() - start
        )


class Jobs(QtCore.QObject):
    """The window's work off the UI thread.

    Args:
        parent: the window (the thread pools and this object go with it).
        settings: the preview's colorizer (:attr:`pipeline`). The learned model suggests colors
            whatever the engine previews (:attr:`suggester`; None when no model is installed).
        carrier: hints carried from the keyframes to other frames, or None (not carried).

    Raises:
        DeviceError, ModelUnavailableError: the settings' device or model is not there (the
            message starts with ``paint:``).

    Attributes:
        previewed: (frame, draft, (H, W, 3) float sRGB) of the newest preview asked for; a draft
            is small (short side :data:`DRAFT_SHORT_SIDE`).
        suggested: the colors suggested for the newest click.
        tracked: (hints, frame, carried keyframe or None) for every carrying asked for.
        placed: (frame, places) of the newest :meth:`place`: (x, y) fractions, best first.
        keyframes_found: the suggested keyframes of the newest :meth:`find_keyframes`.
        preview_seconds: (draft, seconds) of every preview computed, the newest last.
    """

    previewed = QtCore.Signal(int, bool, object)
    suggested = QtCore.Signal(object)
    tracked = QtCore.Signal(object, int, object)
    placed = QtCore.Signal(int, object)
    keyframes_found = QtCore.Signal(object)

    def __init__(
        self, parent: QtCore.QObject, settings: Settings, carrier: HintCarrier | None = None
    ) -> None:
        super().__init__(parent)
        with named("paint"):
            self.pipeline = FramePipeline(settings)
            model = Settings(method="model", device=settings.device)
            self.suggester = FramePipeline(model) if installed_models() else None
        self.carrier = carrier
        self.preview_seconds: list[tuple[bool, float]] = []
        self._reports = Reports()
        self._reports.previewed.connect(self._previewed)
        self._reports.suggested.connect(self._suggested)
        self._reports.tracked.connect(self._tracked)
        self._reports.track_failed.connect(self._done_tracking)
        self._reports.placed.connect(self._placed)
        self._reports.keyframes_found.connect(self._keyframes_found)
        pools = [self._one_thread() for _ in range(5)]
        self._previews, self._suggestions, self._tracks, self._places, self._keys = pools
        self._preview_generation = self._suggest_generation = 0
        self._place_generation = self._key_generation = 0
        self._tracking: tuple[Hints, int] | None = None  # the carrying under way

    def _one_thread(self) -> QtCore.QThreadPool:
        pool = QtCore.QThreadPool(self)
        pool.setMaxThreadCount(1)
        return pool

    def _pools(self) -> tuple[QtCore.QThreadPool, ...]:
        return self._previews, self._suggestions, self._tracks, self._places, self._keys

    # --- previews ---------------------------------------------------------------------------

    def preview(self, frame: int, keyframe: Keyframe | None, lightness: np.ndarray, *, draft: bool) -> None:
        """Colorize frame ``frame`` ((H, W) L* ``lightness``, hints ``keyframe``); reported
        through :attr:`previewed` unless a newer preview is asked for meanwhile."""
        self._preview_generation += 1
        job = PreviewJob(self._preview_generation, frame, keyframe, lightness, draft)
        self._previews.clear()  # a queued, not yet started, older request is useless now
        self._previews.start(PreviewTask(job, self.pipeline, self._reports))

    def _previewed(self, generation: int, frame: int, draft: bool, rgb: np.ndarray, seconds: float) -> None:
        self.preview_seconds.append((draft, seconds))
        if generation == self._preview_generation:
            self.previewed.emit(frame, draft, rgb)

    # --- suggestions ------------------------------------------------------------------------

    def suggest(self, lightness: np.ndarray, keyframe: Keyframe | None, x: float, y: float) -> None:
        """The model's colors for pixel (x, y) (see :func:`suggest_colors`), reported through
        :attr:`suggested` unless another click comes meanwhile; nothing without a model."""
        if self.suggester is None:
            return
        self._suggest_generation += 1
        generation, suggester = self._suggest_generation, self.suggester

        def work() -> None:
            self._reports.suggested.emit(generation, suggest_colors(suggester, lightness, keyframe, x, y))

        self._suggestions.clear()
        self._suggestions.start(work)

    def _suggested(self, generation: int, colors: list[Color]) -> None:
        if generation == self._suggest_generation:
            self.suggested.emit(colors)

    # --- guidance ---------------------------------------------------------------------------

    def place(self, frame: int, lightness: np.ndarray, keyframe: Keyframe | None, count: int) -> bool:
        """Where ``count`` next hints pay most on ``frame`` under ``keyframe``'s hints (the learned
        model's doubt, see ``vscolorize.core.guidance``), reported through :attr:`placed` unless
        newer guidance is asked for meanwhile. False without a model."""
        if self.suggester is None:
            return False
        self._place_generation += 1
        generation, suggester = self._place_generation, self.suggester

        def work() -> None:
            try:
                places = rank_places(suggester, lightness, keyframe, count)
            except Exception:  # guidance must never take the window down
                log.exception("where next on frame %d failed", frame)
                return
            self._reports.placed.emit(generation, frame, places)

        self._places.clear()
        self._places.start(work)
        return True

    def _placed(self, generation: int, frame: int, places: list[tuple[float, float]]) -> None:
        if generation == self._place_generation:
            self.placed.emit(frame, places)

    def find_keyframes(self, hints: Hints, frame: int, per_shot: int = 3) -> bool:
        """The frames of ``frame``'s shot where the next keyframe pays most under ``hints``
        (``vscolorize.core.keyframes``), reported through :attr:`keyframes_found`. False without
        a carrier (a picture has no motion)."""
        if self.carrier is None:
            return False
        self._key_generation += 1
        generation, footage = self._key_generation, self.carrier.footage
        shot = self.carrier.shot

        def work() -> None:
            try:
                frames = shot(frame)
                found = suggest_keyframes(footage, hints, per_shot=per_shot, first=frames[0], last=frames[-1])
            except Exception:
                log.exception("suggesting keyframes near frame %d failed", frame)
                return
            self._reports.keyframes_found.emit(generation, found)

        self._keys.clear()
        self._keys.start(work)
        return True

    def _keyframes_found(self, generation: int, suggestions: list[object]) -> None:
        if generation == self._key_generation:
            self.keyframes_found.emit(suggestions)

    # --- carried hints ----------------------------------------------------------------------

    def track(self, hints: Hints, frame: int) -> None:
        """Carry ``hints`` to ``frame`` (it may read and track the frames of its span); reported
        through :attr:`tracked`. Nothing when the same carrying is under way, or without a
        carrier."""
        job = (hints, frame)
        if self.carrier is None or self._tracking == job:
            return
        carrier, self._tracking = self.carrier, job

        def work() -> None:
            try:
                keyframe = carrier.keyframe(hints, frame)
            except Exception:  # the window must stay up: the next look at the frame tries again
                log.exception("carrying the hints to frame %d failed", frame)
                self._reports.track_failed.emit(hints, frame)
                return
            self._reports.tracked.emit(hints, frame, keyframe)

        self._tracks.start(work)

    def _tracked(self, hints: Hints, frame: int, keyframe: Keyframe | None) -> None:
        self._done_tracking(hints, frame)
        self.tracked.emit(hints, frame, keyframe)

    def _done_tracking(self, hints: Hints, frame: int) -> None:
        if self._tracking == (hints, frame):
            self._tracking = None

    # --- waiting ----------------------------------------------------------------------------

    def wait(self, timeout_ms: int = 30_000) -> None:
        """Block until no job runs, then deliver their results (for tests and scripts)."""
        for pool in self._pools():
            pool.waitForDone(timeout_ms)
        QtCore.QCoreApplication.processEvents()

    def stop(self, timeout_ms: int = 10_000) -> None:
        """Drop the queued jobs and wait for the running ones (the window is closing)."""
        for pool in self._pools():
            pool.clear()
            pool.waitForDone(timeout_ms)
