"""The guided upsampling: one filter, run on numpy (the CPU path) and on torch (a CUDA device's)."""

from __future__ import annotations

import cv2
import numpy as np

from vscolorize.core.hints import Color, Keyframe, Point
from vscolorize.core.upsample import _upsample_torch, upsample_ab


def test_the_torch_path_is_the_numpy_path_within_float_rounding() -> None:
    rng = np.random.default_rng(0)
    lightness = cv2.GaussianBlur(rng.uniform(0, 100, (120, 214)).astype(np.float32), (0, 0), 2)
    lightness[:, 100:] += 20  # an edge for the guide to keep
    ab = cv2.GaussianBlur(rng.uniform(-60, 60, (64, 112, 2)).astype(np.float32), (0, 0), 2)
    keyframe = Keyframe(frame=0, points=(Point(x=0.3, y=0.4, color=Color(ab=(20.0, -30.0)), radius=0.05),))
    on_cpu = upsample_ab(ab, lightness, keyframe)
    in_torch = _upsample_torch(ab, lightness, "cpu")
    assert in_torch.shape == on_cpu.shape == (120, 214, 2) and in_torch.dtype == np.float32
    hinted = np.abs(on_cpu - [20.0, -30.0]).max(-1) == 0  # the hint's disc, put back exactly
    assert hinted.any()
    np.testing.assert_allclose(in_torch[~hinted], on_cpu[~hinted], atol=2e-3)
    # and it is a real filter, not a copy: far from bilinear next to the edge in L
    bilinear = cv2.resize(ab, (214, 120), interpolation=cv2.INTER_LINEAR)
    assert np.abs(in_torch - bilinear)[:, 95:105].mean() > 0.05


def test_a_larger_eps_lets_less_of_the_lightness_detail_into_the_colors() -> None:
    """The colors are a smooth ramp and L* carries thin lines (detail, not grain) on top of a
    ramp that matches them: with the plain eps the lines pass into a*b*, with a cleanup's larger
    eps far less."""
    ramp = np.linspace(20, 80, 256, dtype=np.float32)[None].repeat(144, 0)
    texture = np.zeros_like(ramp)
    texture[:, ::9] = 4.0
    small_ramp = cv2.resize(ramp, (128, 72), interpolation=cv2.INTER_AREA)
    ab = np.dstack([small_ramp - 50, np.zeros_like(small_ramp)]).astype(np.float32)

    def detail(eps: float) -> float:
        a = upsample_ab(ab, ramp + texture, None, eps=eps)[..., 0]
        return float(np.abs(a - cv2.blur(a, (7, 7)))[8:-8, 8:-8].mean())

    assert detail(1e-4) > 0.1  # the lines show in the colors
    assert detail(1e-2) < detail(1e-4) / 5
