"""Colorization by optimization (Levin, Lischinski and Weiss, SIGGRAPH 2004), model-free, on CPU.

Neighboring pixels with similar intensity should have similar colors: each unhinted pixel's a*b*
must equal the weighted mean of its 8 neighbors', with weights
``w_rs = exp(-(Y_r - Y_s)^2 / (2 sigma_r^2))`` from the local luminance variance (3x3 window,
normalized to sum 1), and hinted pixels keep their hint. That is one sparse linear system
``(I - W) x = b`` per chroma channel.

Two solvers:

- ``"direct"``: an exact LU factorization of the full system, both ways in nested dissection
  order: up to 40k pixels batched dense fronts (:mod:`vscolorize.core.gridlu`, 1.3-1.5x faster than
  SuperLU at the model base's 80x140), above it SuperLU, which needs a fraction of gridlu's
  memory on large grids: at 854x480 SuperLU takes 2.1-2.4 s and 1.3 GB, gridlu 2.6 s and 1.9 GB
  after a 3.9 s plan.
- ``"cascade"`` (default, about 0.3 s there, 0.1 s at the engine's 320x569): coarse to fine. The
  system is rebuilt on an image pyramid (2x smaller each level; a partly hinted coarse pixel gets
  a soft constraint weighted by its hint coverage), the coarsest level (<= 40k pixels) is solved
  directly, its solution is upsampled to full size and refined there by a few GMRES steps on the
  full-resolution operator. The coarse solve carries color across the picture, which local
  iterations are slow to do; the fine iterations put the color edges back where the
  full-resolution luminance has them. Refining the intermediate levels as well, or more steps,
  bought nothing measurable: with 12 steps on every level, 0.003 dB more at the engine's size
  and 0.001 dB less at full size, 19 held-out photos, at 3x the time.

Levin's solution depends on the resolution it is computed at (its weights come from 3x3 windows),
so the cascade is an approximation, not the same solution: on 19 held-out 854x480 photos with 20
point hints its mean PSNR is 0.1 dB below the direct solve's, individual photos within +-1.4 dB
(``benchmarks/levin.py``). True multigrid on this operator (Galerkin coarsening with bilinear,
matrix-dependent or aggregation interpolation, as a GMRES preconditioner) converged too slowly to
beat the direct solve; see the notes in that benchmark.

Everything here is a pure function of its arguments and safe to run from several threads; what
depends on a level's size alone (the matrix structure) is made once and shared read-only. The
solver calls no BLAS on frame-sized vectors: OpenBLAS's own threads oversubscribe the cores when
frames already run in parallel (measured 10x slower than one thread on 2 loaded cores). gridlu's
dense fronts are small enough at the model base's size that OpenBLAS keeps them on the calling
thread.
"""

from __future__ import annotations

import logging
import math
from functools import lru_cache
from typing import Literal

import cv2
import numpy as np
import scipy.sparse as sp

from . import gridlu

__all__ = ["SolveMethod", "downsample", "levin_colorize", "levin_matrix", "levin_weights"]

log = logging.getLogger(__name__)

SolveMethod = Literal["cascade", "direct"]

# Levin's reference code: sigma^2 = 0.6 x the window variance, at least enough that the most
# similar neighbor keeps weight >= 0.01, and never below 2e-6 (intensity in [0, 1]).
VARIANCE_FACTOR = 0.6
_MIN_NEIGHBOR_WEIGHT = 0.01
_MIN_SIGMA2 = 2e-6
# The least weight a neighbor inside the image keeps (before normalizing): below what Levin's own
# variance share gives at all but the sharpest edges (exp(-17) = 4e-8 there), far above double
# precision's reach, so every pixel stays tied to its neighbors.
_WEIGHT_FLOOR = 1e-8

_OFFSETS = gridlu.OFFSETS
_CENTER = gridlu.SLOTS.index((0, 0))
_NEIGHBOR_SLOTS = (0, 1, 2, 3, 5, 6, 7, 8)

