from __future__ import annotations

import itertools
from concurrent.futures import ThreadPoolExecutor

import cv2
import numpy as np
import pytest
import scipy.sparse.linalg as spla

from vscolorize.core.optimization import (
    VARIANCE_FACTOR,
    _direct_solve,
    _dissection_order,
    _gmres,
    _operator,
    levin_colorize,
    levin_matrix,
    levin_weights,
)


def two_regions(height: int = 40, width: int = 60) -> np.ndarray:
    """A dark left half and a bright right half, with mild texture."""
    rng = np.random.default_rng(0)
    y = np.where(np.arange(width)[None, :] < width // 2, 0.2, 0.8) + 0.01 * rng.random((height, width))
    return y.astype(np.float64)


def hints_each_side(height: int = 40, width: int = 60) -> tuple[np.ndarray, np.ndarray]:
    ab = np.zeros((height, width, 2), np.float32)
    mask = np.zeros((height, width), bool)
    mask[height // 2, 5], ab[height // 2, 5] = True, (40, 20)
    mask[height // 2, width - 6], ab[height // 2, width - 6] = True, (-30, -10)
    return ab, mask


def test_weights_are_normalized_and_follow_intensity() -> None:
    y = two_regions()
    w = levin_weights(y)
    assert w.shape == (8, *y.shape)
    np.testing.assert_allclose(w.sum(0), 1)
    assert (w[:, :, 0][[0, 3, 5]] == 0).all()  # left neighbors of the left column do not exist
    # across the edge (column 29 -> 30, neighbor offset (0, +1) is index 4) the weight is tiny
    assert w[4, 20, 29] < 1e-3 < w[4, 20, 10]


def test_matrix_is_levins_system() -> None:
    y = two_regions(6, 7)
    mask = np.zeros(y.shape, bool)
    mask[2, 3] = True
    a = levin_matrix(y, mask.astype(float)).toarray()
    hinted = 2 * 7 + 3
    np.testing.assert_array_equal(a[hinted], np.eye(42)[hinted])
    np.testing.assert_allclose(a.sum(1), np.where(np.arange(42) == hinted, 1, 0), atol=1e-12)
    assert (np.diag(a) == 1).all()


@pytest.mark.parametrize("method", ["direct", "cascade"])
def test_colors_stay_in_their_region(method: str) -> None:
    y = two_regions()
    ab_hint, mask = hints_each_side()
    ab = levin_colorize(y, ab_hint, mask, method=method)  # type: ignore[arg-type]
    assert ab.shape == (40, 60, 2) and ab.dtype == np.float32
    np.testing.assert_allclose(ab[:, :25].reshape(-1, 2).mean(0), (40, 20), atol=2)
    np.testing.assert_allclose(ab[:, 35:].reshape(-1, 2).mean(0), (-30, -10), atol=2)
    np.testing.assert_array_equal(ab[mask], ab_hint[mask])


def test_cascade_approximates_direct_on_a_large_picture() -> None:
    # 240x336 (> 40k pixels, so the cascade uses two levels): 6x7 regions of random gray, each
    # with one hint disc of radius 2 px at its center
    rng = np.random.default_rng(3)
    y = np.kron(rng.uniform(0.1, 0.9, (6, 7)), np.ones((40, 48)))
    y = np.clip(y + 0.01 * rng.standard_normal(y.shape), 0, 1)
    rows, cols = np.mgrid[0:240, 0:336]
    ab_hint = np.zeros((240, 336, 2), np.float32)
    mask = np.zeros((240, 336), bool)
    hinted = np.zeros((6, 7, 2))
    for i, r in enumerate(range(20, 240, 40)):
        for j, c in enumerate(range(24, 336, 48)):
            disc = (rows - r) ** 2 + (cols - c) ** 2 <= 4
            mask |= disc
            ab_hint[disc] = hinted[i, j] = rng.uniform(-60, 60, 2)
    direct = levin_colorize(y, ab_hint, mask, method="direct")
    cascade = levin_colorize(y, ab_hint, mask, method="cascade")

    # an approximation of Levin's solution (which depends on resolution), not the same solution:
    # region colors agree within a few a*b* units, and they are as close to the hinted colors
    def region_means(ab: np.ndarray) -> np.ndarray:
        return ab.reshape(6, 40, 7, 48, 2).mean(axis=(1, 3))

    assert np.abs(region_means(cascade) - region_means(direct)).mean() < 3
    error_direct = np.abs(region_means(direct) - hinted).mean()
    assert np.abs(region_means(cascade) - hinted).mean() < error_direct + 0.5


def test_no_hints_gives_gray_and_bad_arguments_are_refused() -> None:
    y = two_regions()
    ab = levin_colorize(y, np.zeros((40, 60, 2), np.float32), np.zeros((40, 60), bool))
    assert not ab.any()
    with pytest.raises(ValueError, match="shapes differ"):
        levin_colorize(y, np.zeros((40, 61, 2), np.float32), np.zeros((40, 60), bool))
    with pytest.raises(ValueError, match="method must be"):
        levin_colorize(y, *hints_each_side(), method="fast")  # type: ignore[arg-type]


def _reference_weights(y: np.ndarray) -> np.ndarray:
    """Levin's weights transcribed directly (NaN outside the image), as the first version did."""
    height, width = y.shape
    padded = np.pad(y, 1, constant_values=np.nan)
    offsets = [(dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1) if (dy, dx) != (0, 0)]
    neighbors = np.stack([padded[1 + dy : 1 + dy + height, 1 + dx : 1 + dx + width] for dy, dx in offsets])
    window = np.concatenate([neighbors, y[None]])
    variance = np.nanvar(window, 0)
    diff2 = (neighbors - y) ** 2
    sigma2 = np.maximum.reduce([0.6 * variance, np.nanmin(diff2, 0) / -np.log(0.01), np.full_like(y, 2e-6)])
    # every neighbor in the image keeps at least 1e-8 (outside it: NaN, then 0)
    weights = np.nan_to_num(np.maximum(np.exp(-diff2 / sigma2), 1e-8))
    return weights / weights.sum(0)


def test_weights_match_a_direct_transcription() -> None:
    y = np.random.default_rng(5).random((17, 23))
    y[5:9, 5:12] = 0.4  # a flat patch: the variance floor
    np.testing.assert_allclose(levin_weights(y), _reference_weights(y), rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("method", ["direct", "cascade"])
def test_an_island_under_sharp_weights_takes_its_surroundings_color(method: str) -> None:
    # two pixels alike and unlike all around them: with sharp weights their ties to the rest
    # were below double precision, the system singular (colors of 1e30 there and wrong colors
    # everywhere, or SuperLU's "exactly singular" in training)
    y = np.full((32, 32), 0.2)
    y[16, 16] = y[16, 17] = 0.9
    ab_hint = np.zeros((32, 32, 2), np.float32)
    mask = np.zeros((32, 32), bool)
    mask[4, 4], ab_hint[4, 4] = True, (30, -20)
    ab = levin_colorize(y, ab_hint, mask, method=method, variance_factor=0.05)  # type: ignore[arg-type]
    np.testing.assert_allclose(ab.reshape(-1, 2), np.broadcast_to((30, -20), (32 * 32, 2)), atol=0.01)


def test_gmres_both_channels_match_scipy() -> None:
    rng = np.random.default_rng(6)
    y = two_regions(30, 40)
    coverage = (rng.random(y.shape) < 0.02).astype(np.float64)
    matrix = _operator(y, coverage, np.float64, VARIANCE_FACTOR)
    rhs = rng.normal(size=(2, y.size))
    guess = rng.normal(size=(2, y.size))
    ours = _gmres(matrix, rhs, guess, 6)
    for c in range(2):
        theirs, _ = spla.gmres(matrix, rhs[c], x0=guess[c], rtol=1e-12, restart=6, maxiter=1)
        np.testing.assert_allclose(ours[c], theirs, rtol=1e-6, atol=1e-6)
    # a channel that is solved already stays as it is, without stopping the other one
    exact = spla.spsolve(matrix.tocsc(), rhs[0])
    both = _gmres(matrix, rhs, np.stack([exact, guess[1]]), 6)
    np.testing.assert_allclose(both[0], exact, atol=1e-9)
    np.testing.assert_allclose(both[1], ours[1], rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize(("height", "width"), [(1, 1), (2, 9), (17, 6), (31, 40)])
def test_direct_solve_in_dissection_order_is_the_systems_solution(height: int, width: int) -> None:
    order = _dissection_order(height, width)
    np.testing.assert_array_equal(np.sort(order), np.arange(height * width))  # a permutation
    rng = np.random.default_rng(height)
    y = two_regions(height, width)
    coverage = (rng.random(y.shape) < 0.05).astype(np.float64)
    coverage.flat[0] = 1
    matrix = levin_matrix(y, coverage)
    rhs = rng.normal(size=(height * width, 2))
    expected = spla.spsolve(matrix.tocsc(), rhs)
    np.testing.assert_allclose(_direct_solve(matrix, rhs, height, width), expected, atol=1e-9)
    hinted = levin_colorize(y, np.full((height, width, 2), 7, np.float32), coverage > 0)
    np.testing.assert_allclose(hinted, 7, atol=1e-4)  # one color in: that color everywhere


def test_cascade_is_deterministic_across_threads() -> None:
    rng = np.random.default_rng(7)
    y = cv2.GaussianBlur(rng.random((240, 300)), (0, 0), 3)
    y = (y - y.min()) / np.ptp(y)
    ab_hint = np.zeros((240, 300, 2), np.float32)
    mask = np.zeros((240, 300), bool)
    for r, c in rng.integers(5, 235, (12, 2)):
        mask[r, c] = True
        ab_hint[r, c] = rng.uniform(-60, 60, 2)
    first = levin_colorize(y, ab_hint, mask)
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: levin_colorize(y, ab_hint, mask), range(4)))
    for result in results:
        np.testing.assert_array_equal(result, first)


@pytest.mark.parametrize("method", ["direct", "cascade"])
def test_soft_constraints(method: str) -> None:
    """A weight map is a soft constraint: weight 1 is the hard one (the mask), 0 no hint, and in
    between the hint's pull grows with its weight."""
    y = two_regions()
    ab_hint, mask = hints_each_side()
    hard = levin_colorize(y, ab_hint, mask, method=method)  # type: ignore[arg-type]
    same = levin_colorize(y, ab_hint, mask.astype(np.float32), method=method)  # type: ignore[arg-type]
    np.testing.assert_array_equal(hard, same)
    # a second, competing hint in the left region: the weaker it is, the less it pulls
    competing = ab_hint.copy()
    competing[5, 20] = (-40, 40)
    pulls = []
    for strength in (0.0, 0.01, 0.1, 0.5, 1.0):
        weights = mask.astype(np.float32)
        weights[5, 20] = strength
        ab = levin_colorize(y, competing, weights, method=method)  # type: ignore[arg-type]
        pulls.append(float(ab[:, :25, 1].mean()))
    assert pulls[0] == pytest.approx(float(hard[:, :25, 1].mean()), abs=1e-4)
    assert all(a < b for a, b in itertools.pairwise(pulls)), pulls
