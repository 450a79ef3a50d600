"""Colorization by optimization (Levin, Lischinski and Weiss, SIGGRAPH 2004), model-free, on CPU.

Neighboring pixels with similar intensity should have similar colors: each unhinted pixel's a*b*
must equal the weighted mean of its 8 neighbors', with weights
``w_rs = exp(-(Y_r - Y_s)^2 / (2 sigma_r^2))`` from the local luminance variance (3x3 window,
normalized to sum 1), and hinted pixels keep their hint. That is one sparse linear system
``(I - W) x = b`` per chroma channel.

Two solvers:

- ``"direct"``: a sparse LU factorization (SuperLU) of the full system, the exact solution; about
  9 s for an 854x480 frame on a 2-core machine.
- ``"cascade"`` (default, about 0.8 s there): coarse to fine. The system is rebuilt on an image
  pyramid (2x smaller each level; a partly hinted coarse pixel gets a soft constraint weighted by
  its hint coverage), the coarsest level (<= 40k pixels) is solved directly, and each finer level
  starts from the upsampled coarser solution and is refined by GMRES on its own operator. The
  coarse solve carries color across the picture, which local iterations are slow to do; the fine
  iterations put the color edges back where the full-resolution luminance has them.

Levin's solution depends on the resolution it is computed at (its weights come from 3x3 windows),
so the cascade is an approximation, not the same solution: on 19 held-out 854x480 photos with 20
point hints its mean PSNR is 0.1 dB below the direct solve's, individual photos within +-1.4 dB
(``benchmarks/levin.py``). True multigrid on this operator (Galerkin coarsening with bilinear,
matrix-dependent or aggregation interpolation, as a GMRES preconditioner) converged too slowly to
beat the direct solve; see the notes in that benchmark.
"""

from __future__ import annotations

import logging
import math
from typing import Literal

import cv2
import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

__all__ = ["SolveMethod", "levin_colorize", "levin_matrix", "levin_weights"]

log = logging.getLogger(__name__)

SolveMethod = Literal["cascade", "direct"]

# Levin's reference code: sigma^2 = 0.6 x the window variance, at least enough that the most
# similar neighbor keeps weight >= 0.01, and never below 2e-6 (intensity in [0, 1]).
_VARIANCE_FACTOR = 0.6
_MIN_NEIGHBOR_WEIGHT = 0.01
_MIN_SIGMA2 = 2e-6

# The 8 neighbors of a 3x3 window as (row, column) offsets.
_OFFSETS = tuple((dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1) if (dy, dx) != (0, 0))

# Below this many pixels a level is solved directly; above it, it is refined iteratively.
_DIRECT_PIXELS = 40_000
# GMRES iterations per level and channel: more buy little (the remaining difference to the direct
# solution is low-frequency, which local Krylov steps barely move).
_REFINE_ITERATIONS = 12


def _shift(x: np.ndarray, dy: int, dx: int, fill: float) -> np.ndarray:
    """``out[i, j] = x[i + dy, j + dx]`` with ``fill`` outside the image."""
    height, width = x.shape
    out = np.full_like(x, fill)
    out[max(-dy, 0) : height - max(dy, 0), max(-dx, 0) : width - max(dx, 0)] = x[
        max(dy, 0) : height + min(dy, 0), max(dx, 0) : width + min(dx, 0)
    ]
    return out


def levin_weights(intensity: np.ndarray) -> np.ndarray:
    """Levin's affinity weights.

    Args:
        intensity: (H, W) luminance in [0, 1].

    Returns:
        (8, H, W) float64 weights of the neighbors in ``_OFFSETS`` order, 0 outside the image,
        each pixel's weights summing to 1.
    """
    y = intensity.astype(np.float64)
    neighbors = np.stack([_shift(y, dy, dx, np.nan) for dy, dx in _OFFSETS])
    valid = ~np.isnan(neighbors)
    neighbors = np.where(valid, neighbors, 0.0)
    count = valid.sum(0) + 1
    mean = (neighbors.sum(0) + y) / count
    variance = (np.where(valid, (neighbors - mean) ** 2, 0.0).sum(0) + (y - mean) ** 2) / count
    diff2 = np.where(valid, (neighbors - y) ** 2, np.inf)
    sigma2 = np.maximum.reduce(
        [
            _VARIANCE_FACTOR * variance,
            diff2.min(0) / -math.log(_MIN_NEIGHBOR_WEIGHT),
            np.full_like(y, _MIN_SIGMA2),
        ]
    )
    weights = np.where(valid, np.exp(-np.where(valid, diff2, 0.0) / sigma2), 0.0)
    weights /= weights.sum(0)
    return weights


