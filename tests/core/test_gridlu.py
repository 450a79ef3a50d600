from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from vscolorize.core import gridlu
from vscolorize.core.optimization import _operator


def stencil_system(height: int, width: int, seed: int) -> tuple[np.ndarray, sp.csr_matrix]:
    """A random nonsymmetric system on the grid's 3x3 stencil, diagonally dominant, as gridlu
    takes it (9 slots a row) and as SciPy does."""
    rng = np.random.default_rng(seed)
    columns = gridlu.stencil_columns(height, width)
    rows = np.repeat(np.arange(height * width), 9)
    data = rng.uniform(-1, 0, 9 * height * width)
    data[rows == columns] = 0
    data[np.arange(9 * height * width) % 9 == 4] = 0  # the pixel's own slot
    # a slot that points back inside the grid for a missing neighbor holds 0, as Levin's do
    r, c = np.divmod(np.arange(height * width), width)
    for slot, (dy, dx) in enumerate(gridlu.SLOTS):
        outside = (r + dy < 0) | (r + dy >= height) | (c + dx < 0) | (c + dx >= width)
        data[np.flatnonzero(outside) * 9 + slot] = 0
    off = data.reshape(-1, 9).sum(1)
    data[4::9] = -off + rng.uniform(0.01, 1, height * width)  # strictly dominant rows
    matrix = sp.csr_matrix(
        (data, columns, np.arange(0, 9 * height * width + 1, 9)), shape=(height * width,) * 2
    )
    return data, matrix


@pytest.mark.parametrize(
    ("height", "width"), [(1, 1), (1, 50), (2, 9), (17, 6), (48, 1), (7, 200), (31, 40), (80, 140)]
)
@pytest.mark.parametrize("channels", [1, 2])
def test_solve_is_the_systems_solution(height: int, width: int, channels: int) -> None:
    data, matrix = stencil_system(height, width, height * width)
    rhs = np.random.default_rng(1).normal(size=(height * width, channels))
    expected = spla.spsolve(matrix.tocsc(), rhs).reshape(height * width, channels)
    np.testing.assert_allclose(gridlu.solve(data, rhs, height, width), expected, rtol=0, atol=1e-9)


@pytest.mark.parametrize(("height", "width"), [(1, 1), (5, 3), (33, 70), (80, 140)])
def test_the_plan_eliminates_every_pixel_once_after_its_descendants(height: int, width: int) -> None:
    plan = gridlu._plan(height, width, 2)
    n = height * width
    own = np.concatenate([d.own.ravel() for d in plan])
    np.testing.assert_array_equal(np.sort(own[own < n]), np.arange(n))
    # a front's boundary pixels are eliminated later (in a shallower depth), never earlier
    when = np.empty(n, int)
    for step, depth in enumerate(plan):
        mine = depth.own
        when[mine[mine < n]] = step
    for step, depth in enumerate(plan):
        ring = depth.boundary
        assert (when[ring[ring < n]] > step).all()


def test_levins_system_as_the_cascade_builds_it() -> None:
    rng = np.random.default_rng(3)
    y = rng.random((80, 140))
    coverage = np.where(rng.random(y.shape) < 0.01, rng.uniform(0.1, 1, y.shape), 0)
    operator = _operator(y, coverage, np.float64, 0.2)
    rhs = rng.normal(size=(y.size, 2)) * coverage.reshape(-1, 1)
    expected = spla.spsolve(operator.tocsc(), rhs)
    np.testing.assert_allclose(gridlu.solve(operator.data, rhs, *y.shape), expected, rtol=0, atol=1e-9)


def test_solves_from_several_threads_are_each_their_own() -> None:
    systems = [stencil_system(40, 70, seed) for seed in range(6)]
    rhs = np.random.default_rng(0).normal(size=(40 * 70, 2))
    alone = [gridlu.solve(data, rhs, 40, 70) for data, _ in systems]
    gridlu._plan.cache_clear()  # the threads race to plan too
    with ThreadPoolExecutor(3) as pool:
        together = list(pool.map(lambda system: gridlu.solve(system[0], rhs, 40, 70), systems))
    for a, b in zip(alone, together, strict=True):
        np.testing.assert_array_equal(a, b)
