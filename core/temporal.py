"""Temporal stability: a flow-compensated filter over a few frames of a*b*.

Each frame is colorized on its own, so small changes between frames (a hint that moved by a
fraction of a pixel, a slightly different solve) make colors shimmer. This filter replaces a
frame's a*b* by a weighted mean of its neighbors' a*b*, each warped onto it by dense optical flow
(from the motion store, chained frame to frame) and counted only where the forward-backward check
passes (an occluded or mistracked pixel keeps its own color) and only within the same shot. It
depends on the neighbors' own predictions and pictures only, so a frame's output stays a pure
function of the clip, the hints and the settings.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache, partial
from typing import TYPE_CHECKING, Protocol

import cv2
import numpy as np
import torch

from .footage import Footage, SourceFrame
from .hints import Keyframe
from .memo import Memo
from .motion import MotionSettings, Pair, pixel_grid, sample

if TYPE_CHECKING:
    from .pipeline import FramePipeline

__all__ = [
    "DEFAULT_TEMPORAL",
    "MAX_TEMPORAL",
    "Link",
    "Neighbors",
    "Predicted",
    "TemporalWindow",
    "temporal_filter",
]

# frames on each side the filter averages over by default (weights with sigma = radius / 2). 8
# flickers 21-37 % less than 4 on vtest.avi and pans over four held-out photos (classical engine;
# 18-20 % with the model), PSNR the same, for 3-7 % more time per frame (10-12 % with the model)
# (docs/results/propagation-temporal-4-6-8.txt); 4 flickered 11-47 % less than 2
# (docs/results/propagation-temporal-2-4.txt)
DEFAULT_TEMPORAL = 8
MAX_TEMPORAL = 16


@dataclass(frozen=True)
class Link:
    """The motion between two consecutive frames m and m + 1, both ways, and where it holds, at
    the size of the a*b* the filter averages: per way one (h, w, 4) float32 array of the flow
    (x, y), its check (1/0) and a 0 (see :func:`sample4`), so that the filter samples them in
    one pass."""

    forward_field: np.ndarray  # on frame m's grid, to frame m + 1
    backward_field: np.ndarray  # on frame m + 1's grid, to frame m

    @classmethod
    def from_pair(cls, pair: Pair, size: tuple[int, int]) -> Link:
        """The link of a stored pair of motion, resampled to (h, w) ``size``."""
        h, w = size
        ph, pw = pair.shape
        # per channel, float32 values: OpenCV's products round as numpy's float32 ones do
        scale = (float(np.float32(w / pw)), float(np.float32(h / ph)), 0.0, 0.0)

        def field(forward: bool) -> np.ndarray:
            flow = pair.flow(forward)
            holds: np.ndarray = pair.holds(forward, pair.pixel_limit(forward)).astype(np.float32)
            if (ph, pw) != (h, w):
                flow = cv2.multiply(cv2.resize(flow, (w, h), interpolation=cv2.INTER_LINEAR), scale)
                # a pixel holds where most of what it covers holds
                holds = cv2.resize(holds, (w, h), interpolation=cv2.INTER_AREA)
            ok = (holds >= 0.5).astype(np.float32)
            # OpenCV's merge: 5x faster than numpy's stacking along a last axis
            field: np.ndarray = cv2.merge([flow, ok, np.zeros_like(ok)])
            return field

        return cls(field(True), field(False))

    def field(self, forward: bool) -> np.ndarray:
        return self.forward_field if forward else self.backward_field

    @property
    def forward(self) -> np.ndarray:
        """(h, w, 2) flow on frame m's grid, to frame m + 1."""
        return self.forward_field[..., :2]

    @property
    def backward(self) -> np.ndarray:
        return self.backward_field[..., :2]

    @property
    def forward_ok(self) -> np.ndarray:
        """(h, w) 1/0: frame m's pixels that pass the check."""
        return self.forward_field[..., 2]

    @property
    def backward_ok(self) -> np.ndarray:
        return self.backward_field[..., 2]

    @classmethod
    def between(cls, a: np.ndarray, b: np.ndarray) -> Link:
        """The link between uint8 pictures ``a`` (frame m) and ``b`` (frame m + 1), measured at
        their own size."""
        settings = MotionSettings(short_side=min(a.shape))
        return cls.from_pair(Pair.compute(a, b, settings), a.shape)


def sample4(image: np.ndarray, maps: np.ndarray) -> np.ndarray:
    """:func:`vscolorize.core.motion.sample` of a picture of four float32 channels: OpenCV samples
    four channels with exact bilinear weights (SIMD), two or three with weights rounded to 1/32 of
    a pixel; at 272x480 four take 0.35 ms where two take 1.5 (OpenCV 5.1)."""
    assert image.ndim == 3 and image.shape[2] == 4 and image.dtype == np.float32
    return sample(image, maps)


def padded(ab: np.ndarray) -> np.ndarray:
    """(h, w, 2) a*b* as four float32 channels (two zeros after), for :func:`sample4`; as it is
    if it has four already."""
    if ab.shape[2] == 4:
        return ab
    zeros = np.zeros(ab.shape[:2], np.float32)
    return cv2.merge([ab.astype(np.float32, copy=False), zeros, zeros])


