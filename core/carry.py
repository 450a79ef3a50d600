"""One keyframe's hints carried one way through its shot, frame by frame, as far as they are
asked for (see ``vscolorize.core.propagation`` for what carrying does to them).

A :class:`Walk` starts at its keyframe and steps away from it one frame at a time: it reads the
frame's picture and the motion from the frame before, moves the hints
(:class:`~vscolorize.core.tracking.Anchors`) and keeps what the step measured. It stops where the
shot ends (a cut, found as it goes, or the clip's end) or at the next keyframe. A frame's hints
need the steps up to it and :data:`Walk.AHEAD` more (the confidence fade and the light look that
far ahead), so frame 10 of a shot waits for 18 steps, never for the rest of the shot: carried
hints arrive in the time of the distance.

A frame's hints are a pure function of the steps before it and of the few after it, and the steps
are the same whoever asks for which frame, in which order, on how many threads: the hints of
frame n are the same bits whether the walk went there at once or in pieces. What a walk keeps per
step is bounded by its shot.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field, replace

import numpy as np

from .footage import Footage
from .hints import Keyframe, Lifetime, Point, Stroke, densify_path
from .light import Light, sampled, scaled, surroundings
from .motion import HINT_CONSISTENCY, MOTION_SHARE, MotionSettings, Pair
from .tracking import FADE_FRAMES, Anchors, Limits

__all__ = ["Fade", "PropagationSettings", "Side", "Walk", "fade"]

# a carried hint lighter than this is left out
_LEAST_WEIGHT = 0.02
# with no keyframe ahead, a carried hint's weight halves over this many frames (10 s at 24 fps):
# the farther from its keyframe, the more error it has gathered
_HALF_LIFE = 240
# a walk backwards reads its frames in forward runs this long (decoders seek backwards dearly)
_RUN = 8


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
    points: list[tuple[int, Point]]  # each point with its index in the keyframe
    strokes: list[tuple[int, Stroke, slice]]  # each stroke, its index, its vertices' anchors
    anchors: Anchors
    lives: list[Lifetime]  # each anchor's hint's lifetime (all always: empty)

    @classmethod
    def start(
        cls, keyframe: Keyframe, picture: np.ndarray, settings: PropagationSettings, forward: bool
    ) -> _Track:
        """The hints of ``keyframe`` its lifetimes carry ``forward`` (or back), on ``picture``."""
        frame = _Frame(picture.shape)
        points = [(i, p) for i, p in enumerate(keyframe.points) if p.life.carries(forward)]
        xy = np.array([(p.x, p.y) for _, p in points], np.float64).reshape(-1, 2)
        px, strokes, at = [frame.to_pixels(xy)], [], len(points)
        lives = [p.life for _, p in points]
        for index, s in enumerate(keyframe.strokes):
            if not s.life.carries(forward):
                continue
            vertices = densify_path(frame.to_pixels(np.array(s.path, np.float64)), settings.stroke_step)
            px.append(vertices)
            strokes.append((index, s, slice(at, at + len(vertices))))
            lives += [s.life] * len(vertices)
            at += len(vertices)
        limits = Limits(settings.consistency, settings.consistency_share)
        may_stand_in = np.arange(at) < len(points)  # a stroke's lost vertices just drop out
        anchors = Anchors(picture, np.concatenate(px), limits, may_stand_in)
        always = all(life.always for life in lives)
        return cls(keyframe.frame, points, strokes, anchors, [] if always else lives)

    def shown(self, frame: int) -> np.ndarray | None:
        """(N,) 1 where each anchor's hint paints on ``frame``, else 0 (None: all paint)."""
        if not self.lives:
            return None
        shows = {life: life.shows(frame) for life in set(self.lives)}
        return np.array([shows[life] for life in self.lives], np.float64)

    def end(self, forward: bool) -> int | None:
        """The farthest frame that way any hint paints on (None: no end but the shot's)."""
        ends = [life.last if forward else life.first for life in self.lives] or [None]
        if any(end is None for end in ends):
            return None
        return max(ends) if forward else min(ends)  # type: ignore[type-var]

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

        def note(index: int, w: float, stand_in: bool = False) -> dict[str, object]:
            extra: dict[str, object] = {
                "propagated_from": self.source,
                "propagated_index": index,
                "confidence": round(w, 4),
            }
            return {**extra, "stand_in": True} if stand_in else extra

        xy = frame.to_fractions(shown).clip(0, 1)
        points = [
            replace(
                p,
                x=float(x),
                y=float(y),
                color=scaled(p.color, chroma[i]),
                extra={**p.extra, **note(index, float(w), place > 0)},
            )
            for i, (index, p) in enumerate(self.points)
            for place, ((x, y), w) in enumerate(zip(xy[i], weight[i] * shares[i], strict=True))
            if w >= _LEAST_WEIGHT
        ]
        xy, weight = xy[:, 0], weight * shares[:, 0]
        strokes = []
        for index, stroke, place in self.strokes:
            alive = weight[place] >= _LEAST_WEIGHT
            for run in _runs(np.arange(place.start, place.stop), alive):
                path = tuple(map(tuple, xy[run].tolist()))
                extra = {**stroke.extra, **note(index, float(weight[run].mean()))}
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


