"""Hints that follow the picture: dense optical flow carries each keyframe's hints to the frames
around it.

Flow is computed on the lightness at a working resolution (OpenCV's DIS by default, Farneback on
request), forward and backward between each pair of consecutive frames. A hint point moves with the
forward flow at its center; it is dropped where the backward flow does not bring it back (the
forward-backward check: an occlusion, or flow that cannot be trusted) or where it leaves the frame.
A stroke is first resampled into closely spaced vertices, each tracked like a point; the runs of
surviving vertices stay strokes. Propagation never crosses a scene cut (``_SceneChangePrev`` /
``_SceneChangeNext`` when the clip has them, else a luma-histogram detector) and stops at the next
keyframe. Between two keyframes a frame gets the hints of both, each with a confidence that falls
linearly with the distance to its keyframe; where they overlap the more confident one is painted
last and wins.

The result is itself a :class:`~vscolorize.core.hints.Hints` with a keyframe on every frame
(``extra`` records each hint's keyframe and confidence), so it can be saved as a hints file,
inspected in the paint window, and cached.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace

import cv2
import numpy as np

from .hints import Hints, Keyframe, Point, Stroke

__all__ = [
    "FLOW_METHODS",
    "PropagationSettings",
    "Tracker",
    "flow_image",
    "optical_flow",
    "propagate",
    "scene_cut",
]

FLOW_METHODS = ("dis", "farneback")


@dataclass(frozen=True)
class PropagationSettings:
    """How hints travel.

    Attributes:
        flow: ``"dis"`` (OpenCV DIS, medium preset) or ``"farneback"``.
        short_side: flow is computed with the frame's short side scaled to this (never up).
        consistency: largest forward-backward error a hint survives, in working pixels, plus
            ``consistency_share`` of its motion (fast motion is measured less precisely).
        consistency_share: see ``consistency``.
        cut_threshold: Bhattacharyya distance between consecutive luma histograms above which
            the detector declares a scene cut.
        stroke_step: strokes are resampled to a vertex at least every this many working pixels.
    """

    flow: str = "dis"
    short_side: int = 360
    consistency: float = 1.0
    consistency_share: float = 0.1
    cut_threshold: float = 0.45
    stroke_step: float = 4.0

    def __post_init__(self) -> None:
        if self.flow not in FLOW_METHODS:
            raise ValueError(f"propagation: flow must be one of {FLOW_METHODS}, not {self.flow!r}")
        if self.short_side < 16:
            raise ValueError(f"propagation: short_side must be at least 16, not {self.short_side}")


def flow_image(lightness: np.ndarray, short_side: int) -> np.ndarray:
    """(H, W) L* in [0, 100] -> uint8 picture at the working size the flow is computed on."""
    height, width = lightness.shape
    scale = min(1.0, short_side / min(height, width))
    size = (max(round(width * scale), 1), max(round(height * scale), 1))
    small = cv2.resize(lightness, size, interpolation=cv2.INTER_AREA) if scale < 1 else lightness
    return np.clip(small * 2.55 + 0.5, 0, 255).astype(np.uint8)


def optical_flow(a: np.ndarray, b: np.ndarray, method: str = "dis") -> np.ndarray:
    """Dense flow from uint8 picture ``a`` to ``b``: (h, w, 2) float32 displacements (x, y)."""
    if method == "dis":
        dis = cv2.DISOpticalFlow.create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
        return dis.calc(a, b, np.zeros((*a.shape, 2), np.float32))
    if method == "farneback":
        flow = np.zeros((*a.shape, 2), np.float32)
        return cv2.calcOpticalFlowFarneback(a, b, flow, 0.5, 4, 15, 3, 5, 1.2, 0)
    raise ValueError(f"optical_flow: method must be one of {FLOW_METHODS}, not {method!r}")


def scene_cut(a: np.ndarray, b: np.ndarray, threshold: float) -> bool:
    """Whether uint8 pictures ``a`` and ``b`` belong to different shots (luma histograms)."""
    hists = [cv2.calcHist([x], [0], None, [64], [0, 256]) for x in (a, b)]
    for h in hists:
        cv2.normalize(h, h, 1, 0, cv2.NORM_L1)
    return bool(cv2.compareHist(hists[0], hists[1], cv2.HISTCMP_BHATTACHARYYA) > threshold)


def _sample(field: np.ndarray, xy: np.ndarray) -> np.ndarray:
    """Bilinear samples of an (h, w, 2) field at (N, 2) pixel coordinates (centers at integers)."""
    maps = xy.astype(np.float32).reshape(-1, 1, 2)
    sampled = cv2.remap(field, maps[..., 0], maps[..., 1], cv2.INTER_LINEAR,
                        borderMode=cv2.BORDER_REPLICATE)  # fmt: skip
    return sampled.reshape(-1, 2)


@dataclass(frozen=True)
class _Step:
    """The flow between two consecutive frames, both ways, at the working size."""

    forward: np.ndarray  # frame t -> t + 1
    backward: np.ndarray  # frame t + 1 -> t


class Tracker:
    """Moves hint coordinates along flow, frame to frame, dropping the ones that fail the
    forward-backward check or leave the frame."""

    def __init__(self, settings: PropagationSettings, size: tuple[int, int]) -> None:
        self.settings = settings
        self.height, self.width = size  # working size

    def to_pixels(self, xy: np.ndarray) -> np.ndarray:
        return xy * (self.width, self.height) - 0.5

    def to_fractions(self, px: np.ndarray) -> np.ndarray:
        return (px + 0.5) / (self.width, self.height)

    def move(self, px: np.ndarray, there: np.ndarray, back: np.ndarray
             ) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
        """(N, 2) pixel positions moved along ``there``, and which of them survived."""
        if len(px) == 0:
            return px, np.zeros(0, bool)
        motion = _sample(there, px)
        moved = px + motion
        error = np.linalg.norm(motion + _sample(back, moved), axis=1)
        limit = self.settings.consistency + self.settings.consistency_share * np.linalg.norm(
            motion, axis=1
        )
        inside = (moved[:, 0] >= -0.5) & (moved[:, 0] <= self.width - 0.5)
        inside &= (moved[:, 1] >= -0.5) & (moved[:, 1] <= self.height - 0.5)
        return moved, inside & (error <= limit)


@dataclass
class _Track:
    """A keyframe's hints on their way: points and stroke vertices as pixel positions."""

    source: int  # the keyframe's frame
    points: list[Point]
    point_px: np.ndarray  # (P, 2)
    strokes: list[tuple[Stroke, np.ndarray]]  # each stroke with its (V, 2) vertices

    @classmethod
    def start(cls, keyframe: Keyframe, tracker: Tracker) -> _Track:
        points = list(keyframe.points)
        xy = np.array([(p.x, p.y) for p in points], np.float64).reshape(-1, 2)
        step = tracker.settings.stroke_step
        strokes = [
            (s, _resample(tracker.to_pixels(np.array(s.path, np.float64)), step))
            for s in keyframe.strokes
        ]
        return cls(keyframe.frame, points, tracker.to_pixels(xy), strokes)

    def step(self, tracker: Tracker, there: np.ndarray, back: np.ndarray) -> None:
        moved, alive = tracker.move(self.point_px, there, back)
        self.points = [p for p, ok in zip(self.points, alive, strict=True) if ok]
        self.point_px = moved[alive]
        strokes = []
        for stroke, vertices in self.strokes:
            moved, alive = tracker.move(vertices, there, back)
            strokes += [(stroke, run) for run in _runs(moved, alive)]
        self.strokes = strokes

    def hints(self, tracker: Tracker, confidence: float) -> tuple[list[Point], list[Stroke]]:
        note = {"propagated_from": self.source, "confidence": round(confidence, 4)}
        xy = tracker.to_fractions(self.point_px).clip(0, 1)
        points = [replace(p, x=float(x), y=float(y), extra={**p.extra, **note})
                  for p, (x, y) in zip(self.points, xy, strict=True)]  # fmt: skip
        strokes = [
            replace(s, path=tuple(map(tuple, tracker.to_fractions(v).clip(0, 1).tolist())),
                    extra={**s.extra, **note})
            for s, v in self.strokes
        ]  # fmt: skip
        return points, strokes