def temporal_filter(
    ab: Sequence[np.ndarray | None],
    links: Sequence[Link | None],
    *,
    sigma: float = 1.0,
) -> np.ndarray:
    """The middle frame's a*b*, averaged with its neighbors' along optical flow.

    Motion to a neighbor k frames away chains the k links between consecutive frames (so each
    link is computed once for the whole clip), and a pixel counts only if every link on the way
    passes the forward-backward check.

    Args:
        ab: (h, w, 2) a*b* of frames n - K .. n + K, all the same size (the middle one is frame
            n), or the same as :func:`padded` makes them (what a window keeps); None for a
            neighbor that must not count (past the clip's ends, or in another shot).
        links: the 2K links between consecutive frames of the window (``links[i]`` joins
            ``ab[i]`` and ``ab[i + 1]``); None where there is none.
        sigma: temporal spread of the weights, in frames (a neighbor k frames away weighs
            exp(-k^2 / 2 sigma^2)).

    Returns:
        (h, w, 2) float32 a*b* of frame n.
    """
    middle = len(ab) // 2
    assert ab[middle] is not None and len(links) == len(ab) - 1
    ab = [None if a is None else padded(a) for a in ab]
    center = ab[middle]
    assert center is not None
    h, w = center.shape[:2]
    total = center.copy()  # four channels throughout: contiguous products, the last two 0
    weights = np.ones((h, w), np.float32)
    grid = pixel_grid(h, w)
    # numpy's loops over a last axis of 2 or 3 (channels) are 5x slower than torch's; the same
    # float32 products and sums, so the same bits: torch shares these arrays' memory
    total_t = torch.from_numpy(total)
    for step in (-1, 1):
        moved = np.zeros((h, w, 2), np.float32)  # where each pixel of frame n is in frame j
        maps = grid.copy()  # grid + moved: where to sample frame j
        ok = np.ones((h, w), np.float32)
        moved_t = torch.from_numpy(moved)
        j = middle
        while 0 <= j + step < len(ab):
            link = links[j] if step > 0 else links[j - 1]
            other = ab[j + step]
            if link is None or other is None:
                break
            # the link's flow and where it holds, sampled at once where frame n's pixels are now
            field = link.field(step > 0)
            sampled = field if j == middle else sample4(field, maps)  # no motion yet: as it is
            ok *= sampled[..., 2] > 0.5
            moved_t += torch.from_numpy(sampled)[..., :2]
            np.add(grid, moved, out=maps)
            j += step
            weight = np.float32(np.exp(-((j - middle) ** 2) / (2 * sigma**2)))
            counted = ok * weight
            warped = torch.from_numpy(sample4(other, maps))
            warped *= torch.from_numpy(counted)[..., None]
            total_t += warped
            weights += counted
    result: np.ndarray = total[..., :2] / weights[..., None]
    return result


class Neighbors(Protocol):
    """Frames n - radius .. n + radius as one frame's request brought them (held at the clip's
    ends): what a frame's temporal window reads without asking the source again."""

    def lightness(self, k: int) -> np.ndarray:
        """(H, W) float32 L* in [0, 100] of frame ``k``, computed at most once."""
        ...

    def frame(self, k: int) -> SourceFrame:
        """Frame ``k`` as motion sees it (its L* and what it says of scene changes)."""
        ...


# frame k -> the network's a*b* of frame k at the working size, (h, w, 2) float32, made elsewhere
# (by another runtime, for the frames one request brought)
type Predicted = Callable[[int], np.ndarray]


@cache
def _helpers(count: int) -> ThreadPoolExecutor:
    """``count`` threads that help fill temporal windows, shared by the process's windows."""
    return ThreadPoolExecutor(count, thread_name_prefix="vscolorize-window")


