"""Segment fill, the flattening and ensembles: pure functions on a*b*, then through colorize_image
and a model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from vscolorize.core import colorize_image
from vscolorize.core.cleanup import flatten_colors, parse_postprocess
from vscolorize.core.color import fit_frame_ab, lab_planes_to_srgb, srgb_to_lab
from vscolorize.core.engines.learned import Colorizer, get_colorizer, variant_paths
from vscolorize.core.engines.members import SECOND_SCALE, Member, plan_members
from vscolorize.core.hints import Color, Hints, Keyframe, Point, paint_hints
from vscolorize.core.metrics import perceivable_artifacts
from vscolorize.core.models import ColorUNet, ModelConfig, save_model
from vscolorize.core.pipeline import FramePipeline, Settings
from vscolorize.core.postprocess import ensemble, segment, segment_fill
from vscolorize.core.upsample import GUIDE_EPS

TINY = ModelConfig(name="tiny", widths=(4, 8, 8), depth=1, working_short_side=32)


def two_regions(height: int = 64, width: int = 96) -> np.ndarray:
    """L* 30 on the left half, 70 on the right."""
    lightness = np.full((height, width), 30.0, np.float32)
    lightness[:, width // 2 :] = 70.0
    return lightness


@pytest.mark.parametrize("method", ["felzenszwalb", "slic", "seeds"])
def test_segments_are_dense_labels_that_respect_a_strong_edge(method: str) -> None:
    lightness = two_regions()
    labels = segment(lightness, method=method)  # type: ignore[arg-type]
    assert labels.shape == lightness.shape and labels.dtype == np.int32
    assert set(np.unique(labels)) == set(range(labels.max() + 1))
    # no segment straddles the edge between the halves
    left, right = set(np.unique(labels[:, :48])), set(np.unique(labels[:, 48:]))
    assert not left & right


def test_fill_takes_the_larger_cluster_not_the_mean() -> None:
    lightness = two_regions()
    ab = np.zeros((64, 96, 2), np.float32)
    ab[..., 0] = 40.0  # the left half is mostly a* = 40 ...
    ab[5:15, 5:15] = (-30.0, 20.0)  # ... with a stray patch
    ab[:, 48:] = (0.0, -35.0)
    out = segment_fill(lightness, ab, seam_radius=0)
    np.testing.assert_allclose(out[:, :48], np.broadcast_to([40.0, 0.0], (64, 48, 2)), atol=1e-3)
    np.testing.assert_allclose(out[:, 48:], np.broadcast_to([0.0, -35.0], (64, 48, 2)), atol=1e-3)


def test_strays_are_recolored_and_shading_kept_unless_whole_segments_are_asked_for() -> None:
    lightness = np.full((40, 60), 50.0, np.float32)  # one segment
    ab = np.zeros((40, 60, 2), np.float32)
    ab[..., 0] = np.linspace(20, 30, 60)[None, :]  # a gentle ramp of a*
    ab[10:16, 10:16] = (-40.0, 40.0)  # a stray patch
    labels = np.zeros((40, 60), np.int32)
    strays = segment_fill(lightness, ab, labels=labels, seam_radius=0)
    flat = segment_fill(lightness, ab, labels=labels, seam_radius=0, fill="segment")
    keep = np.ones((40, 60), bool)
    keep[10:16, 10:16] = False
    np.testing.assert_array_equal(strays[keep], ab[keep])  # the ramp stays
    assert np.abs(strays[10:16, 10:16] - [25.0, 0.0]).max() < 1.0  # the patch takes the ramp's color
    assert np.ptp(flat[..., 0]) < 1e-3 and abs(flat[0, 0, 0] - 25.0) < 1.0
    with pytest.raises(ValueError, match="fill must be one of"):
        segment_fill(lightness, ab, labels=labels, fill="all")  # type: ignore[arg-type]


def test_a_hinted_segment_takes_the_hint_and_hinted_pixels_keep_it() -> None:
    lightness = two_regions()  # two 64x48 segments
    ab = np.zeros((64, 96, 2), np.float32)
    hint_ab = np.zeros_like(ab)
    mask = np.zeros((64, 96), bool)
    mask[30:33, 10:13] = True
    hint_ab[mask] = (25.0, 50.0)
    out = segment_fill(lightness, ab, hint_ab=hint_ab, hint_mask=mask)
    np.testing.assert_array_equal(out[mask], hint_ab[mask])
    # around the hint its color, fading with the distance over about the segment's size (a
    # Gaussian of sigma half its side, sqrt(64 * 48) / 2 = 28 px), in the hint's direction
    chroma = np.hypot(*np.moveaxis(out, -1, 0)) / np.hypot(25, 50)
    hue = np.arctan2(out[..., 1], out[..., 0])
    assert chroma[28:36, 6:16].min() > 0.97
    assert 0.25 < chroma[0, 40] < 0.45  # 41 px away: exp(-0.5 (41 / 28)^2) = 0.34
    assert np.abs(hue[:, :34] - np.arctan2(50, 25)).max() < 0.01
    assert np.abs(out[:, 62:]).max() < 0.01  # the other half had no hint: still gray
    assert np.all(np.diff(chroma[31, 12:34]) <= 1e-6)  # fading, never rising


def test_hints_that_disagree_leave_their_segment_as_predicted() -> None:
    lightness = np.full((40, 40), 50.0, np.float32)  # one flat segment
    ab = np.random.default_rng(0).normal(0, 3, (40, 40, 2)).astype(np.float32)
    hint_ab = np.zeros_like(ab)
    mask = np.zeros((40, 40), bool)
    mask[5, 5] = mask[30, 30] = True
    hint_ab[5, 5], hint_ab[30, 30] = (60.0, 0.0), (-60.0, 0.0)
    out = segment_fill(lightness, ab, hint_ab=hint_ab, hint_mask=mask, seam_radius=0)
    keep = ~mask
    np.testing.assert_allclose(out[keep], ab[keep], atol=1e-4)


def test_a_small_change_in_the_prediction_makes_a_small_change_in_the_fill() -> None:
    # one segment, half of one color and half of another: which half is larger flips with one
    # column. A hard fill recolored the whole smaller half and flipped with it (a change of 40
    # over half the picture: the flicker of filled video); with no clear majority the fill must
    # leave both about as they are.
    lightness = np.full((20, 40), 50.0, np.float32)
    labels = np.zeros((20, 40), np.int32)
    before = np.zeros((20, 40, 2), np.float32)
    before[:, :21] = (20.0, 0.0)
    before[:, 21:] = (-20.0, 0.0)
    after = before.copy()
    after[:, 20] = (-20.0, 0.0)  # the other half is now the larger
    fills = [segment_fill(lightness, ab, labels=labels, seam_radius=0) for ab in (before, after)]
    for fill, ab in zip(fills, (before, after), strict=True):
        assert np.abs(fill - ab).max() < 0.1 * 40
    # a hint that crosses the seam between two segments by one pixel moves colors by degrees
    two = np.zeros((20, 40), np.int32)
    two[:, 20:] = 1
    gray = np.zeros((20, 40, 2), np.float32)
    hint_ab = np.zeros_like(gray)
    hint_ab[...] = (30.0, 30.0)
    moved = []
    for column in (18, 19):  # the hint's two pixels: both in segment 0, then one in each
        mask = np.zeros((20, 40), bool)
        mask[10, column : column + 2] = True
        moved.append(
            segment_fill(lightness, gray, labels=two, hint_ab=hint_ab, hint_mask=mask, seam_radius=0)
        )
    # just below the hint: both pixels in one segment give it all of the color (less the fading
    # over one pixel); one pixel in each segment gives each side half of it
    np.testing.assert_allclose(moved[0][11, 19], (30.0, 30.0), rtol=0.01)
    np.testing.assert_allclose(moved[1][11, 19], (15.0, 15.0), rtol=0.01)
    np.testing.assert_allclose(moved[1][11, 20], (15.0, 15.0), rtol=0.01)


def test_seams_become_ramps_where_the_lightness_is_smooth() -> None:
    lightness = np.full((32, 64), 50.0, np.float32)
    ab = np.zeros((32, 64, 2), np.float32)
    ab[:, 32:, 0] = 20.0
    labels = np.zeros((32, 64), np.int32)
    labels[:, 32:] = 1
    hard = segment_fill(lightness, ab, labels=labels, seam_radius=0)
    soft = segment_fill(lightness, ab, labels=labels, seam_radius=6)
    assert np.abs(np.diff(hard[..., 0], axis=1)).max() == pytest.approx(20.0)
    assert np.abs(np.diff(soft[..., 0], axis=1)).max() < 5.0


def test_segment_fill_lowers_artifacts_of_a_noisy_prediction() -> None:
    rng = np.random.default_rng(1)
    lightness = two_regions()
    truth = np.zeros((64, 96, 2), np.float32)
    truth[:, :48] = (30.0, 10.0)
    truth[:, 48:] = (-10.0, 40.0)
    noisy = truth + rng.normal(0, 4, truth.shape).astype(np.float32)
    filled = segment_fill(lightness, noisy)
    assert perceivable_artifacts(filled, truth) < 0.3 * perceivable_artifacts(noisy, truth)


def test_the_cleanup_fills_colors_the_frame_can_show_and_asks_for_smoother_upsampling() -> None:
    """A dark half asked for more chroma than it can show: the fill works on the colors the
    conversion would show (else it averages chroma that is then cut pixel by pixel), and the
    upsampling after it lets less of L*'s detail in than without a cleanup."""
    rng = np.random.default_rng(4)
    lightness = two_regions() - np.float32(22)  # L* 8 and 48
    lightness += rng.normal(0, 1.5, lightness.shape).astype(np.float32)
    ab = np.broadcast_to(np.float32([50, -60]), (64, 96, 2))
    mask = np.zeros((64, 96), bool)
    cleanup, plain = parse_postprocess(["segment_fill:seeds"]), parse_postprocess([])
    out = cleanup.apply(lightness, ab, np.zeros_like(ab), mask)
    fitted = fit_frame_ab(lightness, ab)
    dark = np.s_[4:-4, 4:40]
    assert np.hypot(*fitted[dark].T).mean() < 0.6 * np.hypot(*ab[dark].T).mean()  # it is cut
    chroma = np.hypot(*out[dark].T)
    assert np.abs(chroma - np.hypot(*fitted[dark].T)).mean() < 1.5  # the fill keeps the cut
    assert plain.apply(lightness, ab, np.zeros_like(ab), mask) is ab  # no cleanup: untouched
    assert plain.guide_eps == GUIDE_EPS < cleanup.guide_eps


