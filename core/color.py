"""Color science: sRGB <-> CIE L*a*b* (D65) for numpy arrays and torch tensors, and model scaling.

One implementation serves both array kinds (written against the operators numpy and torch share),
so the formulas cannot drift apart between the CPU engine, the GPU engine and the paint window.
Layouts follow each library's habit:

- numpy arrays are channel-last, ``(..., 3)``, like OpenCV and scikit-image;
- torch tensors are channel-first, ``(*, 3, H, W)``, like torch, on any device.

Ranges: sRGB in [0, 1]; L in [0, 100]; a, b in about [-128, 127]. float16 and bfloat16 inputs are
computed in float32 and returned in their own dtype; float64 stays float64 (for gradcheck).
The constants are the CIE ones (kappa = 24389/27, epsilon = 216/24389), which agree with
scikit-image's rounded 7.787 / 0.008856 to better than 1e-3 in L*a*b*.
"""

from __future__ import annotations

from functools import cache
from typing import Any, Literal, overload

import cv2
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
    "fit_chroma_fast",
    "gray_to_l",
    "lab_planes_to_srgb",
    "lab_to_srgb",
    "normalize_ab",
    "normalize_l",
    "srgb_to_l",
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

# Chroma reduction into the sRGB gamut: 8 bisection steps give a scale within 1/256 of the best.
_GAMUT_STEPS = 8
_GAMUT_TOLERANCE = 1e-6

Array = np.ndarray
Gamut = Literal["clip", "chroma", "none"]


def _work_dtype(dtype: torch.dtype) -> torch.dtype:
    return torch.float64 if dtype == torch.float64 else torch.float32


def _check_float(x: torch.Tensor, name: str) -> None:
    if not x.is_floating_point():
        raise TypeError(f"{name}: expected a floating-point array, got {x.dtype}")


# The math below is written once for numpy and torch alike: ``xp`` is the module (numpy or torch)
# and only operators, ``xp.where``, ``xp.stack``, ``xp.concatenate`` and ``.clip`` are used. On CPU
# numpy's vectorized pow/where are several times faster than torch's, so numpy arrays stay numpy.


def _split(x: Any, dim: int) -> list[Any]:
    index: list[Any] = [Ellipsis, 0] + [slice(None)] * (-dim - 1)
    channels = []
    for i in range(3):
        index[1] = i
        channels.append(x[tuple(index)])
    return channels


def _dot(row: tuple[float, ...], channels: list[Any]) -> Any:
    return row[0] * channels[0] + row[1] * channels[1] + row[2] * channels[2]


def _srgb_to_linear(c: Any, xp: Any) -> Any:
    # clip before pow so that gradients stay finite on the branch xp.where discards
    curve = ((c.clip(min=_SRGB_LINEAR_LIMIT) + _SRGB_OFFSET) / (1 + _SRGB_OFFSET)) ** _SRGB_GAMMA
    return xp.where(c > _SRGB_LINEAR_LIMIT, curve, c / _SRGB_SLOPE)


def _linear_to_srgb(c: Any, xp: Any) -> Any:
    curve = (1 + _SRGB_OFFSET) * c.clip(min=_SRGB_ENCODED_LIMIT) ** (1 / _SRGB_GAMMA) - _SRGB_OFFSET
    return xp.where(c > _SRGB_ENCODED_LIMIT, curve, c * _SRGB_SLOPE)


def _lab_f(t: Any, xp: Any) -> Any:
    return xp.where(t > _EPSILON, t.clip(min=_EPSILON) ** (1 / 3), (_KAPPA * t + 16) / 116)


def _lab_f_inverse(f: Any, xp: Any) -> Any:
    return xp.where(f > _DELTA, f.clip(min=_DELTA) ** 3, (116 * f - 16) / _KAPPA)


def _to_lab(rgb: Any, dim: int, xp: Any) -> Any:
    linear = [_srgb_to_linear(c, xp) for c in _split(rgb, dim)]
    fx, fy, fz = (
        _lab_f(_dot(row, linear) / white, xp) for row, white in zip(_XYZ_FROM_RGB, D65_WHITE, strict=True)
    )
    return xp.stack((116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)), dim)


