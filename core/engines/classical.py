"""The classical engine: Levin et al. 2004's colorization by optimization, model-free, on the CPU.

It spreads the hints along the picture's lightness (``vscolorize.core.optimization``); a carried
hint is a soft constraint as strong as its confidence, and a frame without hints stays gray.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from ..hints import Keyframe, paint_hints
from ..images import shrink
from ..optimization import levin_colorize
from . import register
from .members import Member

if TYPE_CHECKING:
    from ..pipeline import Settings

__all__ = ["OPTIMIZATION_SHORT_SIDE", "ClassicalEngine"]

# The optimization runs with the short side at most this long, its a*b* then upsampled guided by
# the full-resolution L like the model's: chroma is smooth, so at 854x480 this costs 0.04-0.07 dB
# against solving at full size and runs 3x faster (benchmarks/levin.py).
OPTIMIZATION_SHORT_SIDE = 320


class ClassicalEngine:
    """The engine of ``method="optimization"`` (no model, no device: it runs on the CPU)."""

    variants = 1

    def __init__(self, settings: Settings, device: str) -> None:
        del settings, device  # nothing to choose: the optimization has no model and runs on the CPU

    def predict(
        self, lightness: np.ndarray, keyframe: Keyframe | None, members: Sequence[Member]
    ) -> np.ndarray:
        """(1, h, w, 2) float32 a*b*, the short side at most ``OPTIMIZATION_SHORT_SIDE``."""
        small = shrink(lightness, OPTIMIZATION_SHORT_SIDE)
        ab_hint, weight = paint_hints(keyframe, *small.shape)
        return levin_colorize(small / 100, ab_hint, weight)[None]


register("optimization", ClassicalEngine)