def test_flattening_evens_out_small_steps_and_keeps_edges_between_colors() -> None:
    """The shipped model's artifacts: steps of a few units where the truth is one color. The
    flattening removes them and leaves an edge between two different colors as sharp."""
    rng = np.random.default_rng(6)
    lightness = np.full((48, 64), 55.0, np.float32)
    truth = np.zeros((48, 64, 2), np.float32)
    truth[:, :32] = (20.0, 10.0)
    truth[:, 32:] = (-25.0, 30.0)
    predicted = truth.copy()
    predicted[:, 8:24:4] += (4.0, -3.0)  # one-pixel lines of a slightly other color
    predicted += rng.normal(0, 0.8, predicted.shape).astype(np.float32)
    flat = flatten_colors(lightness, predicted)
    assert perceivable_artifacts(flat, truth) < 0.25 * perceivable_artifacts(predicted, truth)
    # the edge: still a full step across two pixels, each side its own color
    np.testing.assert_allclose(flat[:, 29], truth[:, 29], atol=1.0)
    np.testing.assert_allclose(flat[:, 34], truth[:, 34], atol=1.0)
    # colors the frame cannot show are fitted first, as the conversion would fit them
    dark = np.full((16, 16), 6.0, np.float32)
    strong = np.broadcast_to(np.float32([60, -70]), (16, 16, 2))
    np.testing.assert_allclose(flatten_colors(dark, strong), fit_frame_ab(dark, strong), atol=1e-3)
    assert flatten_colors(lightness[:0], predicted[:0]).shape == (0, 64, 2)


