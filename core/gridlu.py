"""Exact solves of 3x3-stencil systems on a pixel grid: a nested dissection multifrontal LU,
batched by the depth of its tree, in numpy.

A system here has one row per pixel of an (H, W) grid, and row r's nonzeros sit at r's 3x3
window, given as 9 slots a row (:func:`stencil_columns`): Levin's colorization system is one.
Such a grid falls apart when a line of pixels is taken out: nothing in a 3x3 window reaches
across it. Nested dissection cuts the grid's longer side by a line, the two halves the same way,
down to blocks of a few dozen pixels. Eliminating a block's pixels then touches only the ring of
pixels around it (its *boundary*, on the lines that cut it out), so each block's work is a dense
"front": its own pixels and its boundary. Eliminating the front's own pixels leaves a dense
update on the boundary (its Schur complement), which the block's parent adds to its front.

The fronts of one depth of the tree are independent and nearly the same size, so they are
padded to one size and handled as one batch: assembled by one scatter (``np.bincount``), their
own rows solved by one batched ``np.linalg.solve`` with the right-hand sides carried along as
extra columns, the update by one batched product. Pivoting happens within each front only: the
rows of Levin's system are diagonally dominant, so pivots off the diagonal are never needed.

At the Levin base's 80x140 a solve takes 17-22 ms on one core where SuperLU in the same order
takes 26-28 (its matrix built), its column-by-column symbolic work dominating on a system this
small; on large grids SuperLU needs less memory (see :mod:`vscolorize.core.optimization`). The
fronts are a few MB per depth, fresh each solve: with glibc's default trim threshold their pages
went back to the system after every solve and were faulted in again, a third of the time
(15-18 ms with the thresholds :mod:`vscolorize.core.allocator` sets).

Why numpy and not torch: torch's batched LU is faster alone (13 ms), but with torch on two
threads (VapourSynth on one) MKL opens a parallel region for every small matrix it solves, and
inside a render, where the other core is rarely idle, each waits for it: 77 ms a solve, a third
fewer frames. numpy's OpenBLAS keeps every call here on the calling thread (its LAPACK below
10,000 entries, a product below 524,288 multiply-adds on a 2-core machine: the base's fronts are
smaller), so a solve costs the same whatever torch's or VapourSynth's thread counts.

What depends on the grid's size alone (the tree, where each entry of the matrix goes in the
fronts) is planned once per size and shared read-only; :func:`solve` itself is a pure function,
safe to call from several threads.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

__all__ = ["OFFSETS", "SLOTS", "solve", "stencil_columns"]

# The 8 neighbors of a 3x3 window as (row, column) offsets.
OFFSETS = tuple((dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1) if (dy, dx) != (0, 0))
# A matrix row's 9 slots, by increasing column: the neighbors above, the pixel, those below.
SLOTS = (*OFFSETS[:4], (0, 0), *OFFSETS[4:])

# Blocks of at most this many pixels are not cut further: they are a front's own pixels whole.
# At 80x140 on one core, 8 to 32 were within this shared machine's noise of each other, 16 the
# best or tied in three passes; smaller leaves mean more depths (more calls from Python),
# larger ones more dense work.
_LEAF_PIXELS = 16


@lru_cache(maxsize=16)
def stencil_columns(height: int, width: int) -> np.ndarray:
    """(H * W * 9,) int32 column indices of each row's 9 slots (``SLOTS`` order, row after
    row). A slot whose neighbor lies outside the grid points at the nearest pixel inside it;
    its value must then be 0. Read-only, shared."""
    rows = np.arange(height)[:, None]
    cols = np.arange(width)[None, :]
    slots = [np.clip(rows + dy, 0, height - 1) * width + np.clip(cols + dx, 0, width - 1) for dy, dx in SLOTS]
    columns = np.stack(slots, -1).astype(np.int32).reshape(-1)
    columns.flags.writeable = False
    return columns


@dataclass(frozen=True)
class _Depth:
    """The fronts of one depth of the tree, padded to one size: ``own`` pixels (eliminated
    here) first, then ``boundary`` pixels. Index ``n`` (one past the last pixel) pads."""

    own: np.ndarray  # (B, S) pixel indices
    boundary: np.ndarray  # (B, R) pixel indices
    entry_from: np.ndarray  # the matrix's entries (row * 9 + slot) that belong in these fronts
    # where each of those goes, flat into (B, S + R, S + R + C), then where each element of the
    # children's updates (B', R', R' + C) goes; B * (S + R) * (S + R + C): nowhere (padding)
    scatter_to: np.ndarray
    pad_diagonal: np.ndarray  # flat positions of padded own pixels' diagonal (set to 1)


# A block of the dissection: its parent's index in the depth above, its own pixels (the line
# that cuts it, or all of a leaf's), the pixels around it.
_Block = tuple[int, np.ndarray, np.ndarray]


def _dissect(height: int, width: int) -> list[list[_Block]]:
    """The grid's blocks, per depth from the root (the whole grid) down."""
    grid = np.arange(height * width).reshape(height, width)
    levels: list[list[_Block]] = []

    def cut(r0: int, r1: int, c0: int, c1: int, depth: int, parent: int) -> None:
        if r1 <= r0 or c1 <= c0:
            return
        outer = grid[max(r0 - 1, 0) : r1 + 1, max(c0 - 1, 0) : c1 + 1]
        around = np.ones(outer.shape, bool)
        around[int(r0 > 0) : int(r0 > 0) + r1 - r0, int(c0 > 0) : int(c0 > 0) + c1 - c0] = False
        if len(levels) <= depth:
            levels.append([])
        here = len(levels[depth])
        if (r1 - r0) * (c1 - c0) <= _LEAF_PIXELS:
            levels[depth].append((parent, grid[r0:r1, c0:c1].ravel(), outer[around]))
        elif c1 - c0 >= r1 - r0:
            line = (c0 + c1) // 2
            levels[depth].append((parent, grid[r0:r1, line], outer[around]))
            cut(r0, r1, c0, line, depth + 1, here)
            cut(r0, r1, line + 1, c1, depth + 1, here)
        else:
            line = (r0 + r1) // 2
            levels[depth].append((parent, grid[line, c0:c1], outer[around]))
            cut(r0, line, c0, c1, depth + 1, here)
            cut(line + 1, r1, c0, c1, depth + 1, here)

    cut(0, height, 0, width, 0, -1)
    return levels


