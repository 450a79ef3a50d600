"""A worn print's scan as training shows it to the network (core/training/scan.py): each
degradation does what it says at the strength it says, and the batches carry them in L alone."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import skimage.data
import torch

from vscolorize.core.color import srgb_to_lab
from vscolorize.core.training import TrainOptions
from vscolorize.core.training.data import make_batch
from vscolorize.core.training.scan import (
    SCAN_KINDS,
    blur,
    compress,
    draw_scratch,
    dust,
    exposure,
    grain,
    scanned,
)

GRAY = (skimage.data.camera()[::2, ::2] / 255.0).astype(np.float32)  # 256x256


def test_exposure_is_a_gain_and_an_offset() -> None:
    np.testing.assert_allclose(exposure(GRAY, 1.1, -0.02), GRAY * 1.1 - 0.02, atol=1e-6)


@pytest.mark.parametrize(("level", "share"), [(0.5, 1.0), (0.0, 1 / 3), (1.0, 1 / 3)])
def test_grain_is_strongest_in_the_midtones(level: float, share: float) -> None:
    flat = np.full((200, 200), level, np.float32)
    change = grain(flat, np.random.default_rng(0), scale=1.0, rms=0.05) - flat
    assert abs(float(change.std()) - 0.05 * share) < 0.005 * share
    assert abs(float(change.mean())) < 0.01 * share
    # clumps, not white noise: neighbors move together
    assert np.corrcoef(change[:, :-1].ravel(), change[:, 1:].ravel())[0, 1] > 0.3


def test_dust_marks_a_few_pixels_dark_or_bright() -> None:
    flat = np.full((240, 320), 0.5, np.float32)
    changes = [dust(flat, np.random.default_rng(seed), 1.0) - flat for seed in range(8)]
    for change in changes:
        marked = np.abs(change) > 0.2
        assert 0 < marked.mean() < 0.02
    both = np.concatenate([c.ravel() for c in changes])
    assert both.min() < -0.3 and both.max() > 0.3  # dirt on the print and dust on the negative


def test_a_scratch_brightens_one_column_and_never_past_white() -> None:
    along = np.linspace(0.2, 1, GRAY.shape[0]).astype(np.float32)
    out = draw_scratch(GRAY, x=100.0, width=2.0, along=along, strength=0.4)
    lift = (out - GRAY).mean(0)
    assert int(np.argmax(lift)) == 100 and lift[100] > 0.1
    assert np.abs(out[:, :95] - GRAY[:, :95]).max() < 1e-6
    assert out.max() <= 1 and (out >= GRAY - 1e-7).all()


def test_blur_takes_the_fine_detail_and_keeps_the_mean() -> None:
    def detail(x: np.ndarray) -> float:
        return float(cv2.Laplacian(x, cv2.CV_32F).var())

    soft = blur(GRAY, 1.0)
    assert detail(soft) < 0.3 * detail(GRAY)
    assert abs(float(soft.mean() - GRAY.mean())) < 1e-3


def test_compression_loses_more_at_a_lower_quality() -> None:
    errors = [float(np.abs(compress(GRAY, quality) - GRAY).mean()) for quality in (15, 75)]
    assert errors[0] > 1.5 * errors[1] > 0
    assert compress(GRAY, 15).dtype == np.float32


def test_scanned_draws_each_kind_at_its_chance_and_repeats_with_its_seed() -> None:
    assert np.array_equal(scanned(GRAY, np.random.default_rng(0), 0.5, chance=0.0), GRAY)
    every = scanned(GRAY, np.random.default_rng(1), 0.5, chance=1.0)
    assert every.dtype == np.float32 and every.shape == GRAY.shape
    assert every.min() >= 0 and every.max() <= 1 and np.abs(every - GRAY).mean() > 0.01
    assert np.array_equal(every, scanned(GRAY, np.random.default_rng(1), 0.5, chance=1.0))
    # one kind alone: blur leaves a flat picture flat, grain does not
    flat = np.full((64, 64), 0.5, np.float32)
    assert np.abs(scanned(flat, np.random.default_rng(2), 0.5, ("blur",), 1.0) - flat).max() < 1e-6
    assert np.abs(scanned(flat, np.random.default_rng(2), 0.5, ("grain",), 1.0) - flat).max() > 0.01
    with pytest.raises(ValueError, match="unknown scan degradations"):
        scanned(GRAY, np.random.default_rng(0), 0.5, ("rain",))
    assert set(SCAN_KINDS) == {"exposure", "grain", "dust", "scratch", "blur", "compression"}


def test_batches_show_the_scan_in_l_alone() -> None:
    pictures = [skimage.data.astronaut(), skimage.data.coffee()]
    plain = TrainOptions(batch=8, crop=64)
    worn = TrainOptions(batch=8, crop=64, scan=1.0)
    l_plain, hint_plain, mask_plain, lab_plain = make_batch(pictures, plain, np.random.default_rng(3), "cpu")
    l_worn, hint_worn, mask_worn, lab_worn = make_batch(pictures, worn, np.random.default_rng(3), "cpu")
    # the same crops, hints and truth: only what the network sees of L differs, in every sample
    assert torch.equal(lab_plain, lab_worn) and torch.equal(hint_plain, hint_worn)
    assert torch.equal(mask_plain, mask_worn)
    # each kind acts in half the samples, so nearly every sample shows something
    changed = (l_worn - l_plain).abs().mean((1, 2, 3))
    assert (changed > 0.2).float().mean() >= 0.75
    assert l_worn.min() >= 0 and l_worn.max() <= 100


def test_the_gray_levels_and_back_keep_l() -> None:
    from vscolorize.core.color import gray_to_l, lab_to_srgb
    from vscolorize.core.training.data import _scanned_lightness

    l = np.linspace(0, 100, 1001, dtype=np.float32)[None]
    gray = lab_to_srgb(np.stack([l, 0 * l, 0 * l], -1))[..., 0]
    assert np.abs(gray_to_l(gray) - l).max() < 0.01  # what the scan leaves alone stays
    lightness = torch.from_numpy(srgb_to_lab(skimage.data.coffee()[::4, ::4] / 255.0)[..., 0]).float()
    batch = lightness[None, None].repeat(2, 1, 1, 1)
    kept = _scanned_lightness(batch, 0.0, 64, np.random.default_rng(0))
    assert torch.equal(kept, batch)
    worn = _scanned_lightness(batch, 1.0, 64, np.random.default_rng(0))
    assert not torch.equal(worn, batch)
