from __future__ import annotations

import numpy as np
import torch

from vscolorize.core.metrics import psnr


def test_psnr_values_for_numpy_and_torch() -> None:
    a = np.zeros((4, 4, 3), np.float32)
    b = np.full((4, 4, 3), 0.1, np.float32)
    assert abs(psnr(a, b) - 20.0) < 1e-5  # MSE 0.01
    assert abs(psnr(torch.from_numpy(a), torch.from_numpy(b)) - 20.0) < 1e-5
    assert psnr(a, a) == 120.0  # capped, not infinite