def test_segment_fill_flattens_by_default_and_fills_superpixels_when_asked() -> None:
    colors, seeds = parse_postprocess(["segment_fill"]), parse_postprocess(["segment_fill:seeds"])
    assert colors.segmentation == "colors" and parse_postprocess(["segment_fill:colors"]) == colors
    lightness = two_regions()
    ab = np.random.default_rng(7).normal(0, 3, (64, 96, 2)).astype(np.float32)  # speckle
    mask = np.zeros((64, 96), bool)
    # the colors alone: nothing at the working size, the plain upsampling, flattened at full size
    assert colors.apply(lightness, ab, np.zeros_like(ab), mask) is ab
    assert colors.guide_eps == GUIDE_EPS < seeds.guide_eps
    assert not np.array_equal(seeds.apply(lightness, ab, np.zeros_like(ab), mask), ab)
    hinted = Keyframe(0, points=(Point(0.2, 0.6, Color((30.0, -20.0)), radius=0.05),))
    exact = paint_hints(hinted, 64, 96)[1] == 1
    assert exact.sum() >= 9
    for cleanup in (colors, seeds):
        out = cleanup.finish(lightness, ab.copy(), hinted)
        assert (out[exact] == [30.0, -20.0]).all()  # an artist's color stays exact
        far = paint_hints(hinted, 64, 96)[1] == 0
        far[:8], far[-8:], far[:, :8], far[:, -8:] = False, False, False, False
        assert out[far].std() < 0.5 * ab[far].std()  # the speckle evened out
    assert parse_postprocess([]).finish(lightness, ab, None) is ab


