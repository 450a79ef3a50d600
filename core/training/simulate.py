"""Hints as an artist paints them, simulated from the ground truth: for training samples
(:func:`simulate_hints`) and for validation and benchmarks (:func:`point_hints`)."""

from __future__ import annotations

import math

import cv2
import numpy as np

from ..color import srgb_to_lab
from ..hints import Color, Hints, Keyframe, Point
from .options import TrainOptions

__all__ = ["hint_count", "point_hints", "simulate_hints"]

_STROKE_SHARE = 0.3  # of simulated hints that are strokes rather than discs
_CARRIED_SHARE = 0.05  # of samples whose hints are a few pixels off, as carried by flow
_REGION_AB = 8.0  # a hint covers only pixels this close in a*b* and in L to its center
_REGION_L = 12.0
_COLOR_JITTER = 1.5


def hint_count(
    rng: np.random.Generator,
    no_hints: float = TrainOptions.no_hints,
    most: int = TrainOptions.most_hints,
) -> int:
    """How many hints a training sample gets: none in a share ``no_hints`` of samples (1 in 10 by
    default), otherwise log-uniform from 1 to below ``most`` (1 when ``most`` is 1; with 100,
    three quarters get 30 or fewer). A smaller ``most`` weights training toward few hints."""
    if rng.random() < no_hints:
        return 0
    return int(np.exp(rng.uniform(0, np.log(most))))


def simulate_hints(
    ab: np.ndarray, lightness: np.ndarray, rng: np.random.Generator, count: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Hints like an artist's for one ground truth.

    Each hint is a small disc (70 %) or a short stroke (30 %) of one flat color, kept inside one
    region: only the pixels near its center whose color and lightness are close to the center's.
    Its color is their mean a*b*, jittered by about 1.5 units; in one sample in 20 every
    hint is then painted a few pixels off its place, as hints carried along optical flow are.
    Centers are uniform over the picture.

    Args:
        ab: (2, H, W) ground-truth a*b*.
        lightness: (H, W) ground-truth L.
        count: how many hints; None draws it (:func:`hint_count`).

    Returns:
        ``(ab_hint, mask)``: (2, H, W) float32 and (1, H, W) float32 in {0, 1}.
    """
    _, h, w = ab.shape
    hint = np.zeros_like(ab, dtype=np.float32)
    mask = np.zeros((1, h, w), np.float32)
    if count is None:
        count = hint_count(rng)
    shift = (0, 0) if rng.random() >= _CARRIED_SHARE else tuple(rng.integers(-3, 4, size=2))
    for _ in range(count):
        cy, cx = int(rng.integers(0, h)), int(rng.integers(0, w))
        shape = np.zeros((h, w), np.uint8)
        if rng.random() < _STROKE_SHARE:
            points = [(cx, cy)]
            for _ in range(int(rng.integers(1, 4))):
                angle, length = rng.uniform(0, 2 * math.pi), rng.uniform(3, 0.08 * min(h, w) + 4)
                x, y = points[-1]
                x, y = x + length * math.cos(angle), y + length * math.sin(angle)
                points.append((int(x), int(y)))
            cv2.polylines(shape, [np.array(points, np.int32)], False, 1, int(rng.integers(1, 4)))
        else:
            cv2.circle(shape, (cx, cy), int(rng.integers(1, 5)), 1, -1)
        same = (np.abs(ab - ab[:, cy, cx, None, None]).max(0) < _REGION_AB) & (
            np.abs(lightness - lightness[cy, cx]) < _REGION_L
        )
        covered = shape.astype(bool) & same
        covered[cy, cx] = True
        color = ab[:, covered].mean(axis=1) + rng.normal(0, _COLOR_JITTER, 2)
        if shift != (0, 0):
            covered = np.roll(covered, shift, axis=(0, 1))
        hint[:, covered] = color[:, None]
        mask[:, covered] = 1
    return hint, mask


def point_hints(rgb: np.ndarray, count: int, seed: int) -> Hints:
    """``count`` uniformly placed points on an RGB picture, each revealing its 5x5 ground-truth
    patch mean as a disc of radius 2 px: the hints of validation and of benchmarks/models.py."""
    rng = np.random.default_rng(seed)
    lab = srgb_to_lab(rgb)
    h, w = rgb.shape[:2]
    points = []
    for _ in range(count):
        r, c = int(rng.integers(2, h - 2)), int(rng.integers(2, w - 2))
        a, b = lab[r - 2 : r + 3, c - 2 : c + 3, 1:].reshape(-1, 2).mean(0).tolist()
        points.append(Point(x=(c + 0.5) / w, y=(r + 0.5) / h, color=Color(ab=(a, b)), radius=2 / min(h, w)))
    return Hints(keyframes=(Keyframe(frame=0, points=tuple(points)),))
