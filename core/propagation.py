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
the last keyframe of a shot it halves over 240 frames (10 s at 24 fps).

A carried hint's a*b* follow the light around it (:class:`vscolorize.core.light.Light`): a
surface that darkens, in a fade or a shadow, loses chroma as CIELAB says it does, so that a red
car's hint stays the car's red through a shadow or a fade to black rather than glowing there.

The unit of work is a *walk* (``vscolorize.core.carry``): one keyframe's hints carried one way,
frame by frame, as far as they are asked for, finding where its shot ends as it goes. Frame n's
hints need the walks of the keyframes on each side of it (when they are in its shot), each as far
as n and the few frames the fades look ahead: a frame waits for the distance to its keyframes,
never for its whole shot. What a walk measured is kept while frames nearby are asked for (a few
walks at most: memory is bounded by a shot, never by the clip).

A carried frame's hints are a :class:`~vscolorize.core.hints.Keyframe` marked
``"propagated": true``; each hint's ``extra`` records its keyframe (``propagated_from``), its
index among that keyframe's points or strokes (``propagated_index``), its ``confidence`` and,
for a stand-in, ``"stand_in": true``.
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Callable, Iterator

import numpy as np

from .carry import PropagationSettings, Walk
from .footage import Footage, FrameSource, MemoryStore, SourceFrame, Store
from .hints import Hints, Keyframe
from .memo import Memo
from .sources import LightnessSource

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
# walks kept at once (frames in flight on several threads need one or two; each keeps a few KB
# a frame walked)
_KEEP_WALKS = 4


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
        self._walks: Memo[tuple[int, bool], Walk] = Memo(_KEEP_WALKS)

    def walks(self, n: int) -> tuple[Walk | None, Walk | None]:
        """The walks that may carry hints to frame n (not a keyframe): from the nearest
        keyframe before it and from the nearest after it (None where there is none)."""
        i = bisect.bisect_left(self._marks, n)
        before = self._walk(self._marks[i - 1], True) if i > 0 else None
        after = self._walk(self._marks[i], False) if i < len(self._marks) else None
        return before, after

    def _walk(self, key: int, forward: bool) -> Walk:
        def make() -> Walk:
            return Walk(self.footage, self.keyframes[key], forward, self._stops, self.settings)

        return self._walks.get((key, forward), make)  # making one reads nothing

    def keyframe(self, n: int) -> Keyframe | None:
        """Frame n's hints: the artist's keyframe, the carried ones, or None."""
        if n in self.keyframes:
            return self.hints.painted(n)  # its hints whose lifetimes paint on it
        if not self.keyframes or not 0 <= n < self.footage.count:
            return None
        before, after = self.walks(n)
        # the keyframes on each side of n that are in its shot (the one after n too: where both
        # are, they hand over to each other), each walked as far as n needs: the wait is the
        # distance to them
        from_before = before is not None and before.reaches(n)
        from_after = after is not None and after.reaches(n)
        sides = []
        if before is not None and from_before and before.walk_to(n):
            sides.append(before.side(n, after.keyframe.frame if after is not None and from_after else None))
        if after is not None and from_after and after.walk_to(n):
            sides.append(after.side(n, before.keyframe.frame if before is not None and from_before else None))
        ordered = sorted(sides, key=lambda side: side[0])  # most confident painted last
        points = tuple(p for _, ps, _ in ordered for p in ps)
        strokes = tuple(s for _, _, ss in ordered for s in ss)
        if not (points or strokes):
            return None
        return Keyframe(frame=n, points=points, strokes=strokes, extra={"propagated": True})

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
    settings: PropagationSettings | None = None,
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
    settings = settings if settings is not None else PropagationSettings()
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
    slow calls (they read frames and carry hints to them) belong off a UI thread, and
    :meth:`progress` tells another thread how far they have come.

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

    def _for(self, hints: Hints) -> CarriedHints:
        with self._lock:
            carried = self._carried
            if carried is None or (carried.hints is not hints and carried.hints != hints):
                carried = self._carried = CarriedHints(self.footage, hints, self.settings)
            return carried

    def keyframe(self, hints: Hints, n: int) -> Keyframe | None:
        """Frame n's hints under ``hints``: the artist's keyframe or those carried there."""
        return self._for(hints).keyframe(n)

    def progress(self, hints: Hints, n: int) -> tuple[int, int] | None:
        """How far carrying ``hints`` to frame n has come, while :meth:`keyframe` works on it
        (on another thread): ``(reached, n)``, the frame the walk with the most left to go has
        reached, or None where nothing is carried (n is a keyframe, or no keyframe is near)."""
        carried = self._for(hints)
        if n in carried.keyframes:
            return None
        walks = [walk for walk in carried.walks(n) if walk is not None]
        if not walks:
            return None
        return max((walk.reached for walk in walks), key=lambda reached: abs(n - reached)), n

    def shot(self, n: int) -> range:
        """The frames of n's shot."""
        return range(self.footage.shot_start(n), self.footage.shot_end(n) + 1)
