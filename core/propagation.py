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
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace

import cv2
import numpy as np

from .hints import Hints, Keyframe, Point, Stroke, densify_path

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
_MIN_FLOW_SIDE = 16
_DIS_PRESETS = {
    "dis": cv2.DISOPTICAL_FLOW_PRESET_MEDIUM,
    "dis-fast": cv2.DISOPTICAL_FLOW_PRESET_FAST,
}


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
    # 3 px: DIS misses by 1-2 px on fine texture, where a 1 px limit dropped good hints (a pan
    # over a held-out painting lost 11 of 50 in 5 frames). With 3 px instead of 1, 50 hints on
    # frame 0, classical engine: frames 1-59 of vtest.avi 26.94 -> 27.39 dB and flicker 0.75x ->
    # 0.64x the ground truth's; that pan 24.54 -> 27.19 dB, 4.96x -> 3.56x; the other 18 pans
    # within 0.12 dB (benchmarks/propagation-results-all-pans.txt). An occluder moving a few px
    # per frame still fails it (tests/core/test_propagation.py).
    consistency: float = 3.0
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
    """Dense flow from uint8 picture ``a`` to ``b``: (h, w, 2) float32 displacements (x, y).

    ``method``: ``"dis"`` (DIS, medium preset: what hints travel on), ``"dis-fast"`` (DIS, fast
    preset: 3x quicker, for the temporal filter's frame-to-frame links) or ``"farneback"``.
    Pictures smaller than 16 px on a side carry too little to measure motion: their flow is 0.
    """
    if min(a.shape) < _MIN_FLOW_SIDE:
        return np.zeros((*a.shape, 2), np.float32)
    if method in _DIS_PRESETS:
        dis = cv2.DISOpticalFlow.create(_DIS_PRESETS[method])
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
            (s, densify_path(tracker.to_pixels(np.array(s.path, np.float64)), step))
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


def _runs(vertices: np.ndarray, alive: np.ndarray) -> Iterator[np.ndarray]:
    """The runs of consecutive surviving vertices."""
    start = None
    for i, ok in enumerate([*alive.tolist(), False]):
        if ok and start is None:
            start = i
        elif not ok and start is not None:
            yield vertices[start:i]
            start = None


_Side = tuple[float, list[Point], list[Stroke]]  # (confidence, points, strokes) from one keyframe


class _Shot:
    """One shot's pictures and keyframes; tracks its hints when complete."""

    def __init__(self, start: int, keyframes: dict[int, Keyframe], settings: PropagationSettings,
                 tracker: Tracker, sides: dict[int, list[_Side]]) -> None:  # fmt: skip
        self.start = start
        self.pictures: list[np.ndarray] = []
        self.keyframes = keyframes
        self.settings = settings
        self.tracker = tracker
        self.sides = sides

    def _step(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        """Flow between frames n and n + 1, both ways."""
        a, b = self.pictures[n - self.start], self.pictures[n + 1 - self.start]
        return optical_flow(a, b, self.settings.flow), optical_flow(b, a, self.settings.flow)

    def _carry(self, mark: int, frames: range, other: int | None,
               steps: Callable[[int], tuple[np.ndarray, np.ndarray]]) -> None:  # fmt: skip
        """Track keyframe ``mark`` through ``frames`` (moving away from it, one by one)."""
        track = _Track.start(self.keyframes[mark], self.tracker)
        forward = frames.step > 0
        for n in frames:
            there, back = steps(n - 1) if forward else steps(n)[::-1]
            track.step(self.tracker, there, back)
            weight = 1.0 if other is None else abs(other - n) / abs(other - mark)
            self.sides[n].append((weight, *track.hints(self.tracker, weight)))

    def finish(self) -> None:
        stop = self.start + len(self.pictures)
        marks = [f for f in range(self.start, stop) if f in self.keyframes]
        if not marks:
            return  # nothing to carry: no flow computed
        # before the first keyframe and after the last, one direction: flow computed as it goes
        self._carry(marks[0], range(marks[0] - 1, self.start - 1, -1), None, self._step)
        self._carry(marks[-1], range(marks[-1] + 1, stop), None, self._step)
        # between two keyframes, both directions over the same flow: computed once
        for a, b in itertools.pairwise(marks):
            steps = {n: self._step(n) for n in range(a, b)}
            self._carry(a, range(a + 1, b), b, steps.__getitem__)
            self._carry(b, range(b - 1, a, -1), a, steps.__getitem__)
        self.pictures = []


def propagate(
    hints: Hints,
    count: int,
    lightness: Callable[[int], np.ndarray],
    *,
    settings: PropagationSettings = PropagationSettings(),
    known_cut: Callable[[int], bool | None] | None = None,
) -> tuple[Hints, set[int]]:
    """Carry each keyframe's hints to every frame of its shot.

    The clip is read once, in order; only the current shot's small flow pictures are kept, and
    flow is computed only in shots that hold a keyframe.

    Args:
        hints: the artist's keyframes.
        count: the clip's length.
        lightness: frame index -> (H, W) L* in [0, 100]; called once per frame, in order.
        known_cut: frame index -> whether it starts a new shot, as the clip says (its
            ``_SceneChange*`` props), or None to let the detector decide; called after
            ``lightness`` for the same frame.

    Returns:
        ``(propagated, cuts)``: a keyframe for every frame that has any hint (the artist's
        keyframes unchanged, propagated ones marked ``"propagated": true``) and the frames that
        start a new shot.
    """
    keyframes = {k.frame: k for k in hints.keyframes if 0 <= k.frame < count}
    cuts: set[int] = set()
    if not keyframes:
        return Hints(extra=hints.extra), cuts
    sides: dict[int, list[_Side]] = {n: [] for n in range(count)}
    shot: _Shot | None = None
    for n in range(count):
        picture = flow_image(lightness(n), settings.short_side)
        if shot is None:
            shot = _Shot(0, keyframes, settings, Tracker(settings, picture.shape), sides)
        elif picture.shape != shot.pictures[-1].shape:
            raise ValueError(
                f"propagate: frame {n} is {picture.shape}, not {shot.pictures[-1].shape}"
            )
        else:
            said = known_cut(n) if known_cut is not None else None
            if said is None:
                said = scene_cut(shot.pictures[-1], picture, settings.cut_threshold)
            if said:
                cuts.add(n)
                shot.finish()
                shot = _Shot(n, keyframes, settings, shot.tracker, sides)
        shot.pictures.append(picture)
    assert shot is not None
    shot.finish()
    out = []
    for n in range(count):
        if n in keyframes:
            out.append(keyframes[n])
            continue
        ordered = sorted(sides[n], key=lambda side: side[0])  # most confident painted last
        points = tuple(p for _, ps, _ in ordered for p in ps)
        strokes = tuple(s for _, _, ss in ordered for s in ss)
        if points or strokes:
            out.append(
                Keyframe(frame=n, points=points, strokes=strokes, extra={"propagated": True})
            )
    return Hints(keyframes=tuple(out), extra=hints.extra), cuts
