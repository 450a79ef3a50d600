"""Scanned old film: cuts, motion pictures and colors that hold on flicker, fades, repeated frames
and grain (benchmarks/oldfilm.py measures the whole; these check each part's behavior)."""

from __future__ import annotations

import numpy as np
import skimage.data

from vscolorize.core.color import srgb_to_lab
from vscolorize.core.motion import MotionSettings, Pair, flow_image, scene_cut

WIDTH, HEIGHT = 320, 180
TEXTURE = srgb_to_lab(skimage.data.astronaut() / 255.0)[..., 0].astype(np.float32)  # 512x512


def pan(n: int) -> np.ndarray:
    x = 40 + 2 * n
    return np.ascontiguousarray(TEXTURE[150 : 150 + HEIGHT, x : x + WIDTH])


def grainy(lightness: np.ndarray, seed: int, strength: float = 5.0) -> np.ndarray:
    import cv2

    rng = np.random.default_rng(seed)
    noise = cv2.GaussianBlur(rng.standard_normal(lightness.shape).astype(np.float32), (0, 0), 0.6)
    return lightness + strength * noise / noise.std()


def picture(lightness: np.ndarray) -> np.ndarray:
    return flow_image(lightness, 360)


def test_a_brighter_or_darker_frame_is_the_same_picture_to_motion() -> None:
    still = picture(pan(0))
    for gain, offset in ((1.12, 3.0), (0.85, -2.0), (0.5, 0.0)):
        changed = picture(np.clip(pan(0) * gain + offset, 0, 100))
        assert np.abs(changed.astype(int) - still).mean() < 1.5, (gain, offset)


def test_flicker_fades_repeats_and_grain_are_no_cuts() -> None:
    a = picture(pan(0))
    assert not scene_cut(a, picture(pan(0)))  # a repeated frame
    assert not scene_cut(a, picture(pan(3)))  # motion
    assert not scene_cut(a, picture(np.clip(pan(1) * 1.15 + 4, 0, 100)))  # exposure flicker
    assert not scene_cut(a, picture(pan(1) * 0.2))  # deep in a fade
    assert not scene_cut(picture(grainy(pan(0), 1)), picture(grainy(pan(1), 2)))


def test_a_cut_is_found_even_where_the_histograms_agree() -> None:
    a = pan(0)
    upside_down = np.ascontiguousarray(a[::-1])  # the same histogram, another picture
    assert scene_cut(picture(a), picture(upside_down))
    other = srgb_to_lab(skimage.data.coffee() / 255.0)[..., 0].astype(np.float32)[:HEIGHT, :WIDTH]
    assert scene_cut(picture(a), picture(np.ascontiguousarray(other)))
    # black leader, then a picture: a shot starts; two black frames: none does
    black = np.zeros_like(a)
    assert scene_cut(picture(black), picture(a)) and not scene_cut(picture(black), picture(black))


def test_links_of_grainy_pairs_allow_for_the_flow_s_usual_miss() -> None:
    from vscolorize.core.temporal import Link

    settings = MotionSettings(short_side=180)
    clean = Pair.compute(picture(pan(0)), picture(pan(1)), settings)
    noisy = Pair.compute(picture(grainy(pan(0), 0, 8.0)), picture(grainy(pan(1), 1, 8.0)), settings)
    assert clean.usual_error(True) <= 0.5
    assert noisy.usual_error(True) > clean.usual_error(True)
    # the link holds at least where the fixed 1 px limit would, and more where grain is
    strict = noisy.holds(True, 1.0)
    link = Link.from_pair(noisy, noisy.shape)
    held = link.forward_ok > 0.5
    assert held[strict].all() and held.mean() > strict.mean()