class _Positions:
    """Where a pixel sits in a front of one depth: fronts' pixel lists (padded with ``n``) as
    sorted (front, pixel) keys."""

    def __init__(self, members: np.ndarray, n: int) -> None:
        count, size = members.shape
        self.n = n
        self.front = np.repeat(np.arange(count), size)
        self.pixel = members.reshape(-1)
        self.position = np.tile(np.arange(size), count)
        self.real = self.pixel < n
        keys = self.front[self.real] * (n + 1) + self.pixel[self.real]
        order = np.argsort(keys)
        self.keys, self.positions = keys[order], self.position[self.real][order]

    def find(self, front: np.ndarray, pixel: np.ndarray) -> np.ndarray:
        """The positions of ``pixel``s in ``front``s; -1 where a front lacks the pixel."""
        key = front * (self.n + 1) + pixel
        at = np.minimum(np.searchsorted(self.keys, key), len(self.keys) - 1)
        return np.where(self.keys[at] == key, self.positions[at], -1)


def _depth(
    level: list[_Block], below: tuple[np.ndarray, np.ndarray] | None, columns: np.ndarray, channels: int
) -> _Depth:
    """One depth's fronts. ``below``: the deeper depth's parents and boundaries (None at the
    deepest); ``columns``: (n, 9) :func:`stencil_columns`."""
    n, count = len(columns), len(level)
    own_size = max(len(b[1]) for b in level)
    size = own_size + max(len(b[2]) for b in level)
    row = size + channels  # a front's row: its pixels' columns, then the right-hand sides
    members = np.full((count, size), n, np.int64)
    for k, (_, own, ring) in enumerate(level):
        members[k, : len(own)] = own
        members[k, own_size : own_size + len(ring)] = ring
    where = _Positions(members, n)
    # a row's entries belong to the front that eliminates the row or the entry's column first
    front, pixel, position = where.front[where.real], where.pixel[where.real], where.position[where.real]
    column_at = where.find(np.repeat(front, 9), columns[pixel].reshape(-1)).reshape(-1, 9)
    keep = (column_at >= 0) & ((position < own_size)[:, None] | (column_at < own_size))
    entry_from = (pixel[:, None] * 9 + np.arange(9))[keep]
    entry_to = ((front * size + position)[:, None] * row + column_at)[keep]
    pads = np.argwhere(members[:, :own_size] == n)
    pad_diagonal = (pads[:, 0] * size + pads[:, 1]) * row + pads[:, 1]
    update_to = np.zeros(0, np.int64)
    if below is not None:
        parent, child_ring = below
        at = where.find(np.repeat(parent, child_ring.shape[1]), child_ring.reshape(-1))
        # a child's update has its right-hand sides' columns too: they go nowhere (padding)
        at = np.pad(at.reshape(child_ring.shape), ((0, 0), (0, channels)), constant_values=-1)
        flat = (parent[:, None, None] * size + at[:, :-channels, None]) * row + at[:, None, :]
        missing = (at[:, :-channels, None] < 0) | (at[:, None, :] < 0)
        update_to = np.where(missing, count * size * row, flat).reshape(-1)
    scatter_to = np.concatenate([entry_to, update_to])
    arrays = [np.ascontiguousarray(a) for a in (members[:, :own_size], members[:, own_size:])]
    arrays += [entry_from, scatter_to, pad_diagonal]
    for array in arrays:  # shared by every thread that solves at this size
        array.flags.writeable = False
    return _Depth(*arrays)


