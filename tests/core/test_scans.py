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


def test_a_carried_hint_loses_chroma_as_cielab_says_a_darkening_surface_does() -> None:
    from skimage.color import rgb2xyz, xyz2rgb

    from vscolorize.core.light import chroma_scales

    color = np.array([0.8, 0.4, 0.3])
    lab = srgb_to_lab(color.astype(np.float32))
    frames = 24  # an exponential fade to 5 % of the light, as a printer's fader makes one
    light = 0.05 ** (np.arange(1, frames + 1) / frames)
    around = 0.3 * light[:, None]  # the surroundings darken by as much
    scales = chroma_scales(np.array([lab[0]]), np.array([0.3]), around, np.ones((frames, 1), bool))[:, 0]
    faded = srgb_to_lab(np.clip(xyz2rgb(rgb2xyz(color[None, None]) * light[:, None, None]), 0, 1))[:, 0]
    truth = np.linalg.norm(faded[:, 1:], axis=-1) / np.linalg.norm(lab[1:])
    assert np.abs(scales - truth).max() < 0.02, (scales, truth)
    assert scales[-1] < 0.4


def test_exposure_flicker_and_an_occluder_do_not_change_a_carried_hint_s_chroma() -> None:
    from vscolorize.core.light import chroma_scales

    rng = np.random.default_rng(0)
    frames, hints = 60, 50
    flicker = np.clip(1 + rng.normal(0, 0.1, (frames + 1, 1)), 0.7, 1.3)  # the keyframe's own too
    around = 0.2 * flicker[1:] / flicker[0] * np.ones((1, hints))
    seen = np.ones((frames, hints), bool)
    around[20:30] *= 0.1  # something dark passes over the hints, which are lost meanwhile
    seen[20:30] = False
    scales = chroma_scales(np.full(hints, 50.0), np.full(hints, 0.2), around, seen)
    assert np.abs(scales - 1).max() < 0.12
    assert np.abs(scales - 1).mean() < 0.05


def test_hints_carried_into_a_fade_darken_with_it() -> None:
    from vscolorize.core.color import chroma_per_light, l_to_luminance, luminance_to_l
    from vscolorize.core.hints import Color, Hints, Keyframe, Point
    from vscolorize.core.propagation import propagate

    def frame(n: int) -> np.ndarray:  # a pan that fades out from frame 8 to 3 % of the light at 23
        light = 0.03 ** (max(n - 7, 0) / 16)
        return luminance_to_l(l_to_luminance(pan(n)) * light).astype(np.float32)

    hint = Point(x=0.5, y=0.5, color=Color(ab=(40.0, 20.0)))
    out, _ = propagate(Hints(keyframes=(Keyframe(frame=0, points=(hint,)),)), 24, frame)
    chroma = {k.frame: np.hypot(*k.points[0].color.ab) / np.hypot(40, 20) for k in out.keyframes if k.points}
    before_fade = np.array([chroma[n] for n in range(1, 8)])  # the fade is not anticipated
    assert np.abs(before_fade - 1).max() < 0.1 and abs(before_fade.mean() - 1) < 0.05, chroma
    # at 3 % of the light, what CIELAB keeps of the chroma of a surface as light as this one
    before = float(pan(0)[HEIGHT // 2 - 3 : HEIGHT // 2 + 3, WIDTH // 2 - 3 : WIDTH // 2 + 3].mean())
    after = luminance_to_l(0.03 * l_to_luminance(before))
    expected = float(chroma_per_light(after) / chroma_per_light(before))
    assert expected < 0.15 and abs(chroma[23] / expected - 1) < 0.25, (chroma[23], expected)
    assert all(chroma[n + 1] <= chroma[n] + 0.01 for n in range(8, 23)), chroma


def test_matching_noise_measures_grain_not_motion() -> None:
    from vscolorize.core.tracking import matching_noise, patch_distance, patches

    settings = MotionSettings(short_side=180)
    still = np.zeros((HEIGHT, WIDTH, 2), np.float32)
    clean = Pair.compute(picture(pan(0)), picture(pan(3)), settings)
    assert matching_noise(picture(pan(3)), picture(pan(0)), clean.backward.astype(np.float32)) < 2
    # grain alone, on a still picture: the noise is the patch distance two looks at a place have
    a, b = picture(grainy(pan(0), 1)), picture(grainy(pan(0), 2))
    noise = matching_noise(b, a, still)
    ys, xs = np.mgrid[10 : HEIGHT - 10 : 5, 10 : WIDTH - 10 : 5]
    px = np.stack([xs.ravel(), ys.ravel()], -1).astype(float)
    distances = patch_distance(patches(b, px), patches(a, px))
    assert noise > 5 and abs(noise / np.median(distances) - 1) < 0.1


def test_grain_neither_loses_a_tracked_hint_nor_lowers_its_weight_much() -> None:
    from vscolorize.core.hints import Color, Hints, Keyframe, Point
    from vscolorize.core.propagation import propagate

    hints = Hints(
        keyframes=(
            Keyframe(
                frame=0,
                points=tuple(
                    Point(x=x, y=y, color=Color(ab=(30.0, 10.0)))
                    for x, y in ((0.3, 0.3), (0.5, 0.5), (0.7, 0.6), (0.4, 0.7))
                ),
            ),
        )
    )

    def weights(frame) -> np.ndarray:  # type: ignore[no-untyped-def]
        out, _ = propagate(hints, 16, frame)
        return np.array([[p.extra["confidence"] for p in k.points] for k in out.keyframes[1:]])

    clean, noisy = weights(pan), weights(lambda n: grainy(pan(n), n, 6.0))
    assert noisy.shape == clean.shape  # none lost
    assert noisy.mean() > 0.85 * clean.mean(), (noisy.mean(), clean.mean())
    # 3:2 pulldown repeats every fourth frame, grain and all: two looks at a repeated frame differ
    # by nothing, and the step after it still faces the grain
    shown = [k for n in range(16) for k in ([n, n] if n % 4 == 3 else [n])]
    pulled = weights(lambda n: grainy(pan(shown[n]), shown[n], 6.0))
    assert pulled.shape == clean.shape
    assert pulled.mean() > 0.85 * clean.mean(), (pulled.mean(), clean.mean())


def test_grain_in_the_lightness_does_not_pass_into_the_colors() -> None:
    from vscolorize.core.upsample import upsample_ab

    lightness = pan(0)
    small = np.ascontiguousarray(lightness[::4, ::4])
    ab = np.stack([small * 0.6 - 20, 30 - small * 0.3], -1).astype(np.float32)  # colors that follow L
    clean = upsample_ab(ab, lightness, None)
    changes = [np.abs(upsample_ab(ab, grainy(lightness, seed), None) - clean).mean() for seed in (1, 2)]
    # the coefficients applied to the grain itself moved a*b* by 1.3 units on average
    assert max(changes) < 1.0, changes
    # a picture's own edges still carry their colors: the same colors at full size as the L they follow
    edge = np.abs(clean[..., 0] - (lightness * 0.6 - 20))
    assert np.median(edge) < 1.0
