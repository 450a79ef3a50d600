"""A clip's motion, on demand and shot by shot, in bounded memory.

:class:`Footage` wraps a :class:`FrameSource` (anything that can give frame n's lightness: a
VapourSynth clip in the plugin, a video or picture in the paint window, an array in tests) and
answers what propagation and the temporal filter ask: the picture motion is measured on, whether
a shot starts at frame n, and the :class:`~vscolorize.core.motion.Pair` between frames m and
m + 1, from the motion store when it is there (measured and stored when it is not).

Nothing is read up front: a question about frame n reads only the frames it needs, in short
forward runs (decoders seek forward cheaply, backward dearly). What is kept in memory is a few
dozen pictures and pairs and the cut decisions, each bounded: a film of any length costs the
same memory as a clip.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from .images import shrink
from .memo import Memo
from .motion import MotionSettings, Pair, cut_picture, flow_image, picture_digest, shots_differ
from .sources import FrameSource  # the engine's one frame-source protocol, kept importable here
from .store import MotionStore

__all__ = ["Footage", "FrameSource", "MemoryStore", "SourceFrame", "Store"]

# pictures read in one forward run when a frame is missing (a walk backwards reads runs this long)
_RUN = 8
# the temporal filter's widest window (33 frames) for a few frames in flight: 96 x 230 KB at 854x480
_KEEP_PICTURES = 96
# the light of a frame (see Footage.light): L* at this short side (px)
_LIGHT_SIDE = 64
_KEEP_PAIRS = 8
# cut decisions and digests of this many frames seen lately (about 100 bytes each)
_KEEP_CUTS = 1 << 16


@dataclass(frozen=True)
class SourceFrame:
    """What a source says of one frame.

    Attributes:
        lightness: (H, W) float32 L* in [0, 100].
        starts_shot: whether the frame says it starts a new shot (VapourSynth's
            ``_SceneChangePrev``), None when it does not say.
        ends_shot: whether it says the next frame starts one (``_SceneChangeNext``), or None.
    """

    lightness: np.ndarray
    starts_shot: bool | None = None
    ends_shot: bool | None = None


class Store(Protocol):
    def get(self, key: str) -> Pair | None: ...

    def put(self, key: str, pair: Pair) -> None: ...


class MemoryStore:
    """A store in memory, for tests and for callers that must not touch the disk; at most
    ``limit`` bytes (the pair stored last stays whatever its size), least recently used
    dropped. Thread-safe."""

    def __init__(self, limit: int = 1 << 30) -> None:
        self.limit = limit
        self._pairs: Memo[str, Pair] = Memo(limit, weigh=lambda pair: pair.nbytes)

    def get(self, key: str) -> Pair | None:
        return self._pairs.peek(key)

    def put(self, key: str, pair: Pair) -> None:
        self._pairs.put(key, pair)


@dataclass(frozen=True)
class _Picture:
    picture: np.ndarray  # uint8 at the motion working size
    small: np.ndarray | None  # what the cut detector compares (see motion.cut_picture)
    light: np.ndarray  # see Footage.light
    digest: bytes
    starts_shot: bool | None
    ends_shot: bool | None


class Footage:
    """A clip's pictures, shots and motion, computed when asked and kept in bounded memory.

    Args:
        source: the frames.
        settings: how motion is measured (the store's key includes them).
        store: where pairs are kept: a :class:`~vscolorize.core.store.MotionStore` (the default:
            on disk, shared with every other user of the same footage), a :class:`MemoryStore`,
            or anything with ``get(key)`` and ``put(key, pair)``.
        keep_pictures: how many frames' pictures stay in memory (230 KB each at the default
            motion size), the most recently used.
    """

    def __init__(
        self,
        source: FrameSource,
        settings: MotionSettings | None = None,
        store: Store | None = None,
        *,
        keep_pictures: int = _KEEP_PICTURES,
    ) -> None:
        self.source = source
        self.count = source.count
        self.settings = settings if settings is not None else MotionSettings()
        self.store: Store = store if store is not None else MotionStore()
        self._pictures: Memo[int, _Picture] = Memo(keep_pictures)
        self._pairs: Memo[int, Pair] = Memo(_KEEP_PAIRS)
        self._cuts: Memo[int, bool] = Memo(_KEEP_CUTS)
        self._digests: Memo[int, bytes] = Memo(_KEEP_CUTS)
        self._shape_lock = threading.Lock()
        self._shape: tuple[int, ...] | None = None
        self.reads = 0  # frames read from the source (for tests and benchmarks)
        self.measured = 0  # pairs measured here rather than found in the store

    def _make(self, n: int, frame: SourceFrame | None = None) -> _Picture:
        if frame is None:
            frame = self.source.read(n)
            self.reads += 1
        small = shrink(frame.lightness, self.settings.short_side)  # the working size
        picture = flow_image(small, self.settings.short_side)
        with self._shape_lock:
            if self._shape is None:
                self._shape = picture.shape
        if picture.shape != self._shape:
            raise ValueError(
                f"frame {n} is {frame.lightness.shape[::-1]} (width, height), unlike the frames before it"
            )
        digest = self._digests.put(n, picture_digest(picture))
        light = shrink(small, _LIGHT_SIDE).astype(np.float32, copy=False)
        return _Picture(picture, cut_picture(picture), light, digest, frame.starts_shot, frame.ends_shot)

    def _frame(self, n: int) -> _Picture:
        if not 0 <= n < self.count:
            raise IndexError(f"frame {n} is outside the clip (0-{self.count - 1})")
        # reads a frame: never wait for another thread here (see vscolorize.core.memo)
        return self._pictures.compute(n, lambda: self._make(n))

    def offer(self, n: int, frame: Callable[[], SourceFrame]) -> None:
        """Frame n, at the caller's hand (``frame()`` makes it): used rather than read, if it is
        not in memory already."""
        self._pictures.compute(n, lambda: self._make(n, frame()))

    def prefetch(self, first: int, last: int) -> None:
        """Read the pictures of frames ``first`` .. ``last`` (clipped to the clip) that are not in
        memory, in increasing order."""
        for k in range(max(first, 0), min(last, self.count - 1) + 1):
            self._frame(k)

    def picture(self, n: int) -> np.ndarray:
        """(h, w) uint8 lightness of frame n at the motion working size."""
        return self._frame(n).picture

    def light(self, n: int) -> np.ndarray:
        """(h, w) float32 L* of frame n as it is (its exposure kept), small: how much light falls
        around a place (carried hints' colors darken with it)."""
        return self._frame(n).light

    def digest(self, n: int) -> bytes:
        """Frame n's picture's digest (what the store's keys are made of)."""
        known = self._digests.peek(n)
        return known if known is not None else self._frame(n).digest

    def cut_before(self, n: int) -> bool:
        """Whether frame n starts a new shot (frame 0 does). The clip's own scene-change props
        decide when either frame carries one; :func:`~vscolorize.core.motion.shots_differ` otherwise."""
        if n <= 0:
            return True
        # reads frames: never wait for another thread here (see vscolorize.core.memo)
        return self._cuts.compute(n, lambda: self._decide_cut(n))

    def _decide_cut(self, n: int) -> bool:
        before, after = self._frame(n - 1), self._frame(n)
        said = [s for s in (before.ends_shot, after.starts_shot) if s is not None]
        if said:
            return any(said)
        return shots_differ(before.small, after.small, self.settings.cut_similarity)

    def pair(self, m: int) -> Pair:
        """The motion between frames m and m + 1 (both ways), from the store or measured."""
        found = self._pairs.peek(m)
        if found is not None:
            return found
        # the digests name the pair in the store (the digests of frames seen lately are kept, so
        # a pair in the store is found without reading its frames again)
        key = MotionStore.key(self.settings, self.digest(m), self.digest(m + 1))
        stored = self.store.get(key)
        if stored is not None:
            return self._pairs.compute(m, lambda: stored)
        # the frames first (which may read them), then the measuring, which other threads that
        # want the same pair wait for: it asks VapourSynth for nothing
        first, second = self._frame(m), self._frame(m + 1)

        def make() -> Pair:
            pair = self.store.get(key)  # measured meanwhile by another user of the store?
            if pair is None:
                pair = Pair.compute(first.picture, second.picture, self.settings)
                self.measured += 1
                self.store.put(key, pair)
            return pair

        return self._pairs.get(m, make)

    def shot_start(self, n: int, *, stop: frozenset[int] = frozenset()) -> int:
        """The first frame of n's shot, or the nearest frame in ``stop`` at or before n."""
        k = n
        while k not in stop and not self._cut_reading_back(k):
            k -= 1
        return k

    def shot_end(self, n: int, *, stop: frozenset[int] = frozenset()) -> int:
        """The last frame of n's shot, or the nearest frame in ``stop`` at or after n."""
        k = n
        while k not in stop and k < self.count - 1 and not self.cut_before(k + 1):
            k += 1
        return k

    def _cut_reading_back(self, k: int) -> bool:
        known = self._cuts.peek(k)
        if known is not None:
            return known
        if k > 0 and self._pictures.peek(k - 1) is None:
            self.prefetch(k - _RUN, k)  # one forward run rather than frame by frame backwards
        return self.cut_before(k)

    def shots(self, first: int = 0, last: int | None = None) -> Iterator[range]:
        """The shots that meet frames ``first`` .. ``last``, in order, reading forward."""
        last = self.count - 1 if last is None else last
        start = self.shot_start(first)
        while start <= last:
            end = self.shot_end(start)
            yield range(start, end + 1)
            start = end + 1
