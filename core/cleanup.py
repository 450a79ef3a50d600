"""What ``postprocess=`` does to a frame's colors, and where: a :class:`Cleanup`.

``segment_fill`` cleans the a*b* in two places. At the engine's working size, a segmentation of
the lightness into superpixels (``segment_fill:seeds``, ``:slic``, ``:felzenszwalb``) has each
segment's stray colors take its dominant one (:func:`vscolorize.core.postprocess.segment_fill`).
At the frame's full size, after the upsampling, every clean-up flattens the colors: the
predicted a*b*, fitted into the gamut as the frame's conversion would fit them, are smoothed
with themselves as the guide (a guided filter), so that colors within about
``sqrt(_FLATTEN_EPS)`` of each other in a window become one and a step between more different
colors, an edge between two things, stays. The default segmentation, ``colors``, is that
flattening alone: it segments by the predicted colors themselves, softly.

Why the default changed: the shipped model (fast 2026-12-03b) leaves few stray patches. Its
artifacts are fine steps of color: where the guided upsampling lets an edge of the lightness
into the colors, and where the gamut fit lowers the chroma of one pixel more than its
neighbors'. Half the perceivable artifacts (PA) of its frames appear in the conversion's fit (0.31
% of the pixels before it, 0.58 % after, 50 validation crops at 20 hints). On a third of the
validation crops, the flattening alone cut PA by 43 % at 20 hints and 42 % at 5 for 0.04 and
0.01 dB; the SEEDS fill at the working size cut 18 % for 0.11 dB, and the two together 38 % for
0.14 dB. On all 298 crops the flattening cut 37 % / 38 % for 0.03 / 0.01 dB at 1.1-1.2x the time
of a plain 854x480 frame (docs/benchmarks.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from .color import fit_frame_ab
from .errors import SettingError
from .hints import Keyframe
from .postprocess import FILLED_GUIDE_EPS, SEGMENTATIONS, Segmentation, segment_fill
from .upsample import GUIDE_EPS, put_hints

__all__ = ["DEFAULT_SEGMENTATION", "FILLS", "Cleanup", "flatten_colors", "parse_postprocess"]

#: what ``segment_fill:NAME`` takes: the predicted colors themselves, or a superpixel segmentation
FILLS: tuple[str, ...] = ("colors", *SEGMENTATIONS)
#: what ``segment_fill`` alone uses (see the module's docstring)
DEFAULT_SEGMENTATION = "colors"
# The flattening's window radius in full-size pixels (the steps are a pixel or two wide at any
# size), and its regularization in (a*b* units)^2. On a third of the validation crops at 20 hints
# (PA change, PSNR change): radius 1 -33 % / -0.02 dB, 2 -43 % / -0.04, 3 -47 % / -0.05; eps 16
# -40 %, 36 -43 %, 64 -43 %, 144 -40 % (radius 2, the cost growing with eps: 0.03 to 0.06 dB).
# Flattening before the gamut fit cut 32 %, at the working size before the upsampling 16 %.
_FLATTEN_RADIUS = 2
_FLATTEN_EPS = 36.0


def flatten_colors(lightness: np.ndarray, ab: np.ndarray) -> np.ndarray:
    """Full-size a*b* fitted into the gamut and flattened (see the module's docstring).

    Args:
        lightness: (H, W) L* in [0, 100].
        ab: (H, W, 2) a*b* at the same size.

    Returns:
        (H, W, 2) float32 a*b*.
    """
    fitted = np.ascontiguousarray(fit_frame_ab(lightness, ab))
    if fitted.size == 0:
        return fitted
    flat: np.ndarray = cv2.ximgproc.guidedFilter(fitted, fitted, _FLATTEN_RADIUS, _FLATTEN_EPS)
    return flat


@dataclass(frozen=True)
class Cleanup:
    """The post-processing of a colorizer's a*b* (from ``postprocess=``): ``segmentation`` None
    (none), ``"colors"`` or a superpixel segmentation (see the module's docstring)."""

    segmentation: str | None = None

    @property
    def active(self) -> bool:
        return self.segmentation is not None

    @property
    def guide_eps(self) -> float:
        """The regularization of the guided upsampling to full size that suits the cleaned colors
        (see :func:`vscolorize.core.upsample.upsample_ab`): colors filled by superpixels are
        meant to follow them, not the lightness's fine detail."""
        return FILLED_GUIDE_EPS if self.segmentation in SEGMENTATIONS else GUIDE_EPS

    def apply(
        self, lightness: np.ndarray, ab: np.ndarray, hint_ab: np.ndarray, hint_mask: np.ndarray
    ) -> np.ndarray:
        """``ab`` after the steps at the working size; ``lightness`` at that size too. The colors
        are fitted into the gamut before a superpixel fill, so that it does not average colors the
        conversion would lower pixel by pixel."""
        if self.segmentation not in SEGMENTATIONS:
            return ab
        method: Segmentation = self.segmentation  # type: ignore[assignment]
        fitted = fit_frame_ab(lightness, ab)
        return segment_fill(lightness, fitted, method=method, hint_ab=hint_ab, hint_mask=hint_mask)

    def finish(self, lightness: np.ndarray, ab: np.ndarray, keyframe: Keyframe | None) -> np.ndarray:
        """Full-size a*b* (upsampled without their hints) -> flattened if any clean-up is on, the
        hints put back."""
        return put_hints(flatten_colors(lightness, ab) if self.active else ab, keyframe)


def parse_postprocess(steps: Sequence[str]) -> Cleanup:
    """``postprocess=`` names -> a :class:`Cleanup`.

    ``"segment_fill"`` flattens the colors (``"segment_fill:colors"``); ``"segment_fill:seeds"``,
    ``":slic"`` and ``":felzenszwalb"`` fill superpixels first.

    Raises:
        SettingError: one line naming what is wrong.
    """
    if isinstance(steps, str) or not isinstance(steps, Sequence):
        raise SettingError(f"postprocess must be a sequence of names, not {steps!r}")
    segmentation: str | None = None
    for step in steps:
        name, _, option = step.partition(":") if isinstance(step, str) else (step, "", "")
        if name != "segment_fill":
            known = ", ".join(f"segment_fill:{s}" for s in FILLS)
            raise SettingError(f"postprocess: unknown step {step!r} (known: segment_fill, {known})")
        if segmentation is not None:
            raise SettingError("postprocess: segment_fill given twice")
        segmentation = option or DEFAULT_SEGMENTATION
        if segmentation not in FILLS:
            raise SettingError(f"postprocess: {step!r}: segmentation must be one of {FILLS}")
    return Cleanup(segmentation)