def test_the_default_segment_fill_keeps_hints_exact_through_colorize_image() -> None:
    rng = np.random.default_rng(8)  # mid-grays, where the hint's color fits in the gamut
    gray = np.repeat(rng.uniform(0.4, 0.5, (40, 56, 1)).astype(np.float32), 3, -1)
    keyframe = Keyframe(0, points=(Point(0.25, 0.3, Color((25.0, 15.0)), radius=0.08),))
    exact = paint_hints(keyframe, 40, 56)[1] == 1
    out = colorize_image(gray, Hints((keyframe,)), method="optimization", postprocess=("segment_fill",))
    assert exact.sum() >= 9
    assert np.abs(srgb_to_lab(out)[exact][:, 1:] - [25.0, 15.0]).max() < 0.5


def test_fit_frame_ab_is_what_the_conversion_shows() -> None:
    rng = np.random.default_rng(5)
    lightness = rng.uniform(0, 100, (40, 50)).astype(np.float32)
    ab = rng.uniform(-100, 100, (40, 50, 2)).astype(np.float32)
    fitted = fit_frame_ab(lightness, ab)
    shown = srgb_to_lab(lab_planes_to_srgb(lightness, ab).astype(np.float64))[..., 1:]
    assert np.percentile(np.abs(fitted - shown), 99) < 1.0
    assert (np.hypot(*fitted.T) <= np.hypot(*ab.T) + 1e-4).all()
    assert fit_frame_ab(lightness[:0], ab[:0]).shape == (0, 50, 2)


def test_ensemble_modes() -> None:
    members = np.array([[[10.0, 0.0]], [[20.0, 0.0]], [[90.0, 0.0]]], np.float32)  # (3, 1, 2)
    np.testing.assert_allclose(ensemble(members, "mean"), [[40.0, 0.0]])
    np.testing.assert_allclose(ensemble(members, "median"), [[20.0, 0.0]])
    opposite = np.array([[[30.0, 0.0]], [[-30.0, 0.0]]], np.float32)
    np.testing.assert_allclose(ensemble(opposite, "saturated"), [[0.0, 0.0]], atol=1e-5)
    # same hue, different strengths: the saturated mean keeps the members' mean chroma
    agree = np.array([[[10.0, 10.0]], [[30.0, 30.0]]], np.float32)
    np.testing.assert_allclose(ensemble(agree, "saturated"), [[20.0, 20.0]], atol=1e-4)
    # torch, channels first: the same numbers
    t = torch.from_numpy(members).permute(0, 2, 1)[..., None]  # (3, 2, 1, 1)
    np.testing.assert_allclose(ensemble(t, "median")[:, 0, 0].numpy(), [20.0, 0.0])
    with pytest.raises(ValueError, match="ensemble mode must be one of"):
        ensemble(members, "max")  # type: ignore[arg-type]


def test_members_come_in_order_and_have_a_limit() -> None:
    # the first variant's augmentations, then the next variant's (steadier on video)
    assert plan_members(3, 2) == (Member(0), Member(0, flip=True), Member(0, scale=SECOND_SCALE))
    assert plan_members(4, 1)[-1] == Member(0, flip=True, scale=SECOND_SCALE)
    assert plan_members(5, 2)[-1] == Member(1)
    with pytest.raises(ValueError, match="ensemble must be a whole number from 1 to 4"):
        plan_members(5, 1)


def combined(models: list[ColorUNet], count: int, pictures: list[np.ndarray]) -> np.ndarray:
    """The first ``count`` members' predictions of ``pictures``, averaged: (B, h, w, 2)."""
    colorizer = Colorizer(models, "cpu")
    views = colorizer.views(pictures, [None] * len(pictures), plan_members(count, len(models)))
    return ensemble(views, "mean").permute(0, 2, 3, 1).numpy()