def _to_srgb_unclipped(lab: Any, dim: int, xp: Any) -> Any:
    lum, a, b = _split(lab, dim)
    fy = (lum.clip(0, 100) + 16) / 116
    xyz = [
        _lab_f_inverse(f, xp) * white
        for f, white in zip((fy + a / 500, fy, fy - b / 200), D65_WHITE, strict=True)
    ]
    return xp.stack([_linear_to_srgb(_dot(row, xyz), xp) for row in _RGB_FROM_XYZ], dim)


def _in_gamut(rgb: Any) -> Any:
    tol = _GAMUT_TOLERANCE
    return ((rgb >= -tol) & (rgb <= 1 + tol)).all(-1)


def _fit_chroma(lab: Any, dim: int, xp: Any, rgb: Any = None) -> Any:
    """Scale a*b* of out-of-gamut pixels toward 0 (keeping L and hue) until they fit sRGB.

    ``rgb``, when given, is ``lab`` already converted (unclipped), which saves converting twice.
    Returns ``lab`` itself when every color fits.
    """
    channel_last = xp.moveaxis(lab, dim, -1)
    flat = channel_last.reshape(-1, 3)
    rgb_flat = _to_srgb_unclipped(flat, -1, xp) if rgb is None else xp.moveaxis(rgb, dim, -1).reshape(-1, 3)
    outside = ~_in_gamut(rgb_flat)
    if not bool(outside.any()):
        return lab
    pixels = flat[outside]
    low = pixels[:, :1] * 0
    high = low + 1
    for _ in range(_GAMUT_STEPS):
        mid = (low + high) / 2
        trial = xp.concatenate((pixels[:, :1], pixels[:, 1:] * mid), 1)
        fits = _in_gamut(_to_srgb_unclipped(trial, -1, xp))[:, None]
        low = xp.where(fits, mid, low)
        high = xp.where(fits, high, mid)
    flat = flat + 0  # a copy, in numpy and torch alike
    flat[outside] = xp.concatenate((pixels[:, :1], pixels[:, 1:] * low), 1)
    return xp.moveaxis(flat.reshape(channel_last.shape), -1, dim)


def _to_srgb(lab: Any, dim: int, xp: Any, gamut: Gamut) -> Any:
    rgb = _to_srgb_unclipped(lab, dim, xp)
    if gamut == "chroma":
        fitted = _fit_chroma(lab, dim, xp, rgb)
        if fitted is not lab:  # only then did a color move: convert again
            rgb = _to_srgb_unclipped(fitted, dim, xp)
    return rgb if gamut == "none" else rgb.clip(0, 1)


def _to_srgb_opencv(lab: Array, dim: int, xp: Any, gamut: Gamut) -> Array:
    """:func:`_to_srgb` of float32 numpy ``(..., 3)`` through OpenCV's Lab -> RGB, which clips
    to [0, 1] and is within 5e-4 of the formulas (a tenth of an 8-bit step), 10x faster."""
    if gamut == "chroma":
        lab = _fit_chroma(lab, dim, xp)
    if lab.size == 0:
        return lab.copy()
    image = lab if lab.ndim == 3 else lab.reshape(1, -1, 3)  # OpenCV wants (rows, columns, 3)
    lum = image[..., 0]
    if float(lum.min()) < 0 or float(lum.max()) > 100:  # L is clamped, as the formulas do
        image = image.copy()
        np.clip(lum, 0, 100, out=image[..., 0])
    rgb: Array = cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_Lab2RGB)
    return rgb.reshape(lab.shape)


def _apply_numpy(fn: Any, x: Array, name: str, *args: object) -> Array:
    if x.ndim < 1 or x.shape[-1] != 3:
        raise ValueError(f"{name}: expected an array of shape (..., 3), got {x.shape}")
    if not np.issubdtype(x.dtype, np.floating):
        raise TypeError(f"{name}: expected a floating-point array, got {x.dtype}")
    work = np.float64 if x.dtype == np.float64 else np.float32
    out: Array = fn(x.astype(work, copy=False), -1, np, *args)
    return out.astype(x.dtype, copy=False)


