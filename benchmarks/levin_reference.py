"""An independent Levin et al. 2004 implementation, for benchmarks only.

A transcription of the authors' MATLAB code (colorizeFun.m): YIQ color space, 3x3 windows, one
exact sparse solve (scipy spsolve) per chroma channel. It shares no code with vscolorize's engine;
the benchmark compares the two on the same hint locations.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

RGB_TO_YIQ = np.array([[0.299, 0.587, 0.114], [0.596, -0.274, -0.322], [0.211, -0.523, 0.312]])
YIQ_TO_RGB = np.linalg.inv(RGB_TO_YIQ)


def rgb_to_yiq(rgb: np.ndarray) -> np.ndarray:
    return rgb @ RGB_TO_YIQ.T


def yiq_to_rgb(yiq: np.ndarray) -> np.ndarray:
    return np.clip(yiq @ YIQ_TO_RGB.T, 0, 1)


def colorize(y: np.ndarray, iq_marks: np.ndarray, marked: np.ndarray) -> np.ndarray:
    """Levin's colorizeFun: y (H, W) in [0, 1], iq_marks (H, W, 2), marked (H, W) bool -> (H, W, 2)."""
    n, m = y.shape
    size = n * m
    index = np.arange(size).reshape(n, m)
    rows, cols, vals = [], [], []
    # gather each pixel's window: neighbors (ii, jj) within the image, excluding the pixel itself
    padded = np.pad(y, 1, constant_values=np.nan)
    window = np.stack(
        [
            padded[1 + di : 1 + di + n, 1 + dj : 1 + dj + m]
            for di in (-1, 0, 1)
            for dj in (-1, 0, 1)
            if (di, dj) != (0, 0)
        ]
    )
    pidx = np.pad(index, 1, constant_values=-1)
    neighbor = np.stack(
        [
            pidx[1 + di : 1 + di + n, 1 + dj : 1 + dj + m]
            for di in (-1, 0, 1)
            for dj in (-1, 0, 1)
            if (di, dj) != (0, 0)
        ]
    )
    inside = neighbor >= 0
    with_center = np.concatenate([window, y[None]], 0)
    c_var = np.nanvar(with_center, axis=0)  # MATLAB: mean((g - mean(g)).^2), population variance
    csig = c_var * 0.6
    sq = np.where(inside, (window - y) ** 2, np.inf)
    mgv = sq.min(0)
    csig = np.where(csig < -mgv / np.log(0.01), -mgv / np.log(0.01), csig)
    csig = np.maximum(csig, 0.000002)
    g = np.where(inside, np.exp(-np.where(inside, sq, 0) / csig), 0)
    g = g / g.sum(0)
    for k in range(8):
        ok = inside[k] & ~marked
        rows.append(index[ok])
        cols.append(neighbor[k][ok])
        vals.append(-g[k][ok])
    rows.append(index.ravel())
    cols.append(index.ravel())
    vals.append(np.ones(size))
    a = sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), (size, size))
    out = np.zeros((n, m, 2))
    for c in range(2):
        b = np.where(marked, iq_marks[..., c], 0).ravel()
        out[..., c] = spla.spsolve(a.tocsc(), b).reshape(n, m)
    return out
