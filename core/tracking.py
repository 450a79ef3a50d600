"""Hint positions followed from frame to frame, anchored to the keyframe they were painted on.

Optical flow alone carries a hint along a chain of frames: an object that passes over it drags it
away, the forward-backward check drops it, and it never comes back. Here each tracked position
(a point's center or a stroke's vertex) also keeps its *template*: the lightness patch under it on
its keyframe. On every frame:

1. A position that is *seen* moves with the flow under it, unless that flow *breaks* from how it
   moved: something is passing over it (surfaces change speed gradually). How it moved is the
   camera's motion (an affine fit to the whole picture's flow) for a flat position that has
   moved with the camera (on a flat patch the flow is not measured but filled in from around,
   and beside a walker it takes the walker's motion), else its own recent motion; a jump of the
   whole picture is the camera's and is followed. A broken or *lost* position moves with its
   surroundings (the camera for flat background; else the flow around it that still moves as it
   did, else its own last motion), so that it stays on the place it marked.
2. A seen position stays seen when the flow holds there (forward-backward check), it is inside
   the frame, and the patch under it still looks like its template (:func:`patch_distance`; a
   textured template may change more than a flat one). On grainy film two looks at one place
   differ however well it is followed: distances and textures are taken less what the grain
   alone makes of them (:func:`matching_noise`, measured on each frame).
3. A lost position is searched for around where it should be: where a patch there looks like its
   template (more strictly than to stay seen) and the flow holds, it is seen again
   (*re-acquired*). Meanwhile a point is shown, lighter, on *stand-ins*: the nearest places on
   each side that look like its template (the road beside the walkers standing on it).

Each seen position gets a weight in [0, 1] for this frame: how well its patch agrees with the
template, how well the flow holds there, and how far it is from a strong edge (a hint on an edge
falls on the wrong side with the smallest error). ``vscolorize.core.carry.Fade`` then makes
weights rise and fall over :data:`FADE_FRAMES` frames, never above what a frame measured, so a
hint appearing or vanishing eases in and out instead of popping (it looks a few frames ahead, so
a hint fades out before the frame it is lost on).

Everything works at the motion working size on the uint8 pictures of
``vscolorize.core.footage``; everything here is a pure function of its inputs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import cv2
import numpy as np

from .motion import Pair

# the forward-backward error (px) of the pixels nearest (N, 2) positions on the next frame
ErrorAt = Callable[[np.ndarray], np.ndarray]

__all__ = ["FADE_FRAMES", "Anchors", "matching_noise", "patch_distance", "patches"]

# A template is the (2 * _RADIUS + 1)^2 patch around a position, in working pixels (11 x 11 at
# the default 360 px short side: the size of a large point hint).
_RADIUS = 5
# patch_distance weighs a change of the patch's mean brightness at this share of a change of its
# structure: old film flickers in brightness, and a fade must not lose every hint
_BRIGHTNESS_SHARE = 0.5
# A seen position whose patch distance (uint8 levels, L* x 2.55) exceeds _LOSE plus _LOSE_SHARE
# of its template's texture (the mean absolute deviation of its pixels) is lost; one found again
# must be within _REACQUIRE of that (a share), and up to _AGREE of it the patch agrees fully
# (weight 1). A textured patch changes more under a zoom or a turn than a flat one: on the
# propagation benchmark's four pans, where true positions are known, 99 % of the distances at
# the true position stay under 2 on flat patches (deviation < 3) and under 32 on the most
# textured (deviation > 25), while a walker over the road in vtest.avi measures 26 to 150.
_LOSE = 10.0
_LOSE_SHARE = 1.0
_REACQUIRE = 0.7
_AGREE = 0.4
# how far (working pixels) around where a lost position should be it is searched for: this, plus
# _SEARCH_SHARE of its speed (a moving surface's prediction errs more), at most _SEARCH_MOST.
# Wider finds the same flat surface beside an occluder, and the hint walks along with it.
_SEARCH = 2
_SEARCH_SHARE = 0.5
_SEARCH_MOST = 8
# a lost position's stand-in is looked for within this many working pixels, every _STAND_IN_STEP,
# the nearest good match wins (its patch distance counts _STAND_IN_NEAR per pixel away), and it
# weighs this share of what a seen position would
_STAND_IN_REACH = 24
_STAND_IN_STEP = 3
_STAND_IN_NEAR = 0.15
_STAND_IN_WEIGHT = 0.5
# the directions around a lost position a stand-in is looked for in (right, down, left, up)
_SECTORS = 4
# the rings of flow samples a lost position moves with: radii in working pixels, 16 samples each
_RING_RADII = (9.0, 18.0)
_RING_SAMPLES = 16
# a motion is "as the position moved" within this many px plus this share of its speed
_AGREE_MOTION = 1.0
_AGREE_MOTION_SHARE = 0.25
# ring samples that must move as a position did to say what it marked is still there
_SUPPORT = 6
# A position on a flat patch (its template's mean absolute deviation under _FLAT levels) counts as
# background once it has been this steady with the camera (after 5 frames): there the flow is
# not measured but filled in from around, and beside a walker it takes the walker's motion (the
# road hint in vtest.avi crept 3 px in 5 frames that way). On a textured patch the flow is
# measured, and only a jump from the position's own motion means something passes over it: an
# object that starts moving is followed.
_STEADY = 0.8
_FLAT = 4.0
# the grid of flow samples the picture's motion as a whole is measured on (columns, rows), and
# how many must be trustworthy to fit an affine motion to them
_GRID = (16, 9)
_GRID_FIT = 12
# gradient magnitude (uint8 levels per px, central differences) of a strong edge
_EDGE = 24.0
# a position on a strong edge keeps this share of its weight; from _RADIUS px away, all of it
_EDGE_FLOOR = 0.75
# a position whose flow misses by half the forward-backward limit keeps all its weight; one at
# the limit, this share
_CONSISTENCY_FLOOR = 0.75
# weights rise from 0 to 1 (or fall) over at least this many frames
FADE_FRAMES = 4
# matching_noise looks at about this many patches on a regular grid, at least _NOISE_STEP pixels
# apart (the median of 400 is within about 2 % of that of every patch; it costs 1 ms a step)
_NOISE_PATCHES = 400
_NOISE_STEP = 6
# A distance is taken less this many times matching_noise (its median): noise alone spreads patch
# distances about it, and at grain of 5 % on bikes.mp4 and pans over photos 90 % of them stayed
# under 1.15 and 1.24 times it
_NOISE_MARGIN = 1.2


def patches(picture: np.ndarray, px: np.ndarray, radius: int = _RADIUS) -> np.ndarray:
    """(N, 2r+1, 2r+1) float32 patches of ``picture`` around (N, 2) pixel positions (rounded to
    the nearest pixel; the border repeats outside the picture)."""
    side = 2 * radius + 1
    if len(px) == 0:
        return np.zeros((0, side, side), np.float32)
    h, w = picture.shape
    centers = np.rint(px).astype(np.intp)
    offsets = np.arange(-radius, radius + 1)
    rows = np.clip(centers[:, 1, None] + offsets, 0, h - 1)  # (N, side)
    cols = np.clip(centers[:, 0, None] + offsets, 0, w - 1)
    out: np.ndarray = picture[rows[:, :, None], cols[:, None, :]].astype(np.float32)
    return out


def patch_distance(patch: np.ndarray, template: np.ndarray) -> np.ndarray:
    """How unlike its template a patch looks, in uint8 levels: the mean absolute difference of
    their structure (each less its mean) plus ``_BRIGHTNESS_SHARE`` of the difference of their
    means. ``patch``: (..., N, s, s) against ``template`` (N, s, s) -> (..., N)."""
    mean_p = patch.mean((-2, -1), keepdims=True)
    mean_t = template.mean((-2, -1), keepdims=True)
    structure = np.abs((patch - mean_p) - (template - mean_t)).mean((-2, -1))
    distance: np.ndarray = structure + _BRIGHTNESS_SHARE * np.abs(mean_p - mean_t)[..., 0, 0]
    return distance


def matching_noise(picture: np.ndarray, previous: np.ndarray, back: np.ndarray) -> float:
    """How unlike a patch looks on consecutive frames from noise alone (grain, new on every
    frame), in :func:`patch_distance`'s levels: the median distance between patches on a grid
    of uint8 ``picture`` and those of ``previous`` where the (h, w, 2) flow ``back`` (from
    ``picture`` to ``previous``) says they came from. Under 2 on clean footage; grain of 5 %
    makes it 7-15."""
    h, w = picture.shape
    step = max(_NOISE_STEP, round(np.sqrt(h * w / _NOISE_PATCHES)))
    ys, xs = np.mgrid[_RADIUS : h - _RADIUS : step, _RADIUS : w - _RADIUS : step]
    px = np.stack([xs.ravel(), ys.ravel()], -1).astype(np.float64)
    if not len(px):
        return 0.0
    there = px + back[ys.ravel(), xs.ravel()].astype(np.float64)
    inside = (there >= _RADIUS).all(1) & (there[:, 0] < w - _RADIUS) & (there[:, 1] < h - _RADIUS)
    if not inside.any():
        return 0.0
    distance = patch_distance(patches(picture, px[inside]), patches(previous, there[inside]))
    return float(np.median(distance))


def _less_noise(distance: np.ndarray, noise: float) -> np.ndarray:
    """Patch distances (or textures) less ``noise`` (what noise alone makes of them): noise and
    a true difference add as independent spreads do, in squares."""
    if noise <= 0:
        return distance
    less: np.ndarray = np.sqrt(np.maximum(distance * distance - noise * noise, 0.0))
    return less


def _sample(field: np.ndarray, xy: np.ndarray) -> np.ndarray:
    """Bilinear samples of an (h, w, C) array (any float dtype: stored flow is float16) at (N, 2)
    pixel positions (the border repeats outside): (N, C) float64. Reads only the pixels around
    the positions."""
    h, w = field.shape[:2]
    x = np.clip(xy[:, 0], 0, w - 1)
    y = np.clip(xy[:, 1], 0, h - 1)
    x0, y0 = np.floor(x).astype(np.intp), np.floor(y).astype(np.intp)
    x1, y1 = np.minimum(x0 + 1, w - 1), np.minimum(y0 + 1, h - 1)
    fx, fy = (x - x0)[:, None], (y - y0)[:, None]
    top = field[y0, x0].astype(np.float64) * (1 - fx) + field[y0, x1].astype(np.float64) * fx
    bottom = field[y1, x0].astype(np.float64) * (1 - fx) + field[y1, x1].astype(np.float64) * fx
    sampled: np.ndarray = top * (1 - fy) + bottom * fy
    return sampled


def _alike(motion: np.ndarray, velocity: np.ndarray) -> np.ndarray:
    """Whether motions (..., 2) move as ``velocity`` (..., 2) does, within ``_AGREE_MOTION``
    px plus ``_AGREE_MOTION_SHARE`` of its speed."""
    limit = _AGREE_MOTION + _AGREE_MOTION_SHARE * np.linalg.norm(velocity, axis=-1)
    alike: np.ndarray = np.linalg.norm(motion - velocity, axis=-1) <= limit
    return alike


def _camera(pair: Pair, forward: bool, limits: Limits) -> Callable[[np.ndarray], np.ndarray]:
    """The picture's motion as a whole (the camera's: a pan, a zoom, a turn), as a function of
    (N, 2) positions -> (N, 2) motions: an affine map fitted (RANSAC) to the trustworthy flow on
    a coarse grid; the median motion where too little of it can be trusted to fit one."""
    h, w = pair.shape
    ys, xs = np.meshgrid(np.linspace(0, h - 1, _GRID[1]), np.linspace(0, w - 1, _GRID[0]))
    grid = np.stack([xs.ravel(), ys.ravel()], -1)
    motion = _sample(pair.forward if forward else pair.backward, grid)
    trusted = limits.holds(pair.error_at(forward, grid), motion)
    if trusted.sum() >= _GRID_FIT:
        source = grid[trusted].astype(np.float32)
        fit, _ = cv2.estimateAffine2D(
            source,
            source + motion[trusted].astype(np.float32),
            method=cv2.RANSAC,
            ransacReprojThreshold=1.0,
            refineIters=0,
        )
        if fit is not None:
            affine = fit.astype(np.float64) - np.eye(2, 3)  # the motion, not the position
            return lambda px: px @ affine[:, :2].T + affine[:, 2]
    median = np.median(motion[trusted], axis=0) if trusted.any() else np.zeros(2)
    return lambda px: np.broadcast_to(median, px.shape).copy()


def _ring() -> np.ndarray:
    angles = np.arange(_RING_SAMPLES) * (2 * np.pi / _RING_SAMPLES)
    unit = np.stack([np.cos(angles), np.sin(angles)], -1)
    return np.concatenate([unit * r for r in _RING_RADII])  # (K, 2)


_RING = _ring()


@dataclass(frozen=True)
class Limits:
    """The forward-backward check a tracked position passes: an error of at most ``consistency``
    px plus ``share`` of the motion (see ``vscolorize.core.motion``)."""

    consistency: float
    share: float

    def holds(self, error: np.ndarray, motion: np.ndarray) -> np.ndarray:
        limit = self.consistency + self.share * np.linalg.norm(motion, axis=-1)
        holds: np.ndarray = error <= limit
        return holds


class Anchors:
    """Positions followed from their keyframe, frame by frame (see the module's doc).

    Args:
        picture: the keyframe's uint8 picture at the motion working size.
        px: (N, 2) positions on it, in pixels (centers at integers).
        limits: the forward-backward check.

    After each :meth:`step`, ``px`` holds every position (where it is seen, or where a lost one
    should be), ``seen`` which are seen and ``weight`` their weights on that frame (0 where lost
    with no stand-in). Each position is shown at up to ``1 + _SECTORS`` places, ``shown`` (N,
    1 + S, 2): itself (where seen), then its stand-ins best first; ``shares`` (N, 1 + S) is the
    share of its weight each place gets (0 where none is shown). A position found again hands
    over from its stand-ins over ``FADE_FRAMES`` frames, as its own weight rises.
    """

    def __init__(
        self, picture: np.ndarray, px: np.ndarray, limits: Limits, may_stand_in: np.ndarray | None = None
    ) -> None:
        self.limits = limits
        self.height, self.width = picture.shape
        self.px = np.asarray(px, np.float64).reshape(-1, 2).copy()
        self.templates = patches(picture, self.px)
        self.texture = np.abs(self.templates - self.templates.mean((1, 2), keepdims=True)).mean((1, 2))
        self.picture = picture  # the frame the positions are on
        self.noise = 0.0  # see matching_noise: the larger of the last two steps'
        self._measured = 0.0  # matching_noise of the last step
        self.steps = 0
        self._set_texture(self.texture)
        count = len(self.px)
        self.seen = np.ones(count, bool)
        self.may_stand_in = np.ones(count, bool) if may_stand_in is None else may_stand_in
        self.shown = self.px[:, None].repeat(1 + _SECTORS, 1)
        self.shares = np.zeros((count, 1 + _SECTORS))
        self.shares[:, 0] = 1.0
        self.since = np.full(count, FADE_FRAMES)  # steps since each was last shown on stand-ins
        self.velocity = np.zeros((count, 2))
        self.moved = np.zeros(count, bool)  # whether each has been followed a step (has a velocity)
        # how steadily each has moved with the picture as a whole (1: always), from halfway
        self.steady = np.full(count, 0.5)
        self.weight = np.ones(count)

    def __len__(self) -> int:
        return len(self.px)

    def _set_texture(self, texture: np.ndarray) -> None:
        self.lose = _LOSE + _LOSE_SHARE * texture  # how unlike its template a patch may look
        self.flat = texture < _FLAT  # too little texture for flow to be measured there

    def _distance(self, picture: np.ndarray, px: np.ndarray, templates: np.ndarray) -> np.ndarray:
        """How unlike ``templates`` the patches of ``picture`` at ``px`` look, less the noise."""
        return _less_noise(patch_distance(patches(picture, px), templates), _NOISE_MARGIN * self.noise)

    def _inside(self, px: np.ndarray) -> np.ndarray:
        inside: np.ndarray = (px[:, 0] >= -0.5) & (px[:, 0] <= self.width - 0.5)
        inside &= (px[:, 1] >= -0.5) & (px[:, 1] <= self.height - 0.5)
        return inside

    def _surroundings(
        self, pair: Pair, forward: bool, px: np.ndarray, velocity: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """For each of (N, 2) positions, the motion of what around it still moves as it did
        (``velocity``): the median of the trustworthy flow samples on rings around it that move
        within ``_AGREE_MOTION`` of its velocity, or the velocity itself where fewer than
        ``_SUPPORT`` do. Returns (N, 2) motions and (N,) how many samples agreed."""
        k = len(_RING)
        ring = (px[:, None, :] + _RING[None]).reshape(-1, 2)
        motion = _sample(pair.forward if forward else pair.backward, ring).reshape(-1, k, 2)
        trusted = self.limits.holds(pair.error_at(forward, ring).reshape(-1, k), motion)
        trusted &= self._inside(ring).reshape(-1, k)
        alike = trusted & _alike(motion, velocity[:, None])
        support = alike.sum(1)
        out = velocity.copy()
        for i in np.flatnonzero(support >= _SUPPORT):
            out[i] = np.median(motion[i, alike[i]], axis=0)
        return out, support

    def _match(
        self, picture: np.ndarray, error_at: ErrorAt, candidates: np.ndarray, template: np.ndarray
    ) -> np.ndarray:
        """How unlike ``template`` (1, s, s) the patch at each of (K, 2) candidate places looks;
        infinite outside the picture and where the flow cannot be trusted (the place is not
        visible: an occluder's edge)."""
        d = self._distance(picture, candidates, template)
        d[~self._inside(candidates) | (error_at(candidates) > self.limits.consistency)] = np.inf
        return d

    def _search(
        self,
        picture: np.ndarray,
        error_at: ErrorAt,
        px: np.ndarray,
        templates: np.ndarray,
        reach: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray]:
        """The best match of each template within ``reach`` px of ``px`` where the flow holds:
        (N, 2) positions and (N,) their patch distances (infinite where none)."""
        best = np.rint(px)
        distances = np.full(len(px), np.inf)
        for i in range(len(px)):
            span = np.arange(-reach[i], reach[i] + 1)
            candidates = best[i] + np.stack(np.meshgrid(span, span), -1).reshape(-1, 2)
            d = self._match(picture, error_at, candidates, templates[i : i + 1])
            j = int(np.argmin(d))
            if np.isfinite(d[j]):
                best[i], distances[i] = candidates[j], d[j]
        return best, distances

    def _stand_ins(
        self, picture: np.ndarray, error_at: ErrorAt, px: np.ndarray, templates: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Around each of (N, 2) lost positions, the best match of its template in each of
        ``_SECTORS`` directions (within ``_STAND_IN_REACH`` px, the nearer the better) where
        the flow holds, the best of all first: (N, S, 2) positions and (N, S) their patch
        distances (infinite where none)."""
        span = np.arange(-_STAND_IN_REACH, _STAND_IN_REACH + 1, _STAND_IN_STEP)
        offsets = np.stack(np.meshgrid(span, span), -1).reshape(-1, 2).astype(np.float64)
        offsets = offsets[np.any(offsets != 0, axis=1)]
        angle = np.arctan2(offsets[:, 1], offsets[:, 0])
        sector = np.floor((angle / (2 * np.pi) + 1 / (2 * _SECTORS)) * _SECTORS) % _SECTORS
        penalty = _STAND_IN_NEAR * np.linalg.norm(offsets, axis=1)
        found = np.repeat(px[:, None], _SECTORS, 1)
        distances = np.full((len(px), _SECTORS), np.inf)
        for i in range(len(px)):
            candidates = np.rint(px[i]) + offsets
            d = self._match(picture, error_at, candidates, templates[i : i + 1])
            score = d + penalty
            for k in range(_SECTORS):
                mine = np.flatnonzero(sector == k)
                j = mine[int(np.argmin(score[mine]))]
                if np.isfinite(d[j]):
                    found[i, k], distances[i, k] = candidates[j], d[j]
            order = np.argsort(distances[i])
            found[i], distances[i] = found[i, order], distances[i, order]
        return found, distances

    def step(self, pair: Pair, forward: bool, picture: np.ndarray) -> None:
        """Follow the positions to the next frame: pair m, m + 1 from frame m (``forward``) or
        from m + 1 back to m; ``picture``: the next frame's uint8 picture."""
        if not len(self):
            return
        there, back = (pair.forward, pair.backward) if forward else (pair.backward, pair.forward)
        # a repeated frame (3:2 pulldown, silent film run at 24 fps) repeats its grain too, and
        # two looks at it differ by nothing: the step before says what grain the templates face
        measured = matching_noise(picture, self.picture, back)
        self.noise, self._measured = max(measured, self._measured), measured
        if not self.steps:  # the templates' own texture, less their grain (one look's share)
            self._set_texture(_less_noise(self.texture, self.noise / np.sqrt(2)))
        self.picture, self.steps = picture, self.steps + 1
        px = self.px
        motion = _sample(there, px)  # stored float16, sampled only where needed
        # A seen position whose flow breaks away from how it moved has something passing over
        # it: surfaces change speed gradually. How it moved: with the picture as a whole (the
        # camera's motion) if it is flat background (see _FLAT), else its own recent motion; a
        # jump of the whole picture (the camera jerks) is followed. Such a position moves on, as
        # lost ones do, with what around it still moves as it should.
        camera = _camera(pair, forward, self.limits)(px)
        background = (self.steady >= _STEADY) & self.flat
        expected = np.where(background[:, None], camera, self.velocity)
        with_camera = _alike(motion, camera)
        broke = ~self.seen | ~_alike(motion, expected)
        broke &= ~self.seen | background | ~with_camera
        broke &= ~self.seen | self.moved  # on its first step a position's motion is not known
        if broke.any():
            motion[broke], _ = self._surroundings(pair, forward, px[broke], expected[broke])
            # the flow beside an occluder is smeared by it
            motion[broke & background] = camera[broke & background]
        moved = px + motion
        fb = np.linalg.norm(motion + _sample(back, moved), axis=1)
        flow_holds = self.limits.holds(fb, motion)
        inside = self._inside(moved)
        distance = self._distance(picture, moved, self.templates)
        seen = self.seen & flow_holds & inside & (distance <= self.lose)
        tracked = seen & ~broke  # moved with the flow under them
        # what is not seen now is looked for where it should be
        look = ~seen & inside
        error_at = partial(pair.error_at, not forward)
        if look.any():
            # the background's place the camera's motion predicts to a pixel; a moving
            # surface's prediction errs more the faster it moves
            speed = np.linalg.norm(self.velocity[look], axis=1)
            reach = np.minimum(_SEARCH + np.ceil(_SEARCH_SHARE * speed), _SEARCH_MOST)
            reach[background[look]] = 1
            found, found_distance = self._search(
                picture, error_at, moved[look], self.templates[look], reach.astype(int)
            )
            again = found_distance <= _REACQUIRE * self.lose[look]
            index = np.flatnonzero(look)[again]
            moved[index], distance[index], seen[index] = found[again], found_distance[again], True
            fb[index] = error_at(found[again])
        # what is still lost is shown, lighter, on the nearest places around it that look like
        # its template (the same road on each side of the walkers standing on it), while it is
        # looked for where it should be; one just found again keeps them a few frames, fading
        shown = np.repeat(moved[:, None], 1 + _SECTORS, 1)
        shares = np.zeros((len(self), 1 + _SECTORS))
        shares[seen, 0] = 1.0
        after = np.minimum(self.since + 1, FADE_FRAMES)
        handing = seen & (after < FADE_FRAMES)
        around = (~seen & inside & self.may_stand_in) | handing
        best_distance = np.full(len(self), np.inf)
        if around.any():
            index = np.flatnonzero(around)
            found, found_distance = self._stand_ins(picture, error_at, moved[index], self.templates[index])
            shown[index, 1:] = found
            ok = found_distance <= _REACQUIRE * self.lose[index, None]
            share = np.where(seen[index], 1 - after[index] / FADE_FRAMES, 1.0) * _STAND_IN_WEIGHT
            shares[index, 1:] = np.where(ok, share[:, None], 0.0)
            best_distance[index] = found_distance[:, 0]
        stand_in = ~seen & (shares[:, 1] > 0)  # shown on stand-ins only: weighed at the best
        distance[stand_in] = best_distance[stand_in]
        fb[stand_in] = error_at(shown[stand_in, 1])
        first = tracked & ~self.moved
        self.velocity[tracked] = 0.5 * self.velocity[tracked] + 0.5 * motion[tracked]
        self.velocity[first] = motion[first]
        self.moved |= tracked
        self.velocity[~seen] = expected[~seen]
        self.steady[tracked] = 0.8 * self.steady[tracked] + 0.2 * with_camera[tracked]
        self.px, self.seen, self.shown, self.shares = moved, seen, shown, shares
        self.since = np.where(stand_in, 0, after)
        weight = self._weights(picture, np.where(stand_in[:, None], shown[:, 1], moved), distance, fb, motion)
        self.weight = np.where(seen | stand_in, weight, 0.0)

    def _weights(
        self, picture: np.ndarray, px: np.ndarray, distance: np.ndarray, fb: np.ndarray, motion: np.ndarray
    ) -> np.ndarray:
        """Per position, its weight if seen: template agreement x flow consistency x distance
        from strong edges, each in [0, 1]."""
        agreement = np.clip((self.lose - distance) / ((1 - _AGREE) * self.lose), 0, 1)
        limit = self.limits.consistency + self.limits.share * np.linalg.norm(motion, axis=1)
        miss = np.clip(2 * fb / limit - 1, 0, 1)  # 0 up to half the limit, 1 at it
        consistency = 1 - (1 - _CONSISTENCY_FLOOR) * miss
        here = patches(picture, px)
        gy, gx = np.gradient(here, axis=(1, 2))
        strong = np.hypot(gx, gy) >= _EDGE
        offsets = np.arange(-_RADIUS, _RADIUS + 1, dtype=np.float64)
        reach = np.hypot(offsets[:, None], offsets[None, :])  # distance from the center
        nearest = np.where(strong, reach, np.inf).min((1, 2))
        edge = _EDGE_FLOOR + (1 - _EDGE_FLOOR) * np.clip(nearest / _RADIUS, 0, 1)
        weight: np.ndarray = agreement * consistency * edge
        return weight