def _apply_torch(fn: Any, x: torch.Tensor, name: str, dim: int, *args: object) -> torch.Tensor:
    _check_float(x, name)
    if x.ndim < 3 or x.shape[dim] != 3:
        raise ValueError(f"{name}: expected a tensor of shape (*, 3, H, W), got {tuple(x.shape)}")
    out: torch.Tensor = fn(x.to(_work_dtype(x.dtype)), dim, torch, *args)
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
    x = np.asarray(lab)
    if gamut != "none" and x.dtype in (np.float16, np.float32) and x.ndim and x.shape[-1] == 3:
        return _apply_numpy(_to_srgb_opencv, x, "lab_to_srgb", gamut)
    return _apply_numpy(_to_srgb, x, "lab_to_srgb", gamut)


@overload
def fit_chroma(lab: Array) -> Array: ...
@overload
def fit_chroma(lab: torch.Tensor) -> torch.Tensor: ...
def fit_chroma(lab: Array | torch.Tensor) -> Array | torch.Tensor:
    """Lower a*b* of colors outside the sRGB gamut toward gray, keeping L and hue unchanged."""
    if isinstance(lab, torch.Tensor):
        return _apply_torch(_fit_chroma, lab, "fit_chroma", -3)
    return _apply_numpy(_fit_chroma, np.asarray(lab), "fit_chroma")


def srgb_to_l(rgb: Array) -> Array:
    """L* alone of sRGB ``(..., 3)`` in [0, 1] -> ``(...)``, cheaper than :func:`srgb_to_lab`."""
    rgb = np.asarray(rgb)
    if rgb.ndim < 1 or rgb.shape[-1] != 3:
        raise ValueError(f"srgb_to_l: expected an array of shape (..., 3), got {rgb.shape}")
    if not np.issubdtype(rgb.dtype, np.floating):
        raise TypeError(f"srgb_to_l: expected a floating-point array, got {rgb.dtype}")
    work = rgb.astype(np.float64 if rgb.dtype == np.float64 else np.float32, copy=False)
    linear = [_srgb_to_linear(c, np) for c in _split(work, -1)]
    lum: Array = 116 * _lab_f(_dot(_XYZ_FROM_RGB[1], linear), np) - 16  # Y's white is 1
    return lum.astype(rgb.dtype, copy=False)


def gray_to_l(gray: Array) -> Array:
    """L* of sRGB grays: ``gray`` of any shape in [0, 1] -> L in [0, 100], same dtype.

    A gray picture is read as display sRGB (R = G = B), so that a*b* = 0 gives the picture back.
    """
    g = np.asarray(gray)
    if not np.issubdtype(g.dtype, np.floating):
        raise TypeError(f"gray_to_l: expected a floating-point array, got {g.dtype}")
    work = g.astype(np.float64 if g.dtype == np.float64 else np.float32, copy=False)
    lum: Array = 116 * _lab_f(_srgb_to_linear(work, np), np) - 16
    return lum.astype(g.dtype, copy=False)


def normalize_l(lum: torch.Tensor) -> torch.Tensor:
    """Model input scaling of L: ``(L - 50) / 100``, so L in [0, 100] -> [-0.5, 0.5]."""
    return (lum - L_CENTER) / L_SCALE


def normalize_ab(ab: torch.Tensor) -> torch.Tensor:
    """Model input scaling of a*b*: ``ab / 110``."""
    return ab / AB_SCALE


def denormalize_ab(ab: torch.Tensor) -> torch.Tensor:
    """Inverse of :func:`normalize_ab`: model output ``ab / 110`` back to a*b* units."""
    return ab * AB_SCALE


# --- gamut mapping through a table, for frames --------------------------------------------------

