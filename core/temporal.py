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

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
import torch

from .motion import PIXEL_CONSISTENCY, MotionSettings, Pair, pixel_grid, sample

__all__ = ["DEFAULT_TEMPORAL", "MAX_TEMPORAL", "Link", "temporal_filter"]

# frames on each side the filter averages over by default (weights with sigma = radius / 2). 8
# flickers 21-37 % less than 4 on vtest.avi and pans over four held-out photos (classical engine;
# 18-20 % with the model), PSNR the same, for 3-7 % more time per frame (10-12 % with the model)
# (benchmarks/propagation-results-temporal8.txt); 4 flickered 11-47 % less than 2
# (benchmarks/propagation-results-temporal4.txt)
DEFAULT_TEMPORAL = 8
MAX_TEMPORAL = 16


@dataclass(frozen=True)
class Link:
    """The motion between two consecutive frames m and m + 1, both ways, and where it holds, at
    the size of the a*b* the filter averages: per way one (h, w, 3) float32 array of the flow
    (x, y) and its check (1/0), so that the filter samples both in one pass."""

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
            holds: np.ndarray = pair.holds(forward, PIXEL_CONSISTENCY).astype(np.float32)
            if (ph, pw) != (h, w):
                flow = cv2.multiply(cv2.resize(flow, (w, h), interpolation=cv2.INTER_LINEAR), scale)
                # a pixel holds where most of what it covers holds
                holds = cv2.resize(holds, (w, h), interpolation=cv2.INTER_AREA)
            ok = (holds >= 0.5).astype(np.float32)
            # OpenCV's merge: 5x faster than numpy's stacking along a last axis of 3
            field: np.ndarray = cv2.merge([flow, ok])
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
            n); None for a neighbor that must not count (past the clip's ends, or in another
            shot).
        links: the 2K links between consecutive frames of the window (``links[i]`` joins
            ``ab[i]`` and ``ab[i + 1]``); None where there is none.
        sigma: temporal spread of the weights, in frames (a neighbor k frames away weighs
            exp(-k^2 / 2 sigma^2)).

    Returns:
        (h, w, 2) float32 a*b* of frame n.
    """
    middle = len(ab) // 2
    center = ab[middle]
    assert center is not None and len(links) == len(ab) - 1
    h, w = center.shape[:2]
    total = center.astype(np.float32).copy()
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
            sampled = field if j == middle else sample(field, maps)  # no motion yet: as it is
            ok *= sampled[..., 2] > 0.5
            moved_t += torch.from_numpy(sampled)[..., :2]
            np.add(grid, moved, out=maps)
            j += step
            weight = np.float32(np.exp(-((j - middle) ** 2) / (2 * sigma**2)))
            counted = ok * weight
            warped = torch.from_numpy(sample(other, maps))
            warped *= torch.from_numpy(counted)[..., None]
            total_t += warped
            weights += counted
    result: np.ndarray = total / weights[..., None]
    return result
