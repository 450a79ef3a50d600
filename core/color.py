"""Color science: sRGB <-> CIE L*a*b* (D65) for numpy arrays and torch tensors, and model scaling.

One implementation (in torch) serves both array kinds, so the numbers agree bit for bit between the
CPU engine, the GPU engine and the paint window. Layouts follow each library's habit:

- numpy arrays are channel-last, ``(..., 3)``, like OpenCV and scikit-image;
- torch tensors are channel-first, ``(*, 3, H, W)``, like torch, on any device.

Ranges: sRGB in [0, 1]; L in [0, 100]; a, b in about [-128, 127]. float16 and bfloat16 inputs are
computed in float32 and returned in their own dtype; float64 stays float64 (for gradcheck).
The constants are the CIE ones (kappa = 24389/27, epsilon = 216/24389), which agree with
scikit-image's rounded 7.787 / 0.008856 to better than 1e-3 in L*a*b*.
"""

from __future__ import annotations

from typing import Literal, overload

import numpy as np
import torch

__all__ = [
    "AB_LIMIT",
    "AB_SCALE",
    "D65_WHITE",
    "L_CENTER",
    "L_SCALE",
    "denormalize_ab",
    "fit_chroma",
    "gray_to_l",
    "lab_to_srgb",
    "normalize_ab",
    "normalize_l",
    "srgb_to_lab",
]

# Model normalization (Zhang et al. 2017): the network sees (L - 50) / 100 and ab / 110.
L_CENTER = 50.0
L_SCALE = 100.0
AB_SCALE = 110.0
# The a*b* range hints may take (DESIGN.md), and that every predicted a*b* is clamped to.
AB_LIMIT = (-128.0, 127.0)

# CIE constants for the L* curve.
_EPSILON = 216.0 / 24389.0  # (6/29)^3: below it, f(t) is linear
_KAPPA = 24389.0 / 27.0  # slope of L* in Y below _EPSILON
_DELTA = 6.0 / 29.0

# sRGB transfer function (IEC 61966-2-1).
_SRGB_LINEAR_LIMIT = 0.04045
_SRGB_ENCODED_LIMIT = 0.0031308
_SRGB_SLOPE = 12.92
_SRGB_GAMMA = 2.4
_SRGB_OFFSET = 0.055

# D65 reference white (2 degree observer) and the linear sRGB -> XYZ matrix, as in scikit-image.
D65_WHITE = (0.95047, 1.0, 1.08883)
_XYZ_FROM_RGB = (
    (0.412453, 0.357580, 0.180423),
    (0.212671, 0.715160, 0.072169),
    (0.019334, 0.119193, 0.950227),
)
_RGB_FROM_XYZ = tuple(map(tuple, np.linalg.inv(np.array(_XYZ_FROM_RGB)).tolist()))

# Chroma reduction into the sRGB gamut: 12 bisection steps give a scale within 1/4096 of the best.
_GAMUT_STEPS = 12
_GAMUT_TOLERANCE = 1e-6

Array = np.ndarray
Gamut = Literal["clip", "chroma", "none"]


def _work_dtype(dtype: torch.dtype) -> torch.dtype:
    return torch.float64 if dtype == torch.float64 else torch.float32


def _check_float(x: torch.Tensor, name: str) -> None:
    if not x.is_floating_point():
        raise TypeError(f"{name}: expected a floating-point array, got {x.dtype}")


def _matmul(x: torch.Tensor, matrix: tuple[tuple[float, ...], ...], dim: int) -> torch.Tensor:
    m = torch.tensor(matrix, dtype=x.dtype, device=x.device)
    return torch.movedim(torch.movedim(x, dim, -1) @ m.T, -1, dim)


def _srgb_to_linear(c: torch.Tensor) -> torch.Tensor:
    # clamp before pow so that gradients stay finite on the branch torch.where discards
    curve = ((c.clamp(min=_SRGB_LINEAR_LIMIT) + _SRGB_OFFSET) / (1 + _SRGB_OFFSET)) ** _SRGB_GAMMA
    return torch.where(c > _SRGB_LINEAR_LIMIT, curve, c / _SRGB_SLOPE)