_LUT_L_STEP = 0.5  # table rows: L* 0, 0.5, ..., 100
_LUT_HUE_STEP = 1.0  # table columns: hue 0, 1, ..., 360 degrees (360 repeats 0)
_LUT_MARGIN = 0.985  # the table is interpolated: stay a little inside the boundary it records


@cache
def _chroma_limits() -> np.ndarray:
    """Largest sRGB chroma at each (L*, hue) of a grid, by bisection: (201, 361) float32."""
    lightness = np.arange(0, 100 + _LUT_L_STEP / 2, _LUT_L_STEP)
    hue = np.radians(np.arange(0, 360 + _LUT_HUE_STEP / 2, _LUT_HUE_STEP))
    l_grid, h_grid = np.meshgrid(lightness, hue, indexing="ij")
    low, high = np.zeros_like(l_grid), np.full_like(l_grid, 200.0)
    for _ in range(24):
        mid = (low + high) / 2
        lab = np.stack([l_grid, mid * np.cos(h_grid), mid * np.sin(h_grid)], -1)
        fits = _in_gamut(_to_srgb_unclipped(lab, -1, np))
        low, high = np.where(fits, mid, low), np.where(fits, high, mid)
    return low.astype(np.float32)


def _chroma_scale(lightness: Array, a: Array, b: Array) -> Array:
    """The factor (<= 1) that brings each (L*, a*, b*) into the sRGB gamut by the table: (H, W)
    float32 planes in, (H, W) float32 out. OpenCV throughout (one pass each, no temporaries the
    size of the frame in float64): hue to within 0.01 degree, the table interpolated bilinearly."""
    chroma, hue = cv2.cartToPolar(a, b, angleInDegrees=True)  # hue in [0, 360)
    rows = cv2.multiply(np.clip(lightness, 0, 100), 1 / _LUT_L_STEP, dtype=cv2.CV_32F)
    cols = hue if _LUT_HUE_STEP == 1.0 else hue * np.float32(1 / _LUT_HUE_STEP)
    limit = cv2.remap(_chroma_limits(), cols, rows, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    scale: Array = np.minimum(limit * np.float32(_LUT_MARGIN) / np.maximum(chroma, 1e-6), 1.0)
    return scale


def _planes(lightness: Array, ab: Array) -> tuple[Array, Array, Array]:
    """(H, W) L and (H, W, 2) a*b* as three contiguous (H, W) float32 planes."""
    lum = np.ascontiguousarray(lightness, dtype=np.float32)
    a, b = cv2.split(np.ascontiguousarray(ab, dtype=np.float32))
    return lum, a, b


def fit_chroma_fast(lab: Array) -> Array:
    """:func:`fit_chroma` for (H, W, 3) float32 frames, through a table of the sRGB gamut's
    largest chroma per lightness and hue (bilinear), at 1-2 % less chroma at the boundary than
    the exact search: one pass instead of a bisection, for every frame of a video."""
    lab = np.ascontiguousarray(lab, dtype=np.float32)
    lum, a, b = cv2.split(lab)
    scale = _chroma_scale(lum, a, b)
    return cv2.merge([lum, a * scale, b * scale])


def lab_planes_to_srgb(lightness: Array, ab: Array) -> Array:
    """(H, W) L* in [0, 100] and (H, W, 2) a*b* -> (H, W, 3) float32 sRGB in [0, 1], the chroma
    (not L*) lowered where a color falls outside the gamut (:func:`fit_chroma_fast`).

    The per-frame conversion of the engine: OpenCV's Lab -> RGB (within 5e-4 of the exact
    formulas, a tenth of an 8-bit step), about 10x faster than numpy's pow on a frame."""
    lum, a, b = _planes(lightness, ab)
    if lum.size == 0:
        return np.zeros((*lum.shape, 3), np.float32)
    lum = np.clip(lum, 0, 100)
    scale = _chroma_scale(lum, a, b)
    rgb: Array = cv2.cvtColor(cv2.merge([lum, a * scale, b * scale]), cv2.COLOR_Lab2RGB)
    return rgb