class Fade:
    """:func:`fade` frame by frame: weights come in order (:meth:`add`), and frame t's eased
    weights (:meth:`eased`) depend only on the frames up to t + ``frames`` - 1 (fewer where the
    frames end), the same bits whether the frames after came in one go or later."""

    def __init__(self, count: int, before: float | np.ndarray = 1.0, frames: int = FADE_FRAMES) -> None:
        self.frames = max(frames, 1)
        self.ahead = self.frames - 1  # the frames after frame t its eased weights depend on
        self._rate = 1.0 / self.frames
        # the envelope from the past: the weights, rising by at most the rate a frame
        self._rising = [np.full(count, before, np.float64)]

    def __len__(self) -> int:
        return len(self._rising) - 1

    def add(self, weights: np.ndarray) -> None:
        """The next frame's (N,) weights, each in [0, 1]."""
        self._rising.append(np.minimum(np.asarray(weights, np.float64), self._rising[-1] + self._rate))

    def eased(self, t: int, ended: bool = False) -> np.ndarray:
        """(N,) frame t's weights (0: the first frame added), falling by at most the rate a
        frame towards a frame where they are lower. Needs the frames up to t + ``ahead`` added,
        or ``ended`` (no more will come)."""
        if not ended and len(self) <= t + self.ahead:
            raise ValueError(f"Fade.eased: frame {t} needs {t + self.ahead + 1} frames, {len(self)} came")
        # the envelope from the future: no higher than a later frame's plus the rate a frame
        # (a weight is at most 1, so frames ``frames`` or more ahead cannot lower it)
        ahead = self._rising[t + 1 : t + 1 + self.frames]
        eased = ahead[0]
        for k, later in enumerate(ahead[1:], 1):
            eased = np.minimum(eased, later + k * self._rate)
        return eased


def fade(weights: np.ndarray, before: float = 1.0, frames: int = FADE_FRAMES) -> np.ndarray:
    """Weights over time, eased: (T, N) per frame and position, each in [0, 1] -> (T, N), the
    largest weights that are nowhere above the input (a frame where a position is lost keeps
    weight 0) and change by at most ``1 / frames`` from one frame to the next: a hint fades in
    and out over ``frames`` frames rather than popping, and a one-frame dropout is a short dip.
    ``before``: the weight just before the first frame (1 beside a keyframe: its own hints)."""
    if not len(weights) or frames <= 0:
        return weights
    easing = Fade(weights.shape[1], before, frames)
    for row in weights:
        easing.add(row)
    return np.array([easing.eased(t, ended=True) for t in range(len(weights))]).reshape(weights.shape)


Side = tuple[float, list[Point], list[Stroke]]  # (nearness, points, strokes) from one keyframe


@dataclass(frozen=True)
class _Step:
    """Where one step showed each hint and the share of its weight each place got (see Anchors)."""

    shown: np.ndarray
    shares: np.ndarray