@lru_cache(maxsize=16)
def _plan(height: int, width: int, channels: int) -> tuple[_Depth, ...]:
    """The tree of a (height, width) grid as its depths, deepest first, for fronts with
    ``channels`` right-hand sides."""
    n = height * width
    columns = stencil_columns(height, width).reshape(n, 9)
    depths: list[_Depth] = []
    below = None
    for level in reversed(_dissect(height, width)):
        depths.append(_depth(level, below, columns, channels))
        below = (np.array([b[0] for b in level]), depths[-1].boundary)
    return tuple(depths)


def solve(data: np.ndarray, rhs: np.ndarray, height: int, width: int) -> np.ndarray:
    """Solve ``A x = rhs`` exactly (to float64 rounding).

    Args:
        data: (H * W * 9,) float64, A's entries at :func:`stencil_columns`' slots (slots that
            point outside the grid hold 0; the entries must make A nonsingular).
        rhs: (H * W, C) float64 right-hand sides.

    Returns:
        (H * W, C) float64.
    """
    n, channels = height * width, rhs.shape[1]
    values = np.asarray(data, np.float64)
    work = np.zeros((n + 1, channels))  # the last row: padding's
    work[:n] = rhs
    plan = _plan(height, width, channels)
    solved: list[np.ndarray] = []
    update: np.ndarray | None = None
    for depth in plan:
        count, own = depth.own.shape
        ring = depth.boundary.shape[1]
        size = own + ring
        # a front's rows: its own pixels', then its boundary's; its columns the same, then the
        # right-hand sides (zero on boundary rows: what reaches them goes to ``work``)
        end = count * size * (size + channels) + 1  # the last: padding's
        given = values[depth.entry_from]
        if update is not None:
            given = np.concatenate([given, update.reshape(-1)])
        front = np.bincount(depth.scatter_to, given, end)
        front[depth.pad_diagonal] = 1.0
        front = front[:-1].reshape(count, size, size + channels)
        front[:, :own, size:] = work[depth.own]
        # own unknowns in terms of the boundary's, and what the right-hand side makes of them
        solved.append(np.linalg.solve(front[:, :own, :own], front[:, :own, own:]))
        # the boundary rows with the own unknowns eliminated: the parent's update, and the
        # right-hand side's share, which the ancestors' own rows take from ``work``
        update = front[:, own:, own:] - front[:, own:, :own] @ solved[-1]
        for c in range(channels):
            work[:, c] += np.bincount(depth.boundary.reshape(-1), update[:, :, ring + c].reshape(-1), n + 1)
        work[n] = 0
    # back substitution, root first: a front's own unknowns from its boundary's, known by then
    out = np.zeros_like(work)
    for depth, part in zip(reversed(plan), reversed(solved), strict=True):
        ring = depth.boundary.shape[1]
        out[depth.own] = part[:, :, ring:] - part[:, :, :ring] @ out[depth.boundary]
        out[n] = 0
    return out[:n]