def _linear_to_srgb(c: torch.Tensor) -> torch.Tensor:
    curve = (1 + _SRGB_OFFSET) * c.clamp(min=_SRGB_ENCODED_LIMIT) ** (
        1 / _SRGB_GAMMA
    ) - _SRGB_OFFSET
    return torch.where(c > _SRGB_ENCODED_LIMIT, curve, c * _SRGB_SLOPE)


def _lab_f(t: torch.Tensor) -> torch.Tensor:
    return torch.where(t > _EPSILON, t.clamp(min=_EPSILON) ** (1 / 3), (_KAPPA * t + 16) / 116)


def _lab_f_inverse(f: torch.Tensor) -> torch.Tensor:
    return torch.where(f > _DELTA, f.clamp(min=_DELTA) ** 3, (116 * f - 16) / _KAPPA)


def _white(x: torch.Tensor, dim: int) -> torch.Tensor:
    shape = [1] * x.ndim
    shape[dim] = 3
    return torch.tensor(D65_WHITE, dtype=x.dtype, device=x.device).reshape(shape)


def _to_lab(rgb: torch.Tensor, dim: int) -> torch.Tensor:
    xyz = _matmul(_srgb_to_linear(rgb), _XYZ_FROM_RGB, dim) / _white(rgb, dim)
    fx, fy, fz = _lab_f(xyz).unbind(dim)
    return torch.stack((116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)), dim)


def _to_srgb_unclipped(lab: torch.Tensor, dim: int) -> torch.Tensor:
    lum, a, b = lab.unbind(dim)
    fy = (lum.clamp(0, 100) + 16) / 116
    f = torch.stack((fy + a / 500, fy, fy - b / 200), dim)
    xyz = _lab_f_inverse(f) * _white(lab, dim)
    return _linear_to_srgb(_matmul(xyz, _RGB_FROM_XYZ, dim))


def _in_gamut(rgb: torch.Tensor, dim: int) -> torch.Tensor:
    tol = _GAMUT_TOLERANCE
    return ((rgb >= -tol) & (rgb <= 1 + tol)).all(dim)


def _fit_chroma(lab: torch.Tensor, dim: int) -> torch.Tensor:
    """Scale a*b* of out-of-gamut pixels toward 0 (keeping L and hue) until they fit sRGB."""
    flat = torch.movedim(lab, dim, -1).reshape(-1, 3)
    outside = ~_in_gamut(_to_srgb_unclipped(flat, -1), -1)
    if bool(outside.any()):
        pixels = flat[outside]
        low = torch.zeros(pixels.shape[0], 1, dtype=flat.dtype, device=flat.device)
        high = torch.ones_like(low)
        for _ in range(_GAMUT_STEPS):
            mid = (low + high) / 2
            trial = torch.cat((pixels[:, :1], pixels[:, 1:] * mid), 1)
            fits = _in_gamut(_to_srgb_unclipped(trial, -1), -1).unsqueeze(1)
            low = torch.where(fits, mid, low)
            high = torch.where(fits, high, mid)
        flat = flat.clone()
        flat[outside] = torch.cat((pixels[:, :1], pixels[:, 1:] * low), 1)
    out_shape = list(lab.shape)
    out_shape.append(out_shape.pop(dim))
    return torch.movedim(flat.reshape(out_shape), -1, dim)


def _to_srgb(lab: torch.Tensor, dim: int, gamut: Gamut) -> torch.Tensor:
    if gamut == "chroma":
        lab = _fit_chroma(lab, dim)
    rgb = _to_srgb_unclipped(lab, dim)
    return rgb if gamut == "none" else rgb.clamp(0, 1)


def _apply_numpy(fn: object, x: Array, name: str, *args: object) -> Array:
    if x.ndim < 1 or x.shape[-1] != 3:
        raise ValueError(f"{name}: expected an array of shape (..., 3), got {x.shape}")
    t = torch.from_numpy(np.ascontiguousarray(x))
    out = _apply_torch(fn, t, name, -1, *args)
    return out.numpy()


def _apply_torch(fn: object, x: torch.Tensor, name: str, dim: int, *args: object) -> torch.Tensor:
    _check_float(x, name)
    if x.ndim < 1 or x.shape[dim] != 3:
        raise ValueError(f"{name}: expected a tensor of shape (*, 3, H, W), got {tuple(x.shape)}")
    out = fn(x.to(_work_dtype(x.dtype)), dim, *args)  # type: ignore[operator]
    return out.to(x.dtype)