class TemporalWindow:
    """The temporal filter over a clip: per-frame predictions at the working size and the links
    of motion between consecutive frames, each computed once and kept for the frames around it.

    Args:
        pipeline: makes each frame's cleaned-up a*b* at the working size.
        footage: the clip's motion.
        hints_of: frame n's hints (its keyframe, or those carried to it).
        radius: frames on each side.
        workers: threads that may make a window's missing predictions at once (VapourSynth's
            thread count: where a single frame is asked for, a first frame or a seek, its window
            is filled on this many cores); 1: on the thread that asks.
    """

    def __init__(
        self,
        pipeline: FramePipeline,
        footage: Footage,
        hints_of: Callable[[int], Keyframe | None],
        radius: int,
        workers: int = 1,
    ) -> None:
        self.pipeline = pipeline
        self.footage = footage
        self.hints_of = hints_of
        self.radius = radius
        self.workers = workers
        # room for the windows of several frames in flight at once (vspipe's threads)
        keep = 4 * radius + 16
        self._entries: Memo[int, np.ndarray] = Memo(keep)
        self._links: Memo[int, Link] = Memo(keep)

    def entry(
        self, n: int, lightness: Callable[[], np.ndarray], predicted: Predicted | None = None
    ) -> np.ndarray:
        """a*b* of frame ``n`` at the working size, cleaned up, as :func:`padded` keeps it
        (``lightness()``: the frame's full-size L*, asked for only if the prediction is not made
        yet; ``predicted``: the network's a*b* made elsewhere, else the pipeline's engine makes
        it)."""
        found = self._entries.peek(n)
        if found is not None:
            return found
        return self._entries.get(n, self._maker(n, lightness, predicted))

    def _maker(
        self, n: int, lightness: Callable[[], np.ndarray], predicted: Predicted | None
    ) -> Callable[[], np.ndarray]:
        """What makes frame n's entry: a pure computation (its hints, which may read frames, are
        found here, on the calling thread, not where the entry is made)."""
        keyframe = self.hints_of(n)

        def make() -> np.ndarray:  # kept as the filter samples it
            if predicted is None:
                return padded(self.pipeline.prediction(lightness(), keyframe))
            return padded(self.pipeline.clean(predicted(n), lightness(), keyframe))

        return make

    def _share(
        self,
        wanted: list[int],
        frames: Neighbors,
        predicted: Predicted | None,
        meanwhile: Callable[[], object],
        afterwards: Callable[[tuple[int, int]], object],
    ) -> None:
        """Make several missing entries at once (a first frame, a seek and a shot's first frame
        need a whole window of them) on this thread and up to ``workers - 1`` helpers, then do
        ``meanwhile()`` (what only this thread may do: reading) while they work; an entry
        another frame in flight is making meanwhile is left to it. When nothing is left to
        take, this thread does ``afterwards(size)`` (size: the entries' (h, w)) while the
        helpers finish theirs.

        Their hints are found here, one after the other, and each entry goes to the helpers as
        soon as its hints are known: finding them may read frames, and a helper must never wait
        for anything but its own computing (each job is one entry, made or found made). A thread
        VapourSynth lent us that waits on one of ours is a thread it cannot lend back to a frame
        request (see :mod:`vscolorize.core.memo`); waiting on computing alone always ends.
        """
        pool = _helpers(self.workers - 1)
        jobs: list[tuple[int, Callable[[], np.ndarray]]] = []
        helping = []
        for k in sorted(wanted):  # the order carried hints reach them from a keyframe before
            jobs.append((k, self._maker(k, partial(frames.lightness, k), predicted)))
            # to the helpers at once: they predict while this thread carries the hints on
            helping.append(pool.submit(self._entries.start, *jobs[-1]))
        meanwhile()
        for job in jobs:  # those the helpers have not started (they leave them to this thread)
            self._entries.start(*job)
        made = next((entry for k in wanted if (entry := self._entries.peek(k)) is not None), None)
        if made is not None:
            afterwards(made.shape[:2])
        for future in helping:
            future.result()

    def link(self, m: int, size: tuple[int, int]) -> Link:
        """The motion between frames m and m + 1 at (h, w) ``size``."""
        found = self._links.peek(m)
        if found is not None:
            return found
        pair = self.footage.pair(m)  # may read frames: not inside the memo's wait
        return self._links.get(m, lambda: Link.from_pair(pair, size))

    def filtered(self, n: int, frames: Neighbors, predicted: Predicted | None = None) -> np.ndarray:
        """Frame n's a*b* at the working size, filtered over its neighbors in ``frames`` (their
        network's a*b* from ``predicted`` when given)."""
        radius = self.radius
        count = self.footage.count
        first, last = max(n - radius, 0), min(n + radius, count - 1)
        for k in range(first, last + 1):  # the frames at hand: the footage need not read them
            self.footage.offer(k, partial(frames.frame, k))
        # the window stops at the clip's ends and at scene cuts (pictures only: cheap)
        for k in range(first + 1, n + 1):
            if self.footage.cut_before(k):
                first = k
        for k in range(n + 1, last + 1):
            if self.footage.cut_before(k):
                last = k - 1
                break
        # predictions farthest first: the nearer ones are those a frame in flight beside this
        # one (n - 1, n + 1) is making now, and are ready by the time they are wanted
        order = sorted(range(first, last + 1), key=lambda k: -abs(k - n))
        unstarted = [k for k in order if self._entries.missing(k)]
        if len(unstarted) > 1 and self.workers > 1:
            # the window's motion is read while the helpers predict, and made ready to sample
            # while they finish
            def motion() -> list[Pair]:
                return [self.footage.pair(m) for m in range(first, last)]

            def sampled_motion(size: tuple[int, int]) -> list[Link]:
                return [self.link(m, size) for m in range(first, last)]

            self._share(unstarted, frames, predicted, motion, sampled_motion)
        width = 2 * radius + 1
        entries: list[np.ndarray | None] = [None] * width
        for k in order:
            entries[k - n + radius] = self.entry(k, partial(frames.lightness, k), predicted)
        center = entries[radius]
        assert center is not None
        size = center.shape[:2]
        links: list[Link | None] = [None] * (width - 1)
        for m in range(first, last):
            links[m - n + radius] = self.link(m, size)
        # the weights reach the window's ends: sigma grows with the radius (1 frame up to 2)
        sigma = max(1.0, radius / 2)
        return temporal_filter(entries, links, sigma=sigma)
