"""Temporal stability: a flow-compensated filter over a few frames of a*b*.

Each frame is colorized on its own, so small changes between frames (a hint that moved by a
fraction of a pixel, a slightly different solve) make colors shimmer. This filter replaces a
frame's a*b* by a weighted mean of its neighbors' a*b*, each warped onto it by dense optical flow
(DIS) and counted only where the forward-backward check passes (an occluded or mistracked pixel
keeps its own color) and only within the same shot. It depends on the neighbors' own predictions
and pictures only, so a frame's output stays a pure function of the clip, the hints and the
settings.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from .propagation import optical_flow

__all__ = ["temporal_filter"]

_CONSISTENCY = 1.0  # px at the working size, plus a share of the motion
_CONSISTENCY_SHARE = 0.1


def _warp(image: np.ndarray, flow: np.ndarray) -> np.ndarray:
    """``image`` sampled at x + flow(x): a picture of the other frame seen from this one."""
    h, w = flow.shape[:2]
    grid = np.stack(np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32)), -1)
    maps = grid + flow
    return cv2.remap(image, maps[..., 0], maps[..., 1], cv2.INTER_LINEAR,
                     borderMode=cv2.BORDER_REPLICATE)  # fmt: skip


def _reliable(there: np.ndarray, back: np.ndarray) -> np.ndarray:
    """Pixels whose flow to the other frame and back returns home, and that land inside it."""
    h, w = there.shape[:2]
    error = np.linalg.norm(there + _warp(back, there), axis=-1)
    ok = error <= _CONSISTENCY + _CONSISTENCY_SHARE * np.linalg.norm(there, axis=-1)
    xs = np.arange(w)[None, :] + there[..., 0]
    ys = np.arange(h)[:, None] + there[..., 1]
    return ok & (xs >= -0.5) & (xs <= w - 0.5) & (ys >= -0.5) & (ys <= h - 0.5)


def temporal_filter(
    ab: Sequence[np.ndarray | None],
    pictures: Sequence[np.ndarray | None],
    *,
    sigma: float = 1.0,
) -> np.ndarray:
    """The middle frame's a*b*, averaged with its neighbors' along optical flow.

    Args:
        ab: (h, w, 2) a*b* of frames n - K .. n + K, all the same size (the middle one is frame
            n); None for a neighbor that must not count (past the clip's ends, or in another
            shot).
        pictures: the same frames' uint8 lightness at that size (what the flow is computed on).
        sigma: temporal spread of the weights, in frames (a neighbor k frames away weighs
            exp(-k^2 / 2 sigma^2)).

    Returns:
        (h, w, 2) float32 a*b* of frame n.
    """
    middle = len(ab) // 2
    center = ab[middle]
    home = pictures[middle]
    assert center is not None and home is not None
    total = center.astype(np.float32).copy()
    weights = np.ones(center.shape[:2], np.float32)
    for i, (other, picture) in enumerate(zip(ab, pictures, strict=True)):
        if i == middle or other is None or picture is None:
            continue
        there, back = optical_flow(home, picture), optical_flow(picture, home)
        weight = np.float32(np.exp(-((i - middle) ** 2) / (2 * sigma**2)))
        w = _reliable(there, back).astype(np.float32) * weight
        total += _warp(other, there) * w[..., None]
        weights += w
    result: np.ndarray = total / weights[..., None]
    return result