def test_an_ensemble_combines_its_members_predictions() -> None:
    torch.manual_seed(0)
    models = [ColorUNet(TINY), ColorUNet(TINY)]
    lightness = np.random.default_rng(2).uniform(10, 90, (40, 56)).astype(np.float32)
    alone = [Colorizer(m, "cpu").predict_small([lightness], [None])[0] for m in models]
    # five members: the first variant's four, then the second variant as is
    four = combined(models[:1], 4, [lightness])[0]
    five = combined(models, 5, [lightness])[0]
    np.testing.assert_allclose(five, (4 * four + alone[1]) / 5, atol=1e-5)
    # a mirrored member sees the picture mirrored and is mirrored back
    mirrored = Colorizer(models[0], "cpu").predict_small([lightness[:, ::-1].copy()], [None])[0]
    flip = combined(models[:1], 2, [lightness])[0]
    np.testing.assert_allclose(flip, (alone[0] + mirrored[:, ::-1]) / 2, atol=1e-5)
    # batched pictures give each picture its own result
    two = combined(models, 4, [lightness, lightness[::-1].copy()])
    one = combined(models, 4, [lightness])
    np.testing.assert_allclose(two[0], one[0], atol=1e-5)


def test_colorize_image_applies_segment_fill_and_ensembles(tmp_path: Path) -> None:
    torch.manual_seed(3)
    weights = tmp_path / "tiny.safetensors"
    save_model(ColorUNet(TINY), weights)
    # mid-grays: the untrained network's colors fit in the gamut there (at L* 30 they do not,
    # and the conversion, not the fill, has the last word on them)
    lightness = 30 + 0.4 * two_regions(96, 128)
    gray = np.repeat((lightness / 100)[..., None], 3, -1).clip(0, 1)
    plain = colorize_image(gray, method="model", model=weights)
    lab_plain = srgb_to_lab(plain)
    # superpixel fills: the untrained network's stray colors go, far less variation within each
    # flat half
    for step in ("segment_fill:felzenszwalb", "segment_fill:seeds"):
        filled = colorize_image(gray, method="model", model=weights, postprocess=(step,))
        lab_filled = srgb_to_lab(filled)
        np.testing.assert_allclose(lab_filled[..., 0], lab_plain[..., 0], atol=0.5)
        for half in (np.s_[8:-8, 8:50], np.s_[8:-8, 78:-8]):
            spread = lab_plain[half][..., 1:].std(axis=(0, 1)).max()
            assert spread > 0.1  # the untrained network's colors do vary
            assert lab_filled[half][..., 1:].std(axis=(0, 1)).max() < 0.6 * spread, step
    # the flattening alone: the plain frame's colors, flattened at full size
    lightness = srgb_to_lab(gray)[..., 0].astype(np.float32)
    plain_ab = FramePipeline(Settings(method="model", model=str(weights))).ab(lightness, None)
    flattened = lab_planes_to_srgb(lightness, flatten_colors(lightness, plain_ab))
    filled = colorize_image(gray, method="model", model=weights, postprocess=("segment_fill",))
    np.testing.assert_allclose(filled, flattened, atol=1e-5)
    assert not np.allclose(filled, plain, atol=1e-4)
    four = colorize_image(gray, method="model", model=weights, ensemble=4, ensemble_mode="median")
    assert four.shape == plain.shape and not np.allclose(four, plain, atol=1e-3)


@pytest.mark.skipif(len(variant_paths("fast")) < 2, reason="needs two shipped variants")
def test_shipped_variants_are_genuinely_different_members() -> None:
    colorizer = get_colorizer("fast", "cpu")
    assert [m.variant for m in plan_members(8, len(colorizer.models))] == [0, 0, 0, 0, 1, 1, 1, 1]
    first, second = colorizer.models[:2]
    assert first.config == second.config
    weights = [dict(m.named_parameters()) for m in (first, second)]
    name = next(iter(weights[0]))
    assert not torch.equal(weights[0][name], weights[1][name])  # other seeds, other weights


@pytest.mark.parametrize("method", ["seeds", "slic"])
def test_superpixels_of_a_full_hd_picture(method: str) -> None:
    # called on a full-size frame, not a working-size one: as many superpixels as fit, no crash
    lightness = np.tile(np.linspace(20, 80, 1920, dtype=np.float32), (1080, 1))
    lightness[:, 960:] = 90.0
    labels = segment(lightness, method=method)  # type: ignore[arg-type]
    assert labels.shape == (1080, 1920) and labels.max() > 10
    assert set(np.unique(labels[:, 970:1900])).isdisjoint(np.unique(labels[:, :940]))  # the edge holds
