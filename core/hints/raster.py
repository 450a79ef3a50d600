"""Painting hints: one keyframe as an a*b* hint map and a weight map (or a mask) at any resolution.

A point paints a disc, a stroke a swept disc (every pixel whose center lies within the radius of the
polyline). Strokes are painted first, then points, each list in file order, and later paint
overwrites earlier paint, so a precise point always shows on top of a broad stroke. A hint always
paints at least the pixel under its center, so tiny hints survive downscaling. A carried hint has a
strength below 1 (its confidence) and blends with what is under it instead.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import numpy as np

from .model import Keyframe, Point, Stroke, hint_strength

__all__ = ["densify_path", "paint_hints", "rasterize"]


def densify_path(path: np.ndarray, step: float) -> np.ndarray:
    """A polyline, (N, 2), with repeated vertices dropped and vertices added on the straight
    segments so that none are more than ``step`` apart: what a stroke keeps of a mouse drag, and
    what propagation tracks of a stroke."""
    path = np.asarray(path, np.float64).reshape(-1, 2)
    if len(path) < 2:
        return path
    moved = np.concatenate([[True], np.any(np.diff(path, axis=0) != 0, axis=1)])
    path = path[moved]
    out = [path[:1]]
    for a, b in itertools.pairwise(path):
        pieces = max(1, math.ceil(float(np.linalg.norm(b - a)) / step))
        out.append(a + (b - a) * (np.arange(1, pieces + 1)[:, None] / pieces))
    return np.concatenate(out)


def _paint(
    ab: np.ndarray,
    weight: np.ndarray,
    window: tuple[slice, slice],
    inside: np.ndarray,
    color: tuple[float, float],
    strength: float,
) -> None:
    """Lay ``color`` at ``strength`` on the pixels ``inside`` ``window``. At strength 1 it
    replaces what was there; a weaker hint mixes with it, the colors weighted by strength and
    the strengths combined as independent chances (``a + b - ab``), which is the same in any
    order, so that two fading hints on one place hand over smoothly."""
    if strength >= 1:
        ab[window][inside] = color
        weight[window][inside] = 1
        return
    under = weight[window][inside]
    mixed = (strength * np.asarray(color, np.float32) + under[:, None] * ab[window][inside]) / (
        strength + under
    )[:, None]
    ab[window][inside] = mixed
    weight[window][inside] = strength + under * (1 - strength)


def _footprint(
    path: list[tuple[float, float]], radius: float, height: int, width: int
) -> tuple[tuple[slice, slice], np.ndarray] | None:
    """The pixels a hint covers, once each: those whose center lies within ``radius`` of the
    polyline ``path`` (pixel units; one vertex: a disc) and the pixel under each vertex (so that
    no hint vanishes when scaled down). ``(window, mask)`` in the picture, or None if outside."""
    xs, ys = [p[0] for p in path], [p[1] for p in path]
    left = max(math.floor(min(xs) - radius - 0.5), 0)
    right = min(math.ceil(max(xs) + radius + 0.5), width)
    top = max(math.floor(min(ys) - radius - 0.5), 0)
    bottom = min(math.ceil(max(ys) + radius + 0.5), height)
    if left >= right or top >= bottom:
        return None
    mask = np.zeros((bottom - top, right - left), bool)
    for (x0, y0), (x1, y1) in zip(path, path[1:] or path, strict=False):
        a = max(math.floor(min(x0, x1) - radius - 0.5), left)
        b = min(math.ceil(max(x0, x1) + radius + 0.5), right)
        c = max(math.floor(min(y0, y1) - radius - 0.5), top)
        d = min(math.ceil(max(y0, y1) + radius + 0.5), bottom)
        if a >= b or c >= d:
            continue
        px = np.arange(a, b, dtype=np.float64)[None, :] + 0.5
        py = np.arange(c, d, dtype=np.float64)[:, None] + 0.5
        dx, dy = x1 - x0, y1 - y0
        length2 = dx * dx + dy * dy
        if length2 > 0:
            t = np.clip(((px - x0) * dx + (py - y0) * dy) / length2, 0.0, 1.0)
        else:
            t = np.zeros((1, 1))
        mask[c - top : d - top, a - left : b - left] |= (px - x0 - t * dx) ** 2 + (
            py - y0 - t * dy
        ) ** 2 <= radius * radius
    for x, y in path:
        col, row = min(int(x), width - 1), min(int(y), height - 1)
        if left <= col < right and top <= row < bottom:
            mask[row - top, col - left] = True
    return (slice(top, bottom), slice(left, right)), mask


def paint_hints(keyframe: Keyframe | None, height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Paint a keyframe's hints at a resolution, each at its strength (:func:`hint_strength`).

    Args:
        keyframe: the hints to paint; None gives empty maps.
        height, width: the resolution in pixels.

    Returns:
        ``(ab, weight)``: ``ab`` (height, width, 2) float32 a*b* (0 where unhinted) and
        ``weight`` (height, width) float32 in [0, 1], how strongly each pixel is hinted (0:
        not at all; 1 under an artist's hint). Hints at strength 1 paint over what is under them;
        weaker ones mix (see ``_paint``), so that weights and colors change smoothly as
        carried hints fade.
    """
    if height < 1 or width < 1:
        raise ValueError(f"rasterize: size must be positive, not {height}x{width}")
    ab = np.zeros((height, width, 2), np.float32)
    weight = np.zeros((height, width), np.float32)
    if keyframe is None:
        return ab, weight
    short = min(height, width)

    def scale(p: Sequence[float]) -> tuple[float, float]:
        return p[0] * width, p[1] * height

    hints: list[tuple[Point | Stroke, list[tuple[float, float]], float]] = [
        (s, [scale(p) for p in s.path], s.width / 2 * short) for s in keyframe.strokes
    ]
    hints += [(p, [scale((p.x, p.y))], p.radius * short) for p in keyframe.points]
    for hint, path, radius in hints:
        footprint = _footprint(path, radius, height, width)
        if footprint is not None:
            _paint(ab, weight, *footprint, hint.color.ab, hint_strength(hint))
    return ab, weight


def rasterize(keyframe: Keyframe | None, height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Paint a keyframe's hints at a resolution: :func:`paint_hints` with every hinted pixel,
    however weakly, in the mask.

    Returns:
        ``(ab, mask)``: ``ab`` (height, width, 2) float32 a*b* (0 where unhinted) and ``mask``
        (height, width) bool, True where a hint painted.
    """
    ab, weight = paint_hints(keyframe, height, width)
    return ab, weight > 0
