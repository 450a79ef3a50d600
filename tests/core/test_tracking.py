"""Positions anchored to their keyframe: lost under an occluder, found again after it, never
dragged away; weights that fade."""

from __future__ import annotations

import itertools

import cv2
import numpy as np
import pytest
import skimage.data
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from vscolorize.core.carry import fade
from vscolorize.core.color import srgb_to_lab
from vscolorize.core.motion import MotionSettings, Pair, flow_image
from vscolorize.core.tracking import FADE_FRAMES, Anchors, Limits, patch_distance, patches

LIMITS = Limits(3.0, 0.1)
TEXTURE = srgb_to_lab(skimage.data.astronaut() / 255.0)[..., 0].astype(np.float32)
HEIGHT, WIDTH = 180, 320


def follow(frames: list[np.ndarray], px: np.ndarray) -> list[Anchors]:
    """Anchors from frame 0 through the clip; a copy of their state after each frame."""
    pictures = [flow_image(f, 360) for f in frames]
    anchors = Anchors(pictures[0], px, LIMITS)
    states = []
    for a, b in itertools.pairwise(pictures):
        anchors.step(Pair.compute(a, b, MotionSettings()), True, b)
        state = Anchors.__new__(Anchors)
        state.__dict__.update(
            {k: np.copy(v) for k, v in anchors.__dict__.items() if isinstance(v, np.ndarray)}
        )
        states.append(state)
    return states


def flat_road(seed: int = 0) -> np.ndarray:
    """A flat, faintly grainy gray surface (the road in vtest.avi), with a few marks."""
    rng = np.random.default_rng(seed)
    road = 55 + rng.normal(0, 0.6, (HEIGHT, WIDTH)).astype(np.float32)
    road[40:44, 20:300] = 75  # a painted line far from the hint
    road[130:170, 250:262] = 35
    return road


def walker(background: np.ndarray, x: int) -> np.ndarray:
    """A dark figure 24 px wide, 70 tall, its left edge at ``x``."""
    frame = background.copy()
    a, b = max(x, 0), min(x + 24, WIDTH)
    if a < b:
        frame[70:140, a:b] = 15 + 10 * np.sin(np.arange(70) / 5)[:, None]
    return frame


def test_a_walker_crossing_a_hint_on_a_flat_surface_does_not_drag_it() -> None:
    """The vtest.avi occlusion case: the flow on a flat road beside a walker takes the
    walker's motion; the hint must stay where it was painted and be seen again once the walker
    has passed."""
    road = flat_road()
    frames = [walker(road, 260 - 8 * n) for n in range(40)]  # passes x=150 at frames 12-17
    home = np.array([[150.0, 100.0]])
    states = follow(frames, home)
    seen = [bool(s.seen[0]) for s in states]
    assert not all(seen[10:18])  # lost while covered
    assert all(seen[25:])  # seen again after
    drift = [float(np.linalg.norm(s.px[0] - home[0])) for s in states]
    assert max(drift) <= 3.0, drift  # never dragged along


def test_a_block_crossing_textured_background_loses_and_finds_hints_again() -> None:
    background = np.ascontiguousarray(TEXTURE[150 : 150 + HEIGHT, 40 : 40 + WIDTH])
    rng = np.random.default_rng(1)
    block = np.kron(rng.random((15, 12)) * 100, np.ones((4, 4))).astype(np.float32)  # 60 x 48

    def frame(n: int) -> np.ndarray:
        picture = background.copy()
        x = -48 + 12 * n
        a, b = max(x, 0), min(x + 48, WIDTH)
        if a < b:
            picture[60:120, a:b] = block[:, a - x : b - x]
        return picture

    home = np.array([[100.0, 90.0], [200.0, 80.0], [200.0, 150.0]])  # the last is never covered
    states = follow([frame(n) for n in range(36)], home)
    seen = np.array([s.seen for s in states])
    assert not seen[10:12, 0].any() and not seen[18:20, 1].any()  # covered
    assert seen[-6:].all()  # every one seen again once the block has gone
    assert seen[:, 2].all()
    assert np.abs(states[-1].px - home).max() <= 1.0
    assert (states[-1].weight > 0.5).all()


