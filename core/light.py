"""Carried hints' colors under changing light: a surface that darkens (a fade, a shadow) loses
chroma as CIELAB says it does, so a carried hint's a*b* follow the light around it
(:func:`chroma_scales`), smoothed so that exposure flicker does not become color."""

from __future__ import annotations

import cv2
import numpy as np

from .color import AB_LIMIT, chroma_per_light, l_to_luminance, luminance_to_l
from .hints import Color

__all__ = ["chroma_scales", "sampled", "scaled", "surroundings"]

# a carried hint's chroma follows the change of light around it, smoothed by a straight line fitted
# over this many frames each side (in logarithms of light a fade is a straight line; exposure
# flicker is noise about it: 4 frames drifted 1.6 a*b* units on flickering pans, 8 drifted 1.0,
# 12 no less; benchmarks/oldfilm.py), and grows at most this much
_LIGHT_FRAMES = 8
_MOST_CHROMA = 1.5


def scaled(color: Color, chroma: float) -> Color:
    """``color`` with its a*b* times ``chroma`` (rounded to a thousandth: unchanged at 1)."""
    chroma = round(float(chroma), 3)
    if chroma == 1.0:
        return color
    a, b = np.clip(np.multiply(color.ab, chroma), *AB_LIMIT).tolist()
    return Color(ab=(a, b))


def chroma_scales(
    key_light: np.ndarray, key_around: np.ndarray, around: np.ndarray, seen: np.ndarray
) -> np.ndarray:
    """How much of its keyframe's chroma each carried hint keeps on each frame.

    The light around a hint (the mean luminance of the surroundings, which grain, a speck or a
    few pixels of tracking error barely change) says by how much the light on it changed since
    its keyframe (a fade, a shadow); the hint's own lightness on its keyframe, so changed, says
    how its surface's a*b* change (:func:`~vscolorize.core.color.chroma_per_light`).

    Args:
        key_light: (N,) L* under each hint on its keyframe.
        key_around: (N,) luminance around each hint on its keyframe (:func:`surroundings`).
        around: (T, N) luminance around each hint on the frames it is carried to, in order away
            from the keyframe.
        seen: (T, N) where each is seen (elsewhere the last light seen is kept: the light there
            is an occluder's).

    Returns:
        (T, N) scales, at most :data:`_MOST_CHROMA`. The change of light is smoothed over
        :data:`_LIGHT_FRAMES` frames each side (:func:`_steady`), so that exposure flicker
        (the keyframe's own included) does not pass into the colors.
    """
    change = np.log(np.maximum(around, 1e-6) / np.maximum(key_around, 1e-6))
    held = np.zeros((len(change) + 1, change.shape[1]))  # the keyframe first
    for t in range(len(change)):
        held[t + 1] = np.where(seen[t], change[t], held[t])
    steady = _steady(held, _LIGHT_FRAMES)
    light = luminance_to_l(np.exp(steady[1:] - steady[0]) * l_to_luminance(key_light))
    chroma = chroma_per_light(light) / np.maximum(chroma_per_light(key_light), 1e-6)
    scales: np.ndarray = np.clip(chroma, 0, _MOST_CHROMA)
    return scales


# the fits :func:`_steady` chooses from: (frames before, frames after, a line (or a level), how
# much better than a level around the frame it must fit (mean squared miss) to be chosen). Simulated
# flicker of 13 % (in luminance) about a level and about an exponential fade with a sharp start:
# a centered line alone missed the scale by 2.2 % and 2.6 %, this choice by 1.6 % and 1.6 %
_FITS = ((1, 1, False, 1.0), (1, 1, True, 1.5), (1, 0, True, 5.0), (0, 1, True, 5.0))


def _steady(series: np.ndarray, reach: int) -> np.ndarray:
    """(T, N) ``series`` smoothed along T: each value replaced by the value at its place of the
    level or straight line fitted (least squares) to the values within ``reach`` of it, around it
    or on one side, whichever fits best by :data:`_FITS` (fewer at the ends). A steady ramp (a
    fade, in logarithms of light) comes through as it is, its start and end stay sharp, and noise
    about it (exposure flicker) is averaged."""
    count = len(series)
    x = np.arange(count, dtype=np.float64)[:, None]
    at = np.arange(count)

    def sums(values: np.ndarray) -> np.ndarray:
        return np.concatenate([np.zeros((1, values.shape[1])), np.cumsum(values, 0)])

    totals = [sums(v) for v in (np.ones_like(x), x, x * x, series, x * series, series * series)]
    best = np.zeros_like(series)
    least = np.full(series.shape, np.inf)
    for before, after, line, handicap in _FITS:
        starts, ends = np.maximum(at - before * reach, 0), np.minimum(at + after * reach + 1, count)
        n, sx, sxx, sy, sxy, syy = (total[ends] - total[starts] for total in totals)
        slope = np.zeros_like(sy)
        if line:
            spread = sxx - sx * sx / n
            slope = np.where(spread > 0, (sxy - sx * sy / n) / np.where(spread > 0, spread, 1), 0.0)
        free = n - (1 + line)  # the values a fit leaves free
        miss = (syy - sy * sy / n - slope * (sxy - sx * sy / n)) / np.maximum(free, 1) * handicap
        miss[free[:, 0] < 1] = np.inf  # two values fit any line, one any level
        fitted = sy / n + slope * (x - sx / n)
        better = miss < least
        best[better], least[better] = fitted[better], miss[better]
    return best


def surroundings(light: np.ndarray) -> np.ndarray:
    """(h, w) mean luminance around each place of an (h, w) L* map (Footage.light's): over a
    square a tenth of the frame's short side wide."""
    box = max(1, round(min(light.shape) / 10)) | 1
    around: np.ndarray = cv2.blur(l_to_luminance(light).astype(np.float32), (box, box))
    return around


def sampled(plane: np.ndarray, px: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """(N,) ``plane`` (a small (h, w) map) at (N, 2) positions ``px`` in pixels of a frame of
    (height, width) ``size``, bilinearly."""
    (h, w), (height, width) = plane.shape, size
    x = np.clip((px[:, 0] + 0.5) * (w / width) - 0.5, 0, w - 1)
    y = np.clip((px[:, 1] + 0.5) * (h / height) - 0.5, 0, h - 1)
    x0, y0 = np.floor(x).astype(np.intp), np.floor(y).astype(np.intp)
    x1, y1 = np.minimum(x0 + 1, w - 1), np.minimum(y0 + 1, h - 1)
    fx, fy = x - x0, y - y0
    top = plane[y0, x0] * (1 - fx) + plane[y0, x1] * fx
    bottom = plane[y1, x0] * (1 - fx) + plane[y1, x1] * fx
    at: np.ndarray = top * (1 - fy) + bottom * fy
    return at
