"""Quality measures shared by training validation, the demo and the benchmarks."""

from __future__ import annotations

import math
from typing import Any

__all__ = ["psnr"]

_MIN_MSE = 1e-12  # identical pictures: a large finite PSNR instead of infinity


def psnr(result: Any, truth: Any) -> float:
    """Peak signal-to-noise ratio in dB of pictures in [0, 1] (numpy arrays or torch tensors)."""
    mse = float(((result - truth) ** 2).mean())
    return 10 * math.log10(1 / max(mse, _MIN_MSE))
