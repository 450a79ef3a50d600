"""Film grain: how much a frame has, and its lightness with the grain taken out, for the colors.

A scan of an old print carries grain that is new in every frame. The engines predict a*b* from
L*, and the guided upsampler lays a*b* along L*'s edges: fed grain, both make colors that shimmer
from frame to frame. So the colors are worked out on a *quiet* lightness, the grain smoothed away
in proportion to how much a frame has; the output keeps the frame's own L*, untouched.

The grain level is a robust noise estimate: the median distance of L* from its blur (sigma 2 px),
as a standard deviation. It reads 0.2-1.5 on clean pictures and video (texture, compression), 3-4
on grainy film (benchmarks/scan.py's grain, 5 % RMS in the midtones). Below ``_QUIET`` nothing
changes, bit for bit; from there to ``_GRAINY`` the smoothing grows to its full strength, so a
frame a little grainier than its neighbor is smoothed a little more, never switched.
"""

from __future__ import annotations

import cv2
import numpy as np

__all__ = ["grain_level", "quiet_lightness"]

_QUIET = 2.0
_GRAINY = 3.0
# the smoothing at full strength: grain clumps are 1-3 px across at 480 lines
_SIGMA_AT_480 = 1.0
# the estimate reads every _STEP-th row (the median of a quarter of the pixels: the same figure)
_STEP = 4


def grain_level(lightness: np.ndarray) -> float:
    """A frame's grain: the robust standard deviation (L*) of its detail finer than 2 px."""
    lightness = lightness.astype(np.float32, copy=False)
    detail = lightness[::_STEP] - cv2.GaussianBlur(lightness, (0, 0), 2.0)[::_STEP]
    return float(1.4826 * np.median(np.abs(detail)))


def quiet_lightness(lightness: np.ndarray) -> np.ndarray:
    """(H, W) L* with its grain smoothed away in proportion to :func:`grain_level`; the array
    itself where there is too little to matter."""
    strength = (grain_level(lightness) - _QUIET) / (_GRAINY - _QUIET)
    if strength <= 0:
        return lightness
    sigma = _SIGMA_AT_480 * min(lightness.shape) / 480
    smooth = cv2.GaussianBlur(lightness.astype(np.float32, copy=False), (0, 0), sigma)
    quiet: np.ndarray = lightness + np.float32(min(strength, 1.0)) * (smooth - lightness)
    return quiet
