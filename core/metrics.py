"""Quality measures shared by training validation, the demo and the benchmarks."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = ["colorfulness", "perceivable_artifacts", "psnr"]

_MIN_MSE = 1e-12  # identical pictures: a large finite PSNR instead of infinity


def psnr(result: Any, truth: Any) -> float:
    """Peak signal-to-noise ratio in dB of pictures in [0, 1] (numpy arrays or torch tensors)."""
    mse = float(((result - truth) ** 2).mean())
    return 10 * math.log10(1 / max(mse, _MIN_MSE))


def perceivable_artifacts(result_ab: np.ndarray, truth_ab: np.ndarray, tolerance: float = 2.0) -> float:
    """PA: the share of pixels whose 4-neighborhood is consistent in the ground truth (every
    neighbor within ``tolerance`` in a*b*) but not in the result (after the Futschik thesis);
    lower is better. Border pixels, lacking a full neighborhood, are left out.

    Args:
        result_ab, truth_ab: (H, W, 2) a*b* of the result and of the ground truth.
    """

    def consistent(ab: np.ndarray) -> np.ndarray:
        center = ab[1:-1, 1:-1]
        ok = np.ones(center.shape[:2], bool)
        for neighbor in (ab[:-2, 1:-1], ab[2:, 1:-1], ab[1:-1, :-2], ab[1:-1, 2:]):
            ok &= np.linalg.norm(center - neighbor, axis=-1) <= tolerance
        return ok

    return float((consistent(truth_ab) & ~consistent(result_ab)).mean())


def colorfulness(rgb: np.ndarray) -> float:
    """Hasler and Suesstrunk's (2003) colorfulness of an (H, W, 3) sRGB picture in [0, 1], on the
    0-255 scale of their paper (about 33 is "moderately", 59 "quite" colorful)."""
    r, g, b = (rgb[..., c].astype(np.float64) * 255 for c in range(3))
    rg, yb = r - g, (r + g) / 2 - b
    return float(np.hypot(rg.std(), yb.std()) + 0.3 * np.hypot(rg.mean(), yb.mean()))
