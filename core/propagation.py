"""Hints that follow the picture: each keyframe's hints carried along optical flow to the frames
of its shot, on demand.

Motion comes from ``vscolorize.core.footage`` (optical flow between consecutive frames, both
ways, measured once and kept in the motion store). A point's center and each vertex of a stroke
(resampled into closely spaced vertices first) are tracked by ``vscolorize.core.tracking``,
anchored to the keyframe: a hint something passes over is lost while covered (shown meanwhile,
lighter, on *stand-ins*: the nearest places around that look like what it marked), moves with its
surroundings, and is found again where it belongs once that is visible; one that follows a moving
object away from what it marked is caught the same way. A stroke keeps the runs of its vertices
that are seen. Propagation never crosses a scene cut and stops at the next keyframe.

Every carried hint has a *confidence* in [0, 1], which the colorizers take as its strength (see
``vscolorize.core.hints.paint_hints``): what tracking measured on that frame (agreement with the
keyframe's patch, flow consistency, distance from strong edges; half for a stand-in), eased over a
few frames so that hints fade in and out rather than pop, times a weight for the distance in
frames: between two keyframes it falls linearly to 0 at the other one, so the hand-over from one
keyframe's hints to the next is smooth (where they overlap, their colors mix by strength); after
the last keyframe of a shot it halves over ``_HALF_LIFE`` frames.

A carried hint's a*b* follow the light around it (:func:`vscolorize.core.light.chroma_scales`): a
surface that darkens, in a fade or a shadow, loses chroma as CIELAB says it does, so that a red
car's hint stays the car's red through a shadow or a fade to black rather than glowing there.

The unit of work is a *span*: the frames between two neighbors that are each a keyframe or a
shot's end. A frame's hints need only its span: the frames and pairs of motion in it, read in
order; the hints of every frame of the span are made together (which lets a hint fade out before
the frame it is lost on) and kept while frames nearby are asked for (a few spans at most: memory
is bounded by a shot, never by the clip).

A carried frame's hints are a :class:`~vscolorize.core.hints.Keyframe` marked
``"propagated": true``; each hint's ``extra`` records its keyframe (``propagated_from``), its
``confidence`` and, for a stand-in, ``"stand_in": true``.
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace

import numpy as np

from .footage import Footage, FrameSource, MemoryStore, SourceFrame, Store
from .hints import Hints, Keyframe, Point, Stroke, densify_path
from .light import chroma_scales, sampled, scaled, surroundings
from .memo import Memo
from .motion import HINT_CONSISTENCY, MOTION_SHARE, MotionSettings, Pair
from .sources import LightnessSource
from .tracking import Anchors, Limits, fade

__all__ = [
    "CARRIER_PICTURES",
    "CarriedHints",
    "HintCarrier",
    "PropagationSettings",
    "propagate",
]

# the paint window keeps the pictures of this many frames (about 140 MB at the motion size of
# 360x640), so that after an edit a shot up to this long is tracked again without reading its
# frames again (a 500-frame shot at 854x480: 1.6 -> 0.5 s, benchmarks/film.py)
CARRIER_PICTURES = 600
# spans whose hints are kept at once (frames in flight on several threads sit in one or two)
_KEEP_SPANS = 4
# a carried hint lighter than this is left out
_LEAST_WEIGHT = 0.02
# with no keyframe ahead, a carried hint's weight halves over this many frames (10 s at 24 fps):
# the farther from its keyframe, the more error it has gathered
_HALF_LIFE = 240


@dataclass(frozen=True)
class PropagationSettings:
    """How hints travel.

    Attributes:
        motion: how motion is measured (flow, its working size, the cut detector); the motion
            store is keyed by it.
        consistency: largest forward-backward error a hint survives, in working pixels, plus
            ``consistency_share`` of its motion (fast motion is measured less precisely).
        consistency_share: see ``consistency``.
        stroke_step: strokes are resampled to a vertex at least every this many working pixels.
    """

    motion: MotionSettings = field(default_factory=MotionSettings)
    # see HINT_CONSISTENCY in vscolorize.core.motion for how it was chosen
    consistency: float = HINT_CONSISTENCY
    consistency_share: float = MOTION_SHARE
    stroke_step: float = 4.0


class _Frame:
    """Working-size pixels <-> fractions of the frame."""

    def __init__(self, size: tuple[int, int]) -> None:
        self.height, self.width = size

    def to_pixels(self, xy: np.ndarray) -> np.ndarray:
        return xy * (self.width, self.height) - 0.5

    def to_fractions(self, px: np.ndarray) -> np.ndarray:
        return (px + 0.5) / (self.width, self.height)


@dataclass
class _Track:
    """A keyframe's hints on their way: every point's center and every stroke's vertices, one
    :class:`~vscolorize.core.tracking.Anchors` (points first, then each stroke's vertices)."""

    source: int  # the keyframe's frame
    points: list[Point]
    strokes: list[tuple[Stroke, slice]]  # each stroke with its vertices' place in the anchors
    anchors: Anchors

    @classmethod
    def start(cls, keyframe: Keyframe, picture: np.ndarray, settings: PropagationSettings) -> _Track:
        frame = _Frame(picture.shape)
        points = list(keyframe.points)
        xy = np.array([(p.x, p.y) for p in points], np.float64).reshape(-1, 2)
        px, strokes, at = [frame.to_pixels(xy)], [], len(points)
        for s in keyframe.strokes:
            vertices = densify_path(frame.to_pixels(np.array(s.path, np.float64)), settings.stroke_step)
            px.append(vertices)
            strokes.append((s, slice(at, at + len(vertices))))
            at += len(vertices)
        limits = Limits(settings.consistency, settings.consistency_share)
        may_stand_in = np.arange(at) < len(points)  # a stroke's lost vertices just drop out
        anchors = Anchors(picture, np.concatenate(px), limits, may_stand_in)
        return cls(keyframe.frame, points, strokes, anchors)

    def hints(
        self,
        frame: _Frame,
        shown: np.ndarray,
        shares: np.ndarray,
        weight: np.ndarray,
        chroma: np.ndarray,
    ) -> tuple[list[Point], list[Stroke]]:
        """One frame's hints: those that weigh anything, each with its keyframe and its weight
        times its share as ``confidence``, its a*b* times its ``chroma`` scale; a point at each
        place it is shown (``shown`` (N, 1 + S, 2), where ``shares`` (N, 1 + S) are above 0: see
        ``Anchors``; a stand-in marked ``"stand_in": true``), a stroke split into the runs of its
        vertices that weigh anything (strokes have no stand-ins), each weighing their mean and
        scaled by their mean."""

        def note(w: float, stand_in: bool = False) -> dict[str, object]:
            extra: dict[str, object] = {"propagated_from": self.source, "confidence": round(w, 4)}
            return {**extra, "stand_in": True} if stand_in else extra

        xy = frame.to_fractions(shown).clip(0, 1)
        points = [
            replace(
                p,
                x=float(x),
                y=float(y),
                color=scaled(p.color, chroma[i]),
                extra={**p.extra, **note(float(w), place > 0)},
            )
            for i, p in enumerate(self.points)
            for place, ((x, y), w) in enumerate(zip(xy[i], weight[i] * shares[i], strict=True))
            if w >= _LEAST_WEIGHT
        ]
        xy, weight = xy[:, 0], weight * shares[:, 0]
        strokes = []
        for stroke, place in self.strokes:
            alive = weight[place] >= _LEAST_WEIGHT
            for run in _runs(np.arange(place.start, place.stop), alive):
                path = tuple(map(tuple, xy[run].tolist()))
                extra = {**stroke.extra, **note(float(weight[run].mean()))}
                color = scaled(stroke.color, float(chroma[run].mean()))
                strokes.append(replace(stroke, path=path, color=color, extra=extra))
        return points, strokes


def _runs(indices: np.ndarray, alive: np.ndarray) -> Iterator[np.ndarray]:
    """The runs of consecutive alive entries of ``indices``."""
    start = None
    for i, ok in enumerate([*alive.tolist(), False]):
        if ok and start is None:
            start = i
        elif not ok and start is not None:
            yield indices[start:i]
            start = None


_Side = tuple[float, list[Point], list[Stroke]]  # (confidence, points, strokes) from one keyframe


@dataclass(frozen=True)
class _Span:
    """Frames ``first`` .. ``last`` of one shot with no keyframe strictly inside; each end is a
    keyframe or the shot's end."""

    first: int
    last: int
    first_is_key: bool
    last_is_key: bool


def _carry(
    footage: Footage,
    keyframe: Keyframe,
    frames: range,
    other: int | None,
    settings: PropagationSettings,
    sides: dict[int, list[_Side]],
) -> None:
    """Track ``keyframe`` through ``frames`` (moving away from it, one by one), reading each
    pair of motion and each picture once; ``other``: the keyframe at the far end, if any.

    A hint's weight on a frame: what tracking measured there (eased over a few frames by
    :func:`~vscolorize.core.tracking.fade`) times its weight for the distance in frames (falling
    linearly to 0 at the other keyframe; with none, ``1 / (1 + distance / _HALF_LIFE)``)."""
    picture = footage.picture(keyframe.frame)
    frame = _Frame(picture.shape)
    track = _Track.start(keyframe, picture, settings)
    forward = frames.step > 0
    light = footage.light(keyframe.frame)
    key_light = sampled(light, track.anchors.px, picture.shape)
    key_around = sampled(surroundings(light), track.anchors.px, picture.shape)
    shown, weights, around = [], [], []
    for n in frames:
        pair: Pair = footage.pair(n - 1) if forward else footage.pair(n)
        track.anchors.step(pair, forward, footage.picture(n))
        shown.append((track.anchors.shown, track.anchors.shares, track.anchors.seen))
        weights.append(track.anchors.weight)
        around.append(sampled(surroundings(footage.light(n)), track.anchors.px, picture.shape))
    if not len(track.anchors):
        return
    eased = fade(np.array(weights))
    visible = np.array([seen for _, _, seen in shown])
    chroma = chroma_scales(key_light, key_around, np.array(around), visible)
    for n, (px, shares, _), weight, scale in zip(frames, shown, eased, chroma, strict=True):
        distance = abs(n - keyframe.frame)
        if other is None:
            near = 1 / (1 + distance / _HALF_LIFE)
        else:
            near = abs(other - n) / abs(other - keyframe.frame)
        sides[n].append((near, *track.hints(frame, px, shares, weight * near, scale)))


def _span_hints(
    footage: Footage, keyframes: dict[int, Keyframe], span: _Span, settings: PropagationSettings
) -> dict[int, Keyframe]:
    """The carried hints of every frame of ``span`` that is not a keyframe."""
    inner = range(span.first + span.first_is_key, span.last + 1 - span.last_is_key)
    if not inner or not (span.first_is_key or span.last_is_key):
        return {}
    sides: dict[int, list[_Side]] = {n: [] for n in inner}
    if span.first_is_key:
        other = span.last if span.last_is_key else None
        _carry(footage, keyframes[span.first], inner, other, settings, sides)
    if span.last_is_key:
        other = span.first if span.first_is_key else None
        _carry(footage, keyframes[span.last], inner[::-1], other, settings, sides)
    out = {}
    for n in inner:
        ordered = sorted(sides[n], key=lambda side: side[0])  # most confident painted last
        points = tuple(p for _, ps, _ in ordered for p in ps)
        strokes = tuple(s for _, _, ss in ordered for s in ss)
        if points or strokes:
            out[n] = Keyframe(frame=n, points=points, strokes=strokes, extra={"propagated": True})
    return out


class CarriedHints:
    """The hints of any frame: the artist's where it is a keyframe, else carried there from the
    keyframes of its shot, computed on demand (see the module's doc). Thread-safe; every answer
    is a pure function of the frames, the hints and the settings.

    Args:
        footage: the clip's frames and motion.
        hints: the artist's keyframes (those past the clip's end are ignored).
        settings: how hints travel; its motion part must be ``footage``'s.
    """

    def __init__(self, footage: Footage, hints: Hints, settings: PropagationSettings | None = None) -> None:
        self.footage = footage
        self.hints = hints
        self.settings = settings if settings is not None else PropagationSettings()
        if self.settings.motion != footage.settings:
            raise ValueError("CarriedHints: the settings' motion part differs from the footage's")
        self.keyframes = {k.frame: k for k in hints.keyframes if 0 <= k.frame < footage.count}
        self._marks = sorted(self.keyframes)
        self._stops = frozenset(self.keyframes)
        self._spans: Memo[_Span, dict[int, Keyframe]] = Memo(_KEEP_SPANS)
        self._recent: list[_Span] = []
        self._todo: dict[_Span, Iterator[int]] = {}
        self._lock = threading.Lock()

    def span(self, n: int) -> _Span:
        """The span frame n lies in (n is not a keyframe)."""
        for span in self._recent:  # frames nearby were asked for just now
            if span.first <= n <= span.last:
                return span
        footage = self.footage
        i = bisect.bisect_left(self._marks, n)
        before = self._marks[i - 1] if i > 0 else None
        # the walks end at the nearest keyframe or cut; in a shot with no keyframe they cover the
        # shot (to find that none reaches it), and never go further
        last = footage.shot_end(n, stop=self._stops)
        if last in self.keyframes or before is not None:
            first = footage.shot_start(n, stop=self._stops)
        else:
            first = n  # nothing can reach n: no keyframe before it, none after it in its shot
        span = _Span(first, last, first in self.keyframes, last in self.keyframes)
        with self._lock:
            self._recent = [span, *self._recent[: _KEEP_SPANS - 1]]
        return span

    def keyframe(self, n: int) -> Keyframe | None:
        """Frame n's hints: the artist's keyframe, the carried ones, or None."""
        if n in self.keyframes:
            return self.keyframes[n]
        if not self.keyframes or not 0 <= n < self.footage.count:
            return None
        span = self.span(n)
        if self._spans.peek(span) is None:
            self._measure(span)
        # computing a span reads frames: never wait for another thread doing it (see
        # vscolorize.core.memo); the motion it reads is measured (above) or stored already
        hints = self._spans.compute(
            span, lambda: _span_hints(self.footage, self.keyframes, span, self.settings)
        )
        return hints.get(n)

    def _measure(self, span: _Span) -> None:
        """Measure the motion ``span`` needs, shared by the threads that want it at once: each
        takes the next pair no one has taken, so that two frames starting a span split its motion
        rather than wait for each other (each pair goes to the store, where tracking reads it)."""
        if not (span.first_is_key or span.last_is_key):
            return
        with self._lock:
            todo = self._todo.get(span)
            if todo is None:
                todo = self._todo[span] = iter(range(span.first, span.last))
        while True:
            with self._lock:
                m = next(todo, None)
                if m is None:
                    self._todo.pop(span, None)
                    return
            self.footage.pair(m)

    def frames(self, first: int = 0, last: int | None = None) -> Iterator[Keyframe]:
        """The hints of every frame from ``first`` to ``last`` that has any, in order."""
        last = self.footage.count - 1 if last is None else last
        for n in range(first, last + 1):
            keyframe = self.keyframe(n)
            if keyframe is not None:
                yield keyframe


class _Lightness(LightnessSource):
    """A frame source over a function of the frame index (the paint window's and the tests')."""

    def __init__(
        self,
        count: int,
        lightness: Callable[[int], np.ndarray],
        known_cut: Callable[[int], bool | None] | None,
    ) -> None:
        self.count = count
        self.height, self.width = lightness(0).shape  # every frame is read anyway: all are carried to
        self._lightness = lightness
        self._known_cut = known_cut

    def lightness(self, n: int) -> np.ndarray:
        return self._lightness(n)

    def read(self, n: int) -> SourceFrame:
        said = self._known_cut(n) if self._known_cut is not None and n > 0 else None
        return SourceFrame(self._lightness(n), starts_shot=said)


def propagate(
    hints: Hints,
    count: int,
    lightness: Callable[[int], np.ndarray],
    *,
    settings: PropagationSettings = PropagationSettings(),
    known_cut: Callable[[int], bool | None] | None = None,
    store: Store | None = None,
) -> tuple[Hints, set[int]]:
    """Carry each keyframe's hints to every frame of its shot, for a whole clip at once.

    For clips that fit in memory (tests, short clips, exporting a propagated hints file); a
    renderer asks :class:`CarriedHints` frame by frame instead.

    Args:
        hints: the artist's keyframes.
        count: the clip's length.
        lightness: frame index -> (H, W) L* in [0, 100].
        known_cut: frame index -> whether it starts a new shot, as the clip says (its
            ``_SceneChange*`` props), or None to let the detector decide.
        store: where motion is kept (default: in memory, for this call only).

    Returns:
        ``(propagated, cuts)``: a keyframe for every frame that has any hint (the artist's
        keyframes unchanged, propagated ones marked ``"propagated": true``) and the frames that
        start a new shot.
    """
    footage = Footage(
        _Lightness(count, lightness, known_cut),
        settings.motion,
        store if store is not None else MemoryStore(),
    )
    for n in range(count):  # frames in order: read once each, as far as memory allows
        footage.picture(n)
        if n:
            footage.cut_before(n)
    cuts = {n for n in range(1, count) if footage.cut_before(n)}
    carried = CarriedHints(footage, hints, settings)
    return Hints(keyframes=tuple(carried.frames()), extra=hints.extra), cuts


class HintCarrier:
    """Carried hints for hints that keep changing (the paint window): one footage (so motion,
    cuts, digests and the pictures of the last :data:`CARRIER_PICTURES` frames are shared by
    every version of the hints), a :class:`CarriedHints` for the latest version. Thread-safe;
    slow calls (they read and track a span) belong off a UI thread.

    Args:
        source: the frames.
        store: where motion is kept (default: the motion store in the cache folder, shared with
            renders).
    """

    def __init__(
        self, source: FrameSource, *, settings: PropagationSettings | None = None, store: Store | None = None
    ) -> None:
        self.settings = settings if settings is not None else PropagationSettings()
        self.footage = Footage(source, self.settings.motion, store, keep_pictures=CARRIER_PICTURES)
        self._carried: CarriedHints | None = None
        self._lock = threading.Lock()

    def keyframe(self, hints: Hints, n: int) -> Keyframe | None:
        """Frame n's hints under ``hints``: the artist's keyframe or those carried there."""
        with self._lock:
            carried = self._carried
            if carried is None or (carried.hints is not hints and carried.hints != hints):
                carried = self._carried = CarriedHints(self.footage, hints, self.settings)
        return carried.keyframe(n)

    def shot(self, n: int) -> range:
        """The frames of n's shot."""
        return range(self.footage.shot_start(n), self.footage.shot_end(n) + 1)