# Below this many pixels a level is solved directly (by gridlu); above it, it is refined
# iteratively (or, with the "direct" method, solved by SuperLU).
_DIRECT_PIXELS = 40_000
# SuperLU's nested dissection stops at blocks of this many pixels (4 to 16 factor alike at 80x140).
_DISSECTION_LEAF = 4
# GMRES steps on the finest level, per channel: more buy little (the remaining difference to the
# direct solution is low-frequency, which local Krylov steps barely move): at the engine's size,
# 4 steps are within 0.001 dB of 8 and 12 (benchmarks/levin.py photos).
_REFINE_ITERATIONS = 4
# The refinement's working precision: float32 halves the memory traffic of its products.
_REFINE_DTYPE = np.float32


@lru_cache(maxsize=16)
def _grid(height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """What depends on a level's size alone, made once per size (read-only, shared by threads).

    Returns:
        ``missing``: flat indices into an (8, H, W) array of the neighbors (in ``_OFFSETS``
        order) outside the image;
        ``count``: (H, W) float64, pixels in each 3x3 window (the pixel included).
    """
    rows = np.arange(height)[:, None]
    cols = np.arange(width)[None, :]
    valid = np.stack(
        [
            (rows + dy >= 0) & (rows + dy < height) & (cols + dx >= 0) & (cols + dx < width)
            for dy, dx in _OFFSETS
        ]
    )
    missing = np.flatnonzero(~valid)
    count = valid.sum(0).astype(np.float64) + 1
    for array in (missing, count):
        array.flags.writeable = False
    return missing, count


def _weights(intensity: np.ndarray, dtype: type, variance_factor: float) -> np.ndarray:
    """:func:`levin_weights` computed in ``dtype`` (the window statistics in float64)."""
    y = np.ascontiguousarray(intensity, dtype=np.float64)
    height, width = y.shape
    if height * width == 1:  # a lone pixel has no neighbor to take a color from
        return np.zeros((len(_OFFSETS), 1, 1), dtype)
    missing, count = _grid(height, width)

    # window mean and variance (the pixel and its existing neighbors) from two box sums
    def box_sum(x: np.ndarray) -> np.ndarray:
        return cv2.boxFilter(x, -1, (3, 3), normalize=False, borderType=cv2.BORDER_CONSTANT)

    mean = box_sum(y) / count
    variance = box_sum(y * y) / count - mean * mean
    # squared differences to the 8 neighbors; a missing one is infinitely far (weight 0)
    yd: np.ndarray = y.astype(dtype, copy=False)
    padded = np.zeros((height + 2, width + 2), dtype)
    padded[1:-1, 1:-1] = yd
    diff2 = np.stack([padded[1 + dy : 1 + dy + height, 1 + dx : 1 + dx + width] for dy, dx in _OFFSETS])
    diff2 -= yd
    diff2 *= diff2
    diff2.reshape(-1)[missing] = np.inf
    sigma2 = np.maximum(variance_factor * variance, _MIN_SIGMA2).astype(dtype)
    np.maximum(sigma2, diff2.min(0) * dtype(1 / -math.log(_MIN_NEIGHBOR_WEIGHT)), out=sigma2)
    diff2 /= -sigma2
    weights = np.exp(diff2, out=diff2)
    # no neighbor in the image is unrelated: with sharp weights (a small variance share) and
    # grain, a few pixels alike among themselves can be tied to all else by weights below double
    # precision, and the system turns singular (a zero pivot, or colors of 1e30 around them)
    np.maximum(weights, dtype(_WEIGHT_FLOOR), out=weights)
    weights.reshape(-1)[missing] = 0
    weights /= weights.sum(0)
    return weights


def levin_weights(intensity: np.ndarray, variance_factor: float = VARIANCE_FACTOR) -> np.ndarray:
    """Levin's affinity weights.

    Args:
        intensity: (H, W) luminance in [0, 1].
        variance_factor: sigma^2 of the weights as a share of the window's variance; lower
            keeps colors closer to the edges.

    Returns:
        (8, H, W) float64 weights of the neighbors in ``_OFFSETS`` order, 0 outside the image,
        each pixel's weights summing to 1.
    """
    return _weights(intensity, np.float64, variance_factor)


def _operator(
    intensity: np.ndarray, coverage: np.ndarray, dtype: type, variance_factor: float
) -> sp.csr_matrix:
    """:func:`levin_matrix` in ``dtype``, with the 9 slots a row as they come (explicit zeros
    and repeated columns at the border), which is all a product with a vector needs."""
    height, width = intensity.shape
    n = height * width
    data = _stencil_data(intensity, coverage, dtype, variance_factor)
    indptr = np.arange(0, 9 * n + 1, 9, dtype=np.int32)
    return sp.csr_matrix((data, gridlu.stencil_columns(height, width), indptr), shape=(n, n), copy=False)


def _stencil_data(
    intensity: np.ndarray, coverage: np.ndarray, dtype: type, variance_factor: float
) -> np.ndarray:
    """The system's entries, (H * W * 9,) in ``dtype``, at :func:`gridlu.stencil_columns`' slots
    (what :func:`gridlu.solve` takes, and :func:`_operator`'s data)."""
    height, width = intensity.shape
    weights = _weights(intensity, dtype, variance_factor)
    weights *= (coverage - 1).astype(dtype, copy=False)  # -(1 - c) w: the off-diagonal entries
    data: np.ndarray = np.empty((height, width, 9), dtype)
    data[..., _CENTER] = 1
    for k, slot in enumerate(_NEIGHBOR_SLOTS):
        data[..., slot] = weights[k]
    return data.reshape(-1)


def levin_matrix(
    intensity: np.ndarray, coverage: np.ndarray, variance_factor: float = VARIANCE_FACTOR
) -> sp.csr_matrix:
    """The system matrix of one level, over all pixels.

    Row r is ``c_r e_r + (1 - c_r)(e_r - w_r)``: with hint coverage ``c`` in {0, 1} that is
    Levin's system (identity rows at hinted pixels, ``I - W`` elsewhere); coarse levels of the
    cascade have fractional coverage where a coarse pixel is partly hinted, a soft constraint.

    Args:
        intensity: (H, W) luminance in [0, 1].
        coverage: (H, W) share of each pixel covered by hints, in [0, 1].
        variance_factor: as in :func:`levin_weights`.
    """
    matrix = _operator(intensity, coverage, np.float64, variance_factor)
    matrix.indices = matrix.indices.copy()  # the shared, read-only structure stays as it is
    matrix.sum_duplicates()
    matrix.eliminate_zeros()
    return matrix


def downsample(
    intensity: np.ndarray, values: np.ndarray, coverage: np.ndarray, size: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A level at ``size`` (width, height): intensity and coverage by area, hints by
    coverage-weighted averaging, so a hint smaller than a pixel there is a soft constraint as
    strong as its coverage."""
    coarse_intensity = cv2.resize(intensity, size, interpolation=cv2.INTER_AREA)
    coarse_coverage = cv2.resize(coverage, size, interpolation=cv2.INTER_AREA)
    sums = cv2.resize(values * coverage[..., None], size, interpolation=cv2.INTER_AREA)
    coarse_values = sums / np.maximum(coarse_coverage, 1e-12)[..., None]
    coarse_values[coarse_coverage <= 0] = 0
    return coarse_intensity, coarse_values, coarse_coverage


def _upsample(values: np.ndarray, height: int, width: int) -> np.ndarray:
    return cv2.resize(values, (width, height), interpolation=cv2.INTER_LINEAR)


def _gmres(matrix: sp.csr_matrix, rhs: np.ndarray, guess: np.ndarray, steps: int) -> np.ndarray:
    """One cycle of GMRES(``steps``) from ``guess``, for each of the C right-hand sides at once.

    Args:
        matrix: (n, n) sparse, of the working precision.
        rhs, guess: (C, n) of the working precision.

    Returns:
        (C, n): the point of ``guess`` + the Krylov space of its residual (one per channel) with
        the least residual. The vector work is numpy's einsum loops and scipy's sparse product,
        not BLAS: OpenBLAS's own threads oversubscribe the cores when frames already run in
        parallel, several times slower than one thread.
    """
    channels, n = rhs.shape

    def product(x: np.ndarray) -> np.ndarray:  # channel by channel: contiguous vectors
        return np.stack([matrix @ x[c] for c in range(channels)])

    residual = rhs - product(guess)
    beta = np.sqrt(np.einsum("cn,cn->c", residual, residual).astype(np.float64))
    basis = np.zeros((channels, steps + 1, n), rhs.dtype)
    hessenberg = np.zeros((channels, steps + 1, steps))

    def put(j: int, w: np.ndarray, norm: np.ndarray) -> None:
        # a channel whose Krylov space holds its solution already gets no further directions
        alive = norm > 1e-6 * beta  # float32 rounding, relative to the channel's residual
        basis[:, j] = w / np.where(alive, norm, 1.0)[:, None].astype(rhs.dtype)
        basis[~alive, j] = 0

    put(0, residual, beta)
    for j in range(steps):
        w = product(basis[:, j])
        previous = basis[:, : j + 1]
        # classical Gram-Schmidt, one pass: over a few steps the basis stays orthogonal enough
        h = np.einsum("ckn,cn->ck", previous, w)
        w -= np.einsum("ck,ckn->cn", h, previous)
        norm = np.sqrt(np.einsum("cn,cn->c", w, w).astype(np.float64))
        hessenberg[:, : j + 1, j] = h
        hessenberg[:, j + 1, j] = norm
        put(j + 1, w, norm)
    out = guess.copy()
    for c in range(channels):
        target = np.zeros(steps + 1)
        target[0] = beta[c]
        y = np.linalg.lstsq(hessenberg[c], target, rcond=None)[0]
        out[c] += np.einsum("k,kn->n", y.astype(rhs.dtype), basis[c, :steps])
    return out


@lru_cache(maxsize=16)
def _dissection_order(height: int, width: int) -> np.ndarray:
    """A nested dissection of the (height, width) pixel grid: the pixels' indices in the order
    their matrix rows are eliminated.

    The longer side is cut in half by one line of pixels (no 3x3 window reaches across it), the
    two halves are ordered the same way first and the line last, down to blocks of a few pixels.
    Eliminating a half then fills in nothing in the other, so SuperLU's factors stay small: at
    80x140 1.5x faster than its own minimum degree ordering of A + A^T.
    """
    parts: list[np.ndarray] = []

    def dissect(block: np.ndarray) -> None:
        rows, cols = block.shape
        if rows * cols <= _DISSECTION_LEAF:
            parts.append(block.ravel())
        elif cols >= rows:
            dissect(block[:, : cols // 2])
            dissect(block[:, cols // 2 + 1 :])
            parts.append(block[:, cols // 2])
        else:
            dissect(block[: rows // 2])
            dissect(block[rows // 2 + 1 :])
            parts.append(block[rows // 2])

    dissect(np.arange(height * width).reshape(height, width))
    order = np.concatenate(parts)
    order.flags.writeable = False
    return order


def _direct_solve(matrix: sp.csr_matrix, rhs: np.ndarray, height: int, width: int) -> np.ndarray:
    """``matrix`` x = ``rhs`` (n, C) by SuperLU, rows and columns in nested dissection order."""
    import scipy.sparse.linalg as spla  # here, not above: 45 ms of every process's start otherwise

    order = _dissection_order(height, width)
    # the rows stay diagonally dominant and the pattern symmetric: pivots kept on the diagonal
    lu = spla.splu(
        matrix[order][:, order].tocsc(),
        permc_spec="NATURAL",
        diag_pivot_thresh=0.1,
        options={"SymmetricMode": True},
    )
    solution = np.empty_like(rhs)
    solution[order] = lu.solve(rhs[order])
    return solution


def _solve_level(
    intensity: np.ndarray,
    values: np.ndarray,
    coverage: np.ndarray,
    method: SolveMethod,
    variance_factor: float,
    *,
    finest: bool = True,
) -> np.ndarray:
    height, width = intensity.shape
    rhs = (values * coverage[..., None]).reshape(-1, 2)
    if method == "direct" or height * width <= _DIRECT_PIXELS or min(height, width) < 8:
        if height * width <= _DIRECT_PIXELS:
            data = _stencil_data(intensity, coverage, np.float64, variance_factor)
            return gridlu.solve(data, rhs, height, width).reshape(values.shape)
        matrix = levin_matrix(intensity, coverage, variance_factor)
        return _direct_solve(matrix, rhs, height, width).reshape(values.shape)
    half = ((width + 1) // 2, (height + 1) // 2)
    coarse = _solve_level(
        *downsample(intensity, values, coverage, half), method, variance_factor, finest=False
    )
    guess = _upsample(coarse, height, width)
    if not finest:  # what refining an intermediate level achieves, the finest one redoes
        return guess
    matrix = _operator(intensity, coverage, _REFINE_DTYPE, variance_factor)
    out = _gmres(
        matrix,
        np.ascontiguousarray(rhs.T, dtype=_REFINE_DTYPE),
        np.ascontiguousarray(guess.reshape(-1, 2).T, dtype=_REFINE_DTYPE),
        _REFINE_ITERATIONS,
    )
    return out.T.reshape(values.shape).astype(np.float64)


def levin_colorize(
    intensity: np.ndarray,
    ab_hint: np.ndarray,
    mask: np.ndarray,
    *,
    method: SolveMethod = "cascade",
    variance_factor: float = VARIANCE_FACTOR,
) -> np.ndarray:
    """Spread hinted a*b* over the image along luminance (Levin et al. 2004).

    Args:
        intensity: (H, W) luminance in [0, 1] (L / 100).
        ab_hint: (H, W, 2) a*b* at hinted pixels (other values are ignored).
        mask: (H, W) bool, True at hinted pixels; or float in [0, 1], how strongly each pixel
            holds its hint (a soft constraint: the row ``c x + (1 - c)(x - W x) = c hint``, the
            one coarse levels of the cascade use for partly hinted pixels).
        method: ``"cascade"`` (fast, default) or ``"direct"`` (exact, slow on large frames).
        variance_factor: as in :func:`levin_weights` (Levin's reference code: 0.6).

    Returns:
        (H, W, 2) float32 a*b*; fully hinted pixels keep their hint exactly. Without any hint, 0.
    """
    if method not in ("cascade", "direct"):
        raise ValueError(f"levin_colorize: method must be 'cascade' or 'direct', not {method!r}")
    height, width = intensity.shape
    if ab_hint.shape != (height, width, 2) or mask.shape != (height, width):
        raise ValueError(
            f"levin_colorize: shapes differ: intensity {intensity.shape}, "
            f"ab_hint {ab_hint.shape}, mask {mask.shape}"
        )
    coverage = np.clip(mask.astype(np.float64), 0, 1)
    if not coverage.any():
        return np.zeros((height, width, 2), np.float32)
    values = np.where(coverage[..., None] > 0, ab_hint, 0).astype(np.float64)
    out = _solve_level(intensity.astype(np.float64), values, coverage, method, variance_factor)
    full = coverage >= 1
    out[full] = ab_hint[full]
    return out.astype(np.float32)
