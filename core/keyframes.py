"""Where the next keyframe pays most: in each shot, the frames whose picture the keyframes reach
least, judged from the motion alone (nothing is colorized or carried).

A keyframe's hints reach what stays in view from it: the parts of a frame that the optical flow
traces, pixel by pixel and frame by frame, back (or on) to the keyframe without failing its
forward-backward check. What enters the frame, comes out from behind something or is uncovered
by the camera has no such trace: no hint of that keyframe lands on it. So each place of each frame
gets a *lifetime*, from the frame it came into view (its *birth*: traced backwards until the trace
fails) to the last frame it stays in view (its *death*: traced forwards). A place is *covered*
when a keyframe lies within its lifetime.

A keyframe at frame f would cover every uncovered place whose lifetime contains f, in every frame
the place is seen in: its *gain* is the sum of those places' areas over those frames, in frames'
worth of picture (1.0: a whole picture for one frame), each frame weighed as carried hints are
(:mod:`vscolorize.core.carry`): linearly to 0 at the keyframe beyond it, or halving over
:data:`HALF_LIFE` frames where there is none. The weight prefers, among frames that see the same
new things, the first that sees them whole: a person walking in is suggested as they arrive, not
at the end of the shot. In a shot without a keyframe every place is uncovered and the best frame
is the one that sees most of the shot: a frame that represents it.

In a shot with keyframes the suggestion is the first frame whose gain comes within
:data:`NEAR_BEST` of the best: where the new thing has just come in whole. The suggestions of a shot
are chosen one by one, each as if the ones before were keyframes, while one brings at least
:data:`LEAST_GAIN`.

The work is per shot: each pair of frames is read once, in order (:meth:`Footage.pair`, from the
motion store when it is there), shrunk to a grid of :data:`GRID_SIDE` pixels on the short side and
kept for the shot (about 60 KB a frame); a frame's cost is that of its pair plus the shot's length
in scalar operations.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import cv2
import numpy as np

from .errors import SettingError
from .footage import Footage
from .hints import Hints
from .images import scaled_size
from .motion import HINT_CONSISTENCY, Pair, pixel_grid, warp

__all__ = [
    "GRID_SIDE",
    "HALF_LIFE",
    "LEAST_GAIN",
    "LEAST_RESIDUAL",
    "NEAR_BEST",
    "RESIDUAL_SHARE",
    "ShotMotion",
    "Suggestion",
    "check_per_shot",
    "keyframe_frames",
    "suggest_in_shot",
    "suggest_keyframes",
]

# lifetimes are followed on pictures this small (short side, px): a place is a few working pixels
GRID_SIDE = 64
# with no keyframe beyond it, a carried hint's weight halves over this many frames (as in
# vscolorize.core.carry)
HALF_LIFE = 240
# a suggestion must bring at least this much into reach (frames' worth of picture): less is the
# flow's own noise (a few stray places on a long shot), not something new
LEAST_GAIN = 0.5
# where a shot has keyframes, the suggestion is the first frame that brings this share of the most
# any frame brings: a keyframe where something new has just come in whole, rather than frames
# later where the flow's noise and a slow pan's few new columns add a little
NEAR_BEST = 0.9
# a place holds from one frame to the next where the picture seen along the flow differs from its
# own by at most this much (mean over a _PATCH-wide square, in the motion pictures' gray levels)
# or RESIDUAL_SHARE times the pair's median difference (grain raises every difference at once)
LEAST_RESIDUAL = 8.0
RESIDUAL_SHARE = 3.0
_PATCH = 5
# uncovered places count only where they are at least this many places thick: a sliver (the
# columns a slow pan uncovers at the frame's edge, the flow's stray misses along a moving outline)
# takes its colors from the covered picture around it, while a new thing needs hints of its own
_SLIVER = 3
# labels are carried through a reference frame at most this many frames back (see _carried)
_WINDOW = 8


@dataclass(frozen=True)
class Suggestion:
    """A frame where a new keyframe would pay.

    Attributes:
        frame: the frame's index in the clip.
        shot: the frames of its shot.
        gain: what a keyframe there brings into the keyframes' reach, in frames' worth of picture
            (1.0: a whole picture for one frame), weighed by distance as carried hints are.
        uncovered: the share of the frame's own picture, in [0, 1], that no keyframe reaches now
            (with the shot's better suggestions taken as keyframes).
        keyed: whether the shot has a keyframe already.
    """

    frame: int
    shot: range
    gain: float
    uncovered: float
    keyed: bool

    @property
    def reason(self) -> str:
        """Why, in a few words: what a timeline or a command line shows beside the frame."""
        if not self.keyed:
            return f"no keyframe in this shot; this frame sees most of it ({self.gain:.1f} frames' worth)"
        return (
            f"{self.uncovered:.0%} of the picture out of the keyframes' reach "
            f"({self.gain:.1f} frames' worth brought in)"
        )


@dataclass
class ShotMotion:
    """A shot's motion on a small grid, added pair by pair in order: for each pair of
    consecutive frames, each way, the flow and where it holds (passes the forward-backward check
    as a carried hint must).

    Attributes:
        start: the shot's first frame.
    """

    start: int
    _forward: list[tuple[np.ndarray, np.ndarray]] = field(default_factory=list)
    _backward: list[tuple[np.ndarray, np.ndarray]] = field(default_factory=list)
    _size: tuple[int, int] | None = None

    def __len__(self) -> int:
        """The frames the shot has so far."""
        return len(self._forward) + 1

    @property
    def frames(self) -> range:
        return range(self.start, self.start + len(self))

    def add(self, pair: Pair, before: np.ndarray, after: np.ndarray) -> None:
        """The motion between the shot's last frame so far and the next, and those frames'
        pictures (as motion was measured on them: (h, w) uint8)."""
        h, w = pair.shape
        if self._size is None:
            self._size = scaled_size(h, w, GRID_SIDE)
        self._forward.append(_shrunk(pair, True, after, before, self._size))
        self._backward.append(_shrunk(pair, False, before, after, self._size))

    @classmethod
    def read(cls, footage: Footage, shot: range) -> ShotMotion:
        """The motion of ``shot``'s frames, from ``footage`` in order."""
        motion = cls(shot.start)
        for m in shot[:-1]:
            motion.add(footage.pair(m), footage.picture(m), footage.picture(m + 1))
        return motion

    def _lifetimes(self, marks: list[int]) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Per frame of the shot, in order, the frame each place came into view (its birth) and
        the last frame it stays in view (its death), each (h, w) float32; a keyframe (in
        ``marks``) starts and ends every lifetime it sees, so a place is covered exactly where its
        birth or its death is a keyframe."""
        size = self._size if self._size is not None else (1, 1)
        keys = set(marks)
        starts = range(self.start + 1, self.start + len(self))
        births = list(_carried(zip(starts, self._backward, strict=True), self.start, size, keys))
        ends = reversed(range(self.start, self.start + len(self) - 1))
        last = self.start + len(self) - 1
        deaths = _carried(zip(ends, reversed(self._forward), strict=True), last, size, keys)
        yield from zip(births, reversed(list(deaths)), strict=True)

    def gains(self, marks: list[int]) -> tuple[np.ndarray, np.ndarray]:
        """With keyframes at ``marks`` (frames of the shot, sorted), per frame of the shot: what
        a keyframe there would bring into reach (frames' worth of picture, see the module's doc)
        and the share of its picture no keyframe reaches, each (len(self),) float64."""
        count, start = len(self), self.start
        frames = np.arange(count)
        before, after = _neighbors(count, [k - start for k in marks])
        gain, uncovered = np.zeros(count), np.zeros(count)
        for t, (birth, death) in enumerate(self._lifetimes(marks)):
            open_ = _thick(~(np.isin(birth, marks) | np.isin(death, marks)))
            uncovered[t] = open_.mean()
            if not open_.any():
                continue
            # how many open places of frame t a keyframe at each frame f would cover: those whose
            # lifetime holds f (+1 where lifetimes start, -1 past where they end)
            first = birth[open_].astype(np.intp) - start
            past = death[open_].astype(np.intp) - start + 1
            edges = np.bincount(first, minlength=count + 1) - np.bincount(past, minlength=count + 1)
            covered = np.cumsum(edges)[:count] / birth.size
            gain += covered * _weights(t, frames, before, after)
        return gain, uncovered


def _shrunk(
    pair: Pair, forward: bool, there: np.ndarray, here: np.ndarray, size: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray]:
    """One way of a pair on the grid: the flow (grid px) from picture ``here`` towards picture
    ``there``, and where it holds: it passes the forward-backward check, and ``there`` seen
    along it looks like ``here`` (a flow that is smooth both ways can still slide over something
    new, and only its look tells)."""
    h, w = size
    full_h, full_w = pair.shape
    flow = pair.flow(forward)
    residual = cv2.blur(np.abs(warp(there.astype(np.float32), flow) - here), (_PATCH, _PATCH))
    alike = residual <= max(LEAST_RESIDUAL, RESIDUAL_SHARE * float(np.median(residual)))
    holds = (pair.holds(forward, HINT_CONSISTENCY) & alike).astype(np.float32)
    kept = cv2.resize(holds, (w, h), interpolation=cv2.INTER_AREA) >= 0.5
    flow = cv2.resize(flow, (w, h), interpolation=cv2.INTER_AREA)
    flow *= np.array([w / full_w, h / full_h], np.float32)
    return flow.astype(np.float16), kept


def _carried(
    steps: Iterable[tuple[int, tuple[np.ndarray, np.ndarray]]],
    first: int,
    size: tuple[int, int],
    keys: set[int],
) -> Iterator[np.ndarray]:
    """Labels carried frame by frame: ``first`` everywhere on the first frame, then per step
    ``(n, (flow, holds))`` (frame n's flow towards the frame before and where it holds) the label
    of the place each place came from, or n where it came from nowhere (and everywhere on a
    keyframe, one of ``keys``).

    A place is looked up through its position in a reference frame at most :data:`_WINDOW`
    steps back, composed along the flow with subpixel precision: taking the nearest place at
    every step would round away any motion under half a place a frame, and a slow pan would
    never carry its labels (or uncover anything)."""
    h, w = size
    grid = pixel_grid(h, w)
    label = np.full(size, first, np.float32)
    yield label
    reference, at, young, since = label, grid, np.full(size, -1, np.float32), 0
    for n, (flow, holds) in steps:
        if n in keys:
            label = np.full(size, n, np.float32)
            reference, at, young, since = label, grid, np.full(size, -1, np.float32), 0
            yield label
            continue
        landing = grid + flow.astype(np.float32)
        at = cv2.remap(at, landing, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        young = _nearest(young, landing)
        gone = ~holds | _outside(landing, h, w) | _outside(at, h, w)
        young[gone] = n
        label = np.where(young >= 0, young, _nearest(reference, at))
        since += 1
        if since == _WINDOW:
            reference, at, young, since = label, grid, np.full(size, -1, np.float32), 0
        yield label


def _thick(mask: np.ndarray) -> np.ndarray:
    """``mask`` less its parts thinner than :data:`_SLIVER` places (a morphological opening)."""
    kernel = np.ones((_SLIVER, _SLIVER), np.uint8)
    opened: np.ndarray = cv2.morphologyEx(mask.astype(np.uint8), cv2.MORPH_OPEN, kernel).astype(bool)
    return opened


def _outside(xy: np.ndarray, h: int, w: int) -> np.ndarray:
    x, y = xy[..., 0], xy[..., 1]
    out: np.ndarray = (x < -0.5) | (x > w - 0.5) | (y < -0.5) | (y > h - 0.5)
    return out


def _nearest(labels: np.ndarray, at: np.ndarray) -> np.ndarray:
    """``labels`` at the (h, w, 2) positions ``at``, nearest place, the border repeated."""
    found: np.ndarray = cv2.remap(labels, at, None, cv2.INTER_NEAREST, borderMode=cv2.BORDER_REPLICATE)
    return found


def _neighbors(count: int, marks: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """Per frame (0-based in the shot): the nearest keyframe before it and after it, -1 where
    there is none."""
    before, after = np.full(count, -1), np.full(count, -1)
    for f in range(count):
        i = bisect.bisect_left(marks, f)
        before[f] = marks[i - 1] if i > 0 else -1
        j = bisect.bisect_right(marks, f)
        after[f] = marks[j] if j < len(marks) else -1
    return before, after


def _weights(t: int, frames: np.ndarray, before: np.ndarray, after: np.ndarray) -> np.ndarray:
    """The weight a keyframe at each frame f would give its hints on frame t: linear to 0 at the
    keyframe beyond t (``before[f]`` when t < f, ``after[f]`` when t > f), else halving over
    HALF_LIFE frames (frames 0-based in the shot)."""
    distance = np.abs(frames - t).astype(np.float64)
    beyond = np.where(frames > t, before, after)
    span = np.abs(frames - beyond).astype(np.float64)
    linear = np.clip(1 - distance / np.maximum(span, 1), 0, 1)
    return np.where(beyond >= 0, linear, 1 / (1 + distance / HALF_LIFE))


def suggest_in_shot(motion: ShotMotion, keyframes: Iterable[int], *, per_shot: int = 1) -> list[Suggestion]:
    """Up to ``per_shot`` frames of one shot, best first, where a new keyframe pays most (see
    the module's doc); ``keyframes``: the frames of the shot's keyframes (others are ignored)."""
    shot = motion.frames
    marks = sorted({k for k in keyframes if k in shot})
    keyed = bool(marks)
    out: list[Suggestion] = []
    while len(out) < per_shot:
        gain, uncovered = motion.gains(marks)
        best = int(np.argmax(gain))
        if marks:  # something new: the first frame that sees (nearly) all of it
            best = int(np.argmax(gain >= NEAR_BEST * gain[best]))
        if gain[best] < LEAST_GAIN and (keyed or out):
            break
        frame = shot.start + best
        out.append(Suggestion(frame, shot, float(gain[best]), float(uncovered[best]), keyed))
        bisect.insort(marks, frame)
    return out


def check_per_shot(per_shot: object) -> None:
    """Raises:
    SettingError: ``per_shot`` is not a whole number of at least 1."""
    if isinstance(per_shot, bool) or not isinstance(per_shot, int) or per_shot < 1:
        raise SettingError(f"per_shot must be a whole number of at least 1, not {per_shot!r}")


def keyframe_frames(hints: Hints | None) -> list[int]:
    """The frames of the keyframes that carry any hint (a keyframe left empty reaches nothing)."""
    if hints is None:
        return []
    return sorted({k.frame for k in hints.keyframes if k.points or k.strokes})


def suggest_keyframes(
    footage: Footage,
    hints: Hints | None,
    *,
    per_shot: int = 1,
    first: int = 0,
    last: int | None = None,
) -> list[Suggestion]:
    """Where the next keyframes pay most, shot by shot: up to ``per_shot`` frames of each shot
    that meets frames ``first`` .. ``last``, shots in order, best first within a shot (see the
    module's doc). ``hints`` None: no keyframe anywhere, so every shot gets its most
    representative frames. Reads the frames (or their motion from the store) once, in order.

    Raises:
        SettingError: ``per_shot`` is not a whole number of at least 1.
    """
    check_per_shot(per_shot)
    marks = keyframe_frames(hints)
    out: list[Suggestion] = []
    for shot in footage.shots(first, last):
        out += suggest_in_shot(ShotMotion.read(footage, shot), marks, per_shot=per_shot)
    return out