def _resample(vertices: np.ndarray, step: float) -> np.ndarray:
    """A polyline with extra vertices so that none are more than ``step`` apart."""
    out = [vertices[:1]]
    for a, b in itertools.pairwise(vertices):
        pieces = max(1, math.ceil(float(np.linalg.norm(b - a)) / step))
        t = np.arange(1, pieces + 1)[:, None] / pieces
        out.append(a + (b - a) * t)
    return np.concatenate(out)


def _runs(vertices: np.ndarray, alive: np.ndarray) -> Iterator[np.ndarray]:
    """The runs of consecutive surviving vertices."""
    start = None
    for i, ok in enumerate([*alive.tolist(), False]):
        if ok and start is None:
            start = i
        elif not ok and start is not None:
            yield vertices[start:i]
            start = None


def _segments(count: int, cuts: set[int]) -> list[range]:
    """Shots: ``cuts`` holds the frames that start a new shot."""
    starts = [0, *sorted(c for c in cuts if 0 < c < count), count]
    return [range(a, b) for a, b in itertools.pairwise(starts) if b > a]


def propagate(
    hints: Hints,
    count: int,
    lightness: Callable[[int], np.ndarray],
    *,
    settings: PropagationSettings = PropagationSettings(),
    cuts: set[int] | None = None,
    progress: Callable[[int], None] | None = None,
) -> tuple[Hints, set[int]]:
    """Carry each keyframe's hints to every frame of its shot.

    Args:
        hints: the artist's keyframes.
        count: the clip's length.
        lightness: frame index -> (H, W) L* in [0, 100]; called once per frame, in order.
        cuts: frames that start a new shot (from the clip's ``_SceneChange*`` props); None
            detects them from the luma histograms.
        progress: called with each frame index as it is read.

    Returns:
        ``(propagated, cuts)``: a keyframe for every frame that has any hint (the artist's
        keyframes unchanged), and the scene cuts used.
    """
    keyframes = {k.frame: k for k in hints.keyframes if 0 <= k.frame < count}
    if not keyframes or count == 0:
        return Hints(keyframes=tuple(keyframes.values()), extra=hints.extra), cuts or set()
    pictures: list[np.ndarray] = []
    steps: list[_Step] = []
    found: set[int] = set() if cuts is None else set(cuts)
    for n in range(count):
        pictures.append(flow_image(lightness(n), settings.short_side))
        if progress is not None:
            progress(n)
        if n == 0:
            continue
        a, b = pictures[n - 1], pictures[n]
        if cuts is None and scene_cut(a, b, settings.cut_threshold):
            found.add(n)
        if n in found:
            still = np.zeros((*a.shape, 2), np.float32)  # never used: no track crosses a cut
            steps.append(_Step(still, still))
            continue
        steps.append(_Step(optical_flow(a, b, settings.flow), optical_flow(b, a, settings.flow)))
    tracker = Tracker(settings, pictures[0].shape)
    per_frame: dict[int, list[tuple[float, list[Point], list[Stroke]]]] = {
        n: [] for n in range(count)
    }
    for shot in _segments(count, found):
        marks = [f for f in shot if f in keyframes]
        if not marks:
            continue
        # forward from each keyframe to the next one (or the shot's end)
        for i, mark in enumerate(marks):
            end = marks[i + 1] if i + 1 < len(marks) else shot.stop
            track = _Track.start(keyframes[mark], tracker)
            for n in range(mark + 1, end):
                track.step(tracker, steps[n - 1].forward, steps[n - 1].backward)
                after = marks[i + 1] if i + 1 < len(marks) else None
                weight = 1.0 if after is None else (after - n) / (after - mark)
                per_frame[n].append((weight, *track.hints(tracker, weight)))
        # backward from each keyframe to the previous one (or the shot's start)
        for i, mark in enumerate(marks):
            end = marks[i - 1] if i > 0 else shot.start - 1
            track = _Track.start(keyframes[mark], tracker)
            for n in range(mark - 1, end, -1):
                track.step(tracker, steps[n].backward, steps[n].forward)
                before = marks[i - 1] if i > 0 else None
                weight = 1.0 if before is None else (n - before) / (mark - before)
                per_frame[n].append((weight, *track.hints(tracker, weight)))
    out = []
    for n in range(count):
        if n in keyframes:
            out.append(keyframes[n])
            continue
        sides = sorted(per_frame[n], key=lambda side: side[0])  # most confident painted last
        points = tuple(p for _, ps, _ in sides for p in ps)
        strokes = tuple(s for _, _, ss in sides for s in ss)
        if points or strokes:
            out.append(
                Keyframe(frame=n, points=points, strokes=strokes, extra={"propagated": True})
            )
    return Hints(keyframes=tuple(out), extra=hints.extra), found