class Walk:
    """One keyframe's hints carried one way (``forward``: to the frames after it), as far as
    they are asked for (see the module's doc). Thread-safe (see :meth:`walk_to`).

    Args:
        footage: the clip's frames and motion.
        keyframe: the artist's keyframe the hints come from.
        forward: which way.
        stops: the frames of every keyframe: a walk stops before the next one.
        settings: how hints travel.
    """

    AHEAD = max(Light.AHEAD, FADE_FRAMES - 1)  # the steps after a frame its hints depend on

    def __init__(
        self,
        footage: Footage,
        keyframe: Keyframe,
        forward: bool,
        stops: frozenset[int],
        settings: PropagationSettings,
    ) -> None:
        self.footage = footage
        self.keyframe = keyframe
        self.forward = forward
        self._sign = 1 if forward else -1
        self._stops = stops
        self._settings = settings
        self._steps: list[_Step] = []
        self._track: _Track | None = None
        self._frame = _Frame((1, 1))
        self._fade = Fade(0)
        self._light = Light(np.zeros(0), np.zeros(0))
        self._clear = 0  # the steps known to stay in the shot (no cut, no keyframe)
        self._beyond: int | None = None  # the first step known to lie past a cut, once one is
        self._last: int | None = None  # the last step the shot allows, once its stop is found
        self._end: int | None = None  # the last step the hints' lifetimes need (None: no end)
        self._empty = False  # the keyframe has no hints (known once the walk starts)
        # what the next steps read (a pair of motion, a picture, its light; None: the walk's stop),
        # fetched by the threads that need the walk, each a step no other thread has taken
        self._inputs: dict[int, tuple[Pair, np.ndarray, np.ndarray] | None] = {}
        self._taken: set[int] = set()
        # held only while computing (never while reading frames: a VapourSynth worker waiting on
        # it must not hold a thread that a frame request needs, see vscolorize.core.memo)
        self._lock = threading.Lock()

    @property
    def reached(self) -> int:
        """The farthest frame walked to (the keyframe's before the first step)."""
        return self.keyframe.frame + self._sign * len(self._steps)

    def reaches(self, n: int) -> bool:
        """Whether frame n is in the walk's direction, in its shot and before the next keyframe,
        from the cut decisions alone, read from n towards the keyframe: the cost is the distance,
        or less (for a frame in another shot, the way back to that shot's start)."""
        t = (n - self.keyframe.frame) * self._sign
        if t < 1 or not 0 <= n < self.footage.count:
            return False
        with self._lock:
            if self._last is not None and len(self._steps) == self._last:  # walked to its stop
                return t <= self._last
            if t <= self._clear:
                return True
            if self._beyond is not None and t >= self._beyond:
                return False
        key = self.keyframe.frame
        if self.forward:
            found = self.footage.shot_start(n, stop=frozenset({key}))
        else:
            found = self.footage.shot_end(n, stop=frozenset({key}))
        with self._lock:
            if found == key:
                self._clear = max(self._clear, t)
            else:  # the shot of n starts (ends) at ``found``: no frame from there on is reached
                beyond = (found - key) * self._sign
                self._beyond = beyond if self._beyond is None else min(self._beyond, beyond)
        return found == key

    def walk_to(self, n: int) -> bool:
        """Walk as far as frame n's hints need (:meth:`reaches` said it reaches n): the steps up
        to n and :data:`AHEAD` more. Whether any hints come (not from a keyframe without any).

        Every thread that needs the walk reads what a step needs (frames, motion, the cut
        decision), each a step no other has taken, or the next one itself when all are taken
        (it never waits for another thread's reading); the steps are then taken in order, by
        whichever thread holds the walk (computation only)."""
        t = (n - self.keyframe.frame) * self._sign
        if self._track is None:
            key = self.keyframe.frame
            picture, light = self.footage.picture(key), self.footage.light(key)
            with self._lock:
                if self._track is None:
                    self._start(picture, light)
        if self._end is not None and t >= self._end:  # past every hint's lifetime
            return False
        while True:
            with self._lock:
                if self._ready(t):
                    return self._carries(t)
                step = self._take(self._needs(t))
            inputs = self._fetch(step)
            with self._lock:
                if self._last is None:  # else the walk stopped meanwhile: nothing to keep
                    self._inputs.setdefault(step, inputs)
                    self._advance()

    def _carries(self, t: int) -> bool:
        return (
            not self._empty
            and (self._last is None or t <= self._last)
            and (self._end is None or t < self._end)
        )

    def _needs(self, t: int) -> int:
        """The steps step t's hints need: up to t and AHEAD more, none past the lifetimes' end."""
        return t + self.AHEAD if self._end is None else min(t + self.AHEAD, self._end)

    def _ended(self) -> bool:
        """Whether no step will come (the walk's stop, or its lifetimes' end, is reached)."""
        walked = len(self._steps)
        stopped = self._last is not None and walked == self._last
        return stopped or (self._end is not None and walked >= self._end)

    def side(self, n: int, other: int | None) -> Side:
        """Frame n's hints from this walk (after :meth:`walk_to` n): each hint's weight
        what tracking measured (eased by :class:`Fade`) times its
        weight for the distance in frames, which falls linearly to 0 at ``other`` (the keyframe
        on the far side of n, when it is in n's shot) or, with none, is
        ``1 / (1 + distance / _HALF_LIFE)``."""
        assert self._track is not None
        t = (n - self.keyframe.frame) * self._sign
        ended = self._ended()
        weight = self._fade.eased(t - 1, ended)
        scale = self._light.scales(t, ended)
        if other is None:
            near = 1 / (1 + t / _HALF_LIFE)
        else:
            near = abs(other - n) / abs(other - self.keyframe.frame)
        step = self._steps[t - 1]
        return (near, *self._track.hints(self._frame, step.shown, step.shares, weight * near, scale))

    def _ready(self, t: int) -> bool:
        """Whether step t's hints can be made (the lock held)."""
        return self._empty or len(self._steps) >= self._needs(t) or self._ended()

    def _take(self, until: int) -> int:
        """The first step up to ``until`` whose reading no thread has taken, else the next step
        (the lock held)."""
        following = len(self._steps) + 1
        for step in range(following, until + 1):
            if step not in self._taken and step not in self._inputs:
                self._taken.add(step)
                return step
        return following

    def _fetch(self, step: int) -> tuple[Pair, np.ndarray, np.ndarray] | None:
        """What ``step`` reads: the pair of motion from the frame before, the frame's picture and
        light; None where the walk stops before it. Reads frames: never with the lock held."""
        footage, m = self.footage, self.keyframe.frame + self._sign * step
        if step > self._clear and self._stops_at(m):
            return None
        if not self.forward and (self.keyframe.frame - m) % _RUN == 1:
            footage.prefetch(m - _RUN + 1, m)  # one forward run rather than frame by frame
        pair = footage.pair(m - 1) if self.forward else footage.pair(m)
        return pair, footage.picture(m), footage.light(m)

    def _advance(self) -> None:
        """Take every step whose reading is here, in order (the lock held; computation only)."""
        while self._last is None and not self._empty:
            step = len(self._steps) + 1
            if step not in self._inputs:
                return
            inputs = self._inputs.pop(step)
            self._taken.discard(step)
            if inputs is None:
                self._last = step - 1
                self._inputs.clear()
                return
            self._step(*inputs)
            self._clear = max(self._clear, step)

    def _start(self, picture: np.ndarray, light: np.ndarray) -> None:
        self._frame = _Frame(picture.shape)
        key = self.keyframe.frame
        track = _Track.start(self.keyframe, picture, self._settings, self.forward)
        end = track.end(self.forward)
        if end is not None:  # a step past the last frame shown: the hints fade out by that frame
            self._end = max((end - key) * self._sign + 1, 0)
        px = track.anchors.px
        self._light = Light(
            sampled(light, px, picture.shape), sampled(surroundings(light), px, picture.shape)
        )
        shown = track.shown(key)
        self._fade = Fade(len(track.anchors), 1.0 if shown is None else shown)
        self._track = track
        self._empty = not len(track.anchors)

    def _stops_at(self, m: int) -> bool:
        """Whether frame m is past the walk's stop: outside the clip, a keyframe, or in another
        shot than the frame before it (on the walk)."""
        if not 0 <= m < self.footage.count or m in self._stops:
            return True
        return self.footage.cut_before(m if self.forward else m + 1)

    def _step(self, pair: Pair, picture: np.ndarray, light: np.ndarray) -> None:
        track = self._track
        assert track is not None
        anchors = track.anchors
        anchors.step(pair, self.forward, picture)
        shown = track.shown(self.keyframe.frame + self._sign * (len(self._steps) + 1))
        self._fade.add(anchors.weight if shown is None else anchors.weight * shown)
        self._light.add(sampled(surroundings(light), anchors.px, picture.shape), anchors.seen)
        self._steps.append(_Step(anchors.shown, anchors.shares))  # last: it makes the step count