@overload
def srgb_to_lab(rgb: Array) -> Array: ...
@overload
def srgb_to_lab(rgb: torch.Tensor) -> torch.Tensor: ...
def srgb_to_lab(rgb: Array | torch.Tensor) -> Array | torch.Tensor:
    """Convert sRGB to CIE L*a*b* (D65).

    Args:
        rgb: sRGB in [0, 1]; numpy ``(..., 3)`` or torch ``(*, 3, H, W)``, floating point.

    Returns:
        L*a*b* of the same shape and dtype: L in [0, 100], a and b in about [-128, 127].
    """
    if isinstance(rgb, torch.Tensor):
        return _apply_torch(_to_lab, rgb, "srgb_to_lab", -3)
    return _apply_numpy(_to_lab, np.asarray(rgb), "srgb_to_lab")


@overload
def lab_to_srgb(lab: Array, *, gamut: Gamut = "clip") -> Array: ...
@overload
def lab_to_srgb(lab: torch.Tensor, *, gamut: Gamut = "clip") -> torch.Tensor: ...
def lab_to_srgb(lab: Array | torch.Tensor, *, gamut: Gamut = "clip") -> Array | torch.Tensor:
    """Convert CIE L*a*b* (D65) to sRGB.

    Args:
        lab: numpy ``(..., 3)`` or torch ``(*, 3, H, W)``; L in [0, 100] (clamped), a, b any.
        gamut: how colors outside sRGB are brought in. ``"clip"`` clips each channel (fast; L may
            shift), ``"chroma"`` lowers a*b* toward gray keeping L and hue, then clips rounding
            residue, ``"none"`` returns values outside [0, 1] as they are.

    Returns:
        sRGB of the same shape and dtype, in [0, 1] unless ``gamut="none"``.
    """
    if gamut not in ("clip", "chroma", "none"):
        raise ValueError(f"lab_to_srgb: gamut must be 'clip', 'chroma' or 'none', not {gamut!r}")
    if isinstance(lab, torch.Tensor):
        return _apply_torch(_to_srgb, lab, "lab_to_srgb", -3, gamut)
    return _apply_numpy(_to_srgb, np.asarray(lab), "lab_to_srgb", gamut)


@overload
def fit_chroma(lab: Array) -> Array: ...
@overload
def fit_chroma(lab: torch.Tensor) -> torch.Tensor: ...
def fit_chroma(lab: Array | torch.Tensor) -> Array | torch.Tensor:
    """Lower a*b* of colors outside the sRGB gamut toward gray, keeping L and hue unchanged."""
    if isinstance(lab, torch.Tensor):
        return _apply_torch(_fit_chroma, lab, "fit_chroma", -3)
    return _apply_numpy(_fit_chroma, np.asarray(lab), "fit_chroma")


def gray_to_l(gray: Array) -> Array:
    """L* of sRGB grays: ``gray`` of any shape in [0, 1] -> L in [0, 100], same dtype.

    A gray picture is read as display sRGB (R = G = B), so that a*b* = 0 gives the picture back.
    """
    g = np.asarray(gray)
    if not np.issubdtype(g.dtype, np.floating):
        raise TypeError(f"gray_to_l: expected a floating-point array, got {g.dtype}")
    t = torch.from_numpy(np.ascontiguousarray(g))
    y = _srgb_to_linear(t.to(_work_dtype(t.dtype)))
    return (116 * _lab_f(y) - 16).to(t.dtype).numpy()


def normalize_l(lum: torch.Tensor) -> torch.Tensor:
    """Model input scaling of L: ``(L - 50) / 100``, so L in [0, 100] -> [-0.5, 0.5]."""
    return (lum - L_CENTER) / L_SCALE


def normalize_ab(ab: torch.Tensor) -> torch.Tensor:
    """Model input scaling of a*b*: ``ab / 110``."""
    return ab / AB_SCALE


def denormalize_ab(ab: torch.Tensor) -> torch.Tensor:
    """Inverse of :func:`normalize_ab`: model output ``ab / 110`` back to a*b* units."""
    return ab * AB_SCALE