def test_a_hint_found_again_hands_over_from_its_stand_ins() -> None:
    """While lost, a point is shown on stand-ins (the road on each side of the walker); found
    again, it keeps them for a few frames at a falling share, so the picture's hints never change
    all at once (one point at its place is not as strong as several around it)."""
    road = flat_road()
    frames = [walker(road, 260 - 8 * n) for n in range(40)]
    states = follow(frames, np.array([[150.0, 100.0]]))
    seen = np.array([bool(s.seen[0]) for s in states])
    stood_in = np.array([bool(s.shares[0, 1] > 0) and not s.seen[0] for s in states])
    assert stood_in.any()
    found = next(t for t in range(1, len(states)) if seen[t] and stood_in[t - 1])
    shares = np.array([s.shares[0, 1:].max() for s in states[found - 1 : found + FADE_FRAMES]])
    assert shares[0] == 0.5  # standing in: half a seen point's weight
    assert (np.diff(shares) < 0).all() and shares[1] > 0  # falling after it is found again
    assert shares[-1] == 0  # all its own again
    assert all(s.shares[0, 0] == 1 for s in states[found : found + FADE_FRAMES])


def test_positions_follow_a_pan_and_stay_seen() -> None:
    frames = [
        np.ascontiguousarray(TEXTURE[150 : 150 + HEIGHT, 40 + 2 * n : 40 + 2 * n + WIDTH]) for n in range(20)
    ]
    home = np.array([[160.0, 90.0], [80.0, 40.0], [250.0, 140.0]])
    states = follow(frames, home)
    for n, state in enumerate(states, 1):
        assert state.seen.all()
        assert np.abs(state.px - (home - [2 * n, 0])).max() < 1.0


def test_a_hint_on_a_moving_object_goes_with_it() -> None:
    """An object that starts moving and speeds up smoothly is followed, not left behind as an
    occluder would be."""
    road = flat_road(2)
    rng = np.random.default_rng(3)
    car = np.kron(rng.random((10, 15)) * 60 + 20, np.ones((5, 5))).astype(np.float32)  # 50 x 75
    layer = np.zeros((HEIGHT, WIDTH), np.float32)
    layer[60:110, 60:135] = car
    inside = np.zeros((HEIGHT, WIDTH), np.float32)
    inside[60:110, 60:135] = 1

    def shift(n: int) -> float:
        return 0.1 * n * n if n < 20 else 40 + 4 * (n - 20)

    def frame(n: int) -> np.ndarray:
        m = np.array([[1, 0, shift(n)], [0, 1, 0]], np.float32)
        moved = cv2.warpAffine(layer, m, (WIDTH, HEIGHT), flags=cv2.INTER_LINEAR)
        alpha = cv2.warpAffine(inside, m, (WIDTH, HEIGHT), flags=cv2.INTER_LINEAR)
        return road * (1 - alpha) + moved

    states = follow([frame(n) for n in range(30)], np.array([[97.0, 85.0]]))
    for n, state in enumerate(states, 1):
        assert state.seen[0], n
        assert abs(state.px[0, 0] - (97 + shift(n))) <= 1.0, (n, state.px[0])


def test_patch_distance() -> None:
    rng = np.random.default_rng(0)
    template = (rng.random((1, 11, 11)) * 100).astype(np.float32)
    assert patch_distance(template, template)[0] == 0
    # a change of brightness counts half as much as a change of structure
    assert patch_distance(template + 10, template)[0] == pytest.approx(5, abs=1e-4)
    assert patch_distance(template[:, ::-1], template)[0] > 10
    picture = np.arange(100, dtype=np.uint8).reshape(10, 10)
    (patch,) = patches(picture, np.array([[0.2, 0.4]]), radius=1)
    assert patch.tolist() == [[0, 0, 1], [0, 0, 1], [10, 10, 11]]  # the border repeats


@settings(max_examples=60, deadline=None)
@given(
    arrays(
        np.float64,
        st.tuples(st.integers(1, 30), st.integers(1, 3)),
        elements=st.sampled_from([0.0, 0.2, 0.5, 0.9, 1.0]),
    ),
    st.integers(1, 5),
)
def test_fade_never_exceeds_what_was_measured_and_eases(weights: np.ndarray, frames: int) -> None:
    eased = fade(weights, frames=frames)
    assert (eased <= weights + 1e-12).all()
    assert (eased[weights == 0] == 0).all()
    assert (np.abs(np.diff(eased, axis=0)) <= 1 / frames + 1e-9).all()
    assert (eased[0] >= np.minimum(weights[0], 1 / frames) - 1e-9).all()  # no ramp after the key


def test_fade_ramps_around_a_loss() -> None:
    weights = np.array([1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 1], float)[:, None]
    eased = fade(weights, frames=4)[:, 0]
    assert eased.tolist() == pytest.approx([1, 1, 0.75, 0.5, 0.25, 0, 0, 0.25, 0.5, 0.75, 1, 1, 1])
