"""Carried hints' colors under changing light: a surface that darkens (a fade, a shadow) loses
chroma as CIELAB says it does, so a carried hint's a*b* follow the light around it
(:func:`chroma_scales`), smoothed so that exposure flicker does not become color."""

from __future__ import annotations

import cv2
import numpy as np

from .color import AB_LIMIT, chroma_per_light, l_to_luminance, luminance_to_l
from .hints import Color

__all__ = ["Light", "chroma_scales", "sampled", "scaled", "surroundings"]

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


class Light:
    """The light around one keyframe's hints on the frames they are carried to, in order away
    from it, and how much of its chroma each hint keeps there (:meth:`scales`).

    The light around a hint (the mean luminance of the surroundings, which grain, a speck or a
    few pixels of tracking error barely change) says by how much the light on it changed since
    its keyframe (a fade, a shadow); the hint's own lightness on its keyframe, so changed, says
    how its surface's a*b* change (:func:`~vscolorize.core.color.chroma_per_light`). The change
    is smoothed over :data:`AHEAD` frames each side (:func:`_steady_at`), so that exposure
    flicker (the keyframe's own included) does not pass into the colors.

    Frame t's scales depend only on the frames up to t + :data:`AHEAD` (fewer where the frames
    end): they are the same bits whether the frames after came in one go or later.

    Args:
        key_light: (N,) L* under each hint on its keyframe.
        key_around: (N,) luminance around each hint on its keyframe (:func:`surroundings`).
    """

    AHEAD = _LIGHT_FRAMES  # the frames after frame t its scales depend on

    def __init__(self, key_light: np.ndarray, key_around: np.ndarray) -> None:
        self.key_light = key_light
        self.key_around = np.maximum(key_around, 1e-6)
        self._key_chroma = np.maximum(chroma_per_light(key_light), 1e-6)
        # the change of light (in logarithms) around each hint, the keyframe's (0) first; where a
        # hint is not seen the last change seen is kept (the light there is an occluder's)
        self._held = [np.zeros(len(key_light))]

    def __len__(self) -> int:
        """The frames added."""
        return len(self._held) - 1

    def add(self, around: np.ndarray, seen: np.ndarray) -> None:
        """The next frame: (N,) luminance around each hint there, and where each is seen."""
        change = np.log(np.maximum(around, 1e-6) / self.key_around)
        self._held.append(np.where(seen, change, self._held[-1]))

    def scales(self, t: int, ended: bool = False) -> np.ndarray:
        """(N,) how much of its keyframe's chroma each hint keeps on frame t (1: the first frame
        added), at most :data:`_MOST_CHROMA`. Needs the frames up to t + :data:`AHEAD` added, or
        ``ended`` (no more will come)."""
        if not ended and len(self) < t + self.AHEAD:
            raise ValueError(f"Light.scales: frame {t} needs {t + self.AHEAD} frames, {len(self)} came")
        count = min(len(self._held), t + self.AHEAD + 1)  # the frames the fits may see
        steady = self._steady(t, count) - self._steady(0, count)
        light = luminance_to_l(np.exp(steady) * l_to_luminance(self.key_light))
        scales: np.ndarray = np.clip(chroma_per_light(light) / self._key_chroma, 0, _MOST_CHROMA)
        return scales

    def _steady(self, t: int, count: int) -> np.ndarray:
        """:func:`_steady_at` of frame t, reading only the rows its fits see (a frame's cost
        stays the same however far from the keyframe it is)."""
        first = max(t - self.AHEAD, 0)
        rows = np.array(self._held[first : min(t + self.AHEAD + 1, count)])
        return _steady_at(rows, t, self.AHEAD, first=first, count=count)


def chroma_scales(
    key_light: np.ndarray, key_around: np.ndarray, around: np.ndarray, seen: np.ndarray
) -> np.ndarray:
    """:meth:`Light.scales` of every frame of a series: ``around`` and ``seen`` (T, N), one row
    per frame in order away from the keyframe, as :meth:`Light.add` takes them -> (T, N)."""
    light = Light(key_light, key_around)
    for row, visible in zip(around, seen, strict=True):
        light.add(row, visible)
    return np.array([light.scales(t, ended=True) for t in range(1, len(around) + 1)]).reshape(around.shape)


# the fits :func:`_steady_at` chooses from: (frames before, frames after, a line (or a level), how
# much better than a level around the frame it must fit (mean squared miss) to be chosen). Simulated
# flicker of 13 % (in luminance) about a level and about an exponential fade with a sharp start:
# a centered line alone missed the scale by 2.2 % and 2.6 %, this choice by 1.6 % and 1.6 %
_FITS = ((1, 1, False, 1.0), (1, 1, True, 1.5), (1, 0, True, 5.0), (0, 1, True, 5.0))


def _steady_at(
    series: np.ndarray, t: int, reach: int, *, first: int = 0, count: int | None = None
) -> np.ndarray:
    """Row t of a (T, N) series smoothed along T: the value at t of the level or straight line
    fitted (least squares) to the values within ``reach`` of it, around it or on one side,
    whichever fits best by :data:`_FITS` (fewer at the ends). A steady ramp (a fade, in
    logarithms of light) comes through as it is, its start and end stay sharp, and noise about it
    (exposure flicker) is averaged. ``series`` holds rows ``first`` onwards of the T (``count``,
    default: all given) and at least rows t - reach .. t + reach of them."""
    count = first + len(series) if count is None else count
    best = np.zeros(series.shape[1])
    least = np.full(series.shape[1], np.inf)
    for before, after, line, handicap in _FITS:
        start, end = max(t - before * reach, 0), min(t + after * reach + 1, count)
        n = end - start
        if n < 2 + line:  # two values fit any line, one any level: nothing is learned
            continue
        y = series[start - first : end - first]
        x = np.arange(start, end, dtype=np.float64)[:, None]
        sx, sxx, sy, sxy, syy = x.sum(), (x * x).sum(), y.sum(0), (x * y).sum(0), (y * y).sum(0)
        slope = np.zeros_like(sy)
        if line:
            slope = (sxy - sx * sy / n) / (sxx - sx * sx / n)
        miss = (syy - sy * sy / n - slope * (sxy - sx * sy / n)) / (n - (1 + line)) * handicap
        fitted = sy / n + slope * (t - sx / n)
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