def levin_matrix(intensity: np.ndarray, coverage: np.ndarray) -> sp.csr_matrix:
    """The system matrix of one level, over all pixels.

    Row r is ``c_r e_r + (1 - c_r)(e_r - w_r)``: with hint coverage ``c`` in {0, 1} that is
    Levin's system (identity rows at hinted pixels, ``I - W`` elsewhere); coarse levels of the
    cascade have fractional coverage where a coarse pixel is partly hinted, a soft constraint.

    Args:
        intensity: (H, W) luminance in [0, 1].
        coverage: (H, W) share of each pixel covered by hints, in [0, 1].
    """
    height, width = intensity.shape
    n = height * width
    weights = levin_weights(intensity)
    index = np.arange(n).reshape(height, width)
    columns = np.stack([_shift(index, dy, dx, -1) for dy, dx in _OFFSETS] + [index], axis=-1)
    data = np.concatenate(
        [-weights.transpose(1, 2, 0) * (1 - coverage)[..., None], np.ones((height, width, 1))],
        axis=-1,
    )
    outside = columns < 0
    columns[outside] = np.broadcast_to(index[..., None], columns.shape)[outside]
    data[outside] = 0
    # 9 slots a row, already in CSR order: no sorting needed (duplicates at the border add up)
    matrix = sp.csr_matrix(
        (data.reshape(-1), columns.reshape(-1), np.arange(0, 9 * n + 1, 9)), shape=(n, n)
    )
    matrix.sum_duplicates()
    matrix.eliminate_zeros()
    return matrix


def _downsample(
    intensity: np.ndarray, values: np.ndarray, coverage: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Halve a level: intensity and coverage by area, hints by coverage-weighted averaging."""
    height, width = intensity.shape
    size = ((width + 1) // 2, (height + 1) // 2)
    coarse_intensity = cv2.resize(intensity, size, interpolation=cv2.INTER_AREA)
    coarse_coverage = cv2.resize(coverage, size, interpolation=cv2.INTER_AREA)
    sums = cv2.resize(values * coverage[..., None], size, interpolation=cv2.INTER_AREA)
    coarse_values = sums / np.maximum(coarse_coverage, 1e-12)[..., None]
    coarse_values[coarse_coverage <= 0] = 0
    return coarse_intensity, coarse_values, coarse_coverage


def _upsample(values: np.ndarray, height: int, width: int) -> np.ndarray:
    return cv2.resize(values, (width, height), interpolation=cv2.INTER_LINEAR)


def _solve_level(
    intensity: np.ndarray, values: np.ndarray, coverage: np.ndarray, method: SolveMethod
) -> np.ndarray:
    height, width = intensity.shape
    matrix = levin_matrix(intensity, coverage)
    rhs = (values * coverage[..., None]).reshape(-1, 2)
    if method == "direct" or height * width <= _DIRECT_PIXELS or min(height, width) < 8:
        lu = spla.splu(matrix.tocsc())
        return lu.solve(rhs).reshape(values.shape)
    coarse = _solve_level(*_downsample(intensity, values, coverage), method)
    guess = _upsample(coarse, height, width).reshape(-1, 2)
    out = np.empty_like(guess)
    for c in range(2):
        out[:, c], _ = spla.gmres(
            matrix, rhs[:, c], x0=guess[:, c], rtol=1e-8, restart=_REFINE_ITERATIONS, maxiter=1
        )
    return out.reshape(values.shape)


def levin_colorize(
    intensity: np.ndarray,
    ab_hint: np.ndarray,
    mask: np.ndarray,
    *,
    method: SolveMethod = "cascade",
) -> np.ndarray:
    """Spread hinted a*b* over the image along luminance (Levin et al. 2004).

    Args:
        intensity: (H, W) luminance in [0, 1] (L / 100).
        ab_hint: (H, W, 2) a*b* at hinted pixels (other values are ignored).
        mask: (H, W) bool, True at hinted pixels.
        method: ``"cascade"`` (fast, default) or ``"direct"`` (exact, slow on large frames).

    Returns:
        (H, W, 2) float32 a*b*; hinted pixels keep their hint exactly. Without any hint, 0.
    """
    if method not in ("cascade", "direct"):
        raise ValueError(f"levin_colorize: method must be 'cascade' or 'direct', not {method!r}")
    height, width = intensity.shape
    if ab_hint.shape != (height, width, 2) or mask.shape != (height, width):
        raise ValueError(
            f"levin_colorize: shapes differ: intensity {intensity.shape}, "
            f"ab_hint {ab_hint.shape}, mask {mask.shape}"
        )
    if not mask.any():
        return np.zeros((height, width, 2), np.float32)
    values = np.where(mask[..., None], ab_hint, 0).astype(np.float64)
    coverage = mask.astype(np.float64)
    out = _solve_level(intensity.astype(np.float64), values, coverage, method)
    out[mask] = ab_hint[mask]
    return out.astype(np.float32)
