from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from vscolorize.core import colorize_image
from vscolorize.core.metrics import psnr
from vscolorize.core.models import ColorUNet, ModelConfig, levin_hints, load_model, network_bases
from vscolorize.core.training import (
    CALIBRATION_SCALES,
    TrainOptions,
    calibrate,
    hint_count,
    picture_loss,
    simulate_hints,
    train,
    validate,
    warm_start,
)

TINY = ModelConfig(name="tiny", widths=(8, 16), depth=1, working_short_side=32)
TINY_SMOOTHER = ModelConfig(name="tiny", widths=(8, 16), depth=1, working_short_side=32, base="smoother")
TINY_LEVIN = ModelConfig(name="tiny", widths=(8, 16), depth=1, working_short_side=32, base="levin")


def test_simulated_hints_are_flat_colors_inside_one_region() -> None:
    rng = np.random.default_rng(0)
    # four flat regions: a*b* differ left/right, L differs top/bottom
    ab = np.zeros((2, 64, 64))
    ab[0, :, :32], ab[0, :, 32:] = 40.0, -30.0
    lightness = np.full((64, 64), 30.0)
    lightness[32:] = 70.0
    region = (np.arange(64)[:, None] >= 32) * 2 + (np.arange(64)[None] >= 32)
    hinted, counts = [], []
    for _ in range(400):
        hint, mask = simulate_hints(ab, lightness, rng)
        hinted.append(mask.any())
        counts.append(len(np.unique(hint[0][mask[0] > 0])))
        if counts[-1] == 1:
            # one hint: one color, about the truth under it, within one region (shifted hints
            # excepted: those may sit up to 3 px off)
            color = np.unique(hint[0][mask[0] > 0])[0]
            assert min(abs(color - 40), abs(color + 30)) < 8
            inside = region[mask[0] > 0]
            assert len(np.unique(inside)) == 1 or len(np.unique(region[3:-3, 3:-3])) == 4
    assert 0.05 < 1 - np.mean(hinted) < 0.16  # about 1 sample in 10 without hints
    assert np.median(counts) <= 30  # counts lean toward a few hints
    hint, mask = simulate_hints(ab, lightness, rng, count=0)
    assert not mask.any() and not hint.any()
    hint, mask = simulate_hints(ab, lightness, rng, count=5)
    assert 5 <= mask.sum() < 64 * 64 / 4  # small discs and strokes, not big squares


def test_the_share_of_samples_without_hints_is_an_option() -> None:
    rng = np.random.default_rng(0)
    for share in (0.0, 0.3, 1.0):
        counts = np.array([hint_count(rng, share) for _ in range(2000)])
        assert abs(np.mean(counts == 0) - share) < 0.04
        assert counts.max() <= 100 and (share == 1.0 or counts.max() > 50)


def test_the_most_hints_a_sample_gets_is_an_option() -> None:
    rng = np.random.default_rng(0)
    few = np.array([hint_count(rng, 0.0, most=10) for _ in range(2000)])
    assert few.min() == 1 and few.max() == 9
    # log-uniform: as many samples get 1-2 hints as get 3-9
    assert abs(np.mean(few <= 2) - np.log(3) / np.log(10)) < 0.04
    assert {hint_count(rng, 0.0, most=1) for _ in range(50)} == {1}


def test_the_smallest_crop_is_an_option() -> None:
    from vscolorize.core.training.data import _crop

    # a picture whose columns say where they come from: a crop's columns tell its width
    picture = np.repeat((np.arange(400) // 2).astype(np.uint8)[None, :, None], 300, 0)
    picture = np.repeat(picture, 3, 2)
    rng = np.random.default_rng(0)
    for smallest in (0.35, 0.9):
        spans = []
        for _ in range(200):
            crop = _crop(picture, 32, rng, smallest)[..., 0].astype(int)
            assert crop.shape == (32, 32)
            spans.append(abs(int(crop[0, -1]) - int(crop[0, 0])) * 2 / 300)  # share of 300 px
        assert min(spans) >= smallest - 0.1 and max(spans) <= 1.0
        assert min(spans) < smallest + 0.1


def test_the_share_of_recolored_samples_is_an_option() -> None:
    from vscolorize.core.training.data import _augment_colors

    lab = torch.zeros(200, 3, 4, 4)
    lab[:, 0], lab[:, 1], lab[:, 2] = 50.0, 30.0, -20.0
    counts = [0] * 100 + [5] * 100  # samples without hints keep their colors, always
    for share in (0.0, 0.3, 1.0):
        out = _augment_colors(lab, counts, share, np.random.default_rng(0))
        turned = (out[:, 1:] - lab[:, 1:]).abs().amax((1, 2, 3)) > 1e-3
        assert not turned[:100].any() and abs(float(turned[100:].float().mean()) - share) < 0.1
        assert torch.equal(out[:, 0], lab[:, 0])


def test_the_psnr_loss_is_minus_the_mean_psnr_of_the_pictures() -> None:
    truth = torch.rand(3, 3, 16, 16, generator=torch.Generator().manual_seed(0))
    shown = truth.clone()
    shown[0] += 0.2  # a bad picture
    shown[1, :, :4, :4] += 0.05  # a nearly perfect one
    shown[2] = truth[2]  # perfect: counts as 50 dB (an MSE of 1e-5 added), not infinity
    loss = picture_loss(shown, truth, "psnr")
    mse = [10 ** (-psnr(shown[i], truth[i]) / 10) for i in range(3)]
    assert abs(float(loss) + np.mean([10 * np.log10(1 / (m + 1e-5)) for m in mse])) < 0.01
    assert -float(loss) < np.mean([psnr(shown[i], truth[i]) for i in range(2)] + [50.0])
    assert abs(float(picture_loss(shown, truth, "mse")) - float(((shown - truth) ** 2).mean())) < 1e-7
    # what the measure cares about and pooled MSE does not: a small error on the nearly perfect
    # picture costs more than a ten times larger one on the bad picture
    worse_good, worse_bad = shown.clone(), shown.clone()
    worse_good[1, :, :4, :4] += 0.05
    worse_bad[0, :, :4, :4] += 0.5
    assert picture_loss(worse_good, truth, "psnr") > picture_loss(worse_bad, truth, "psnr")
    assert picture_loss(worse_good, truth, "mse") < picture_loss(worse_bad, truth, "mse")
    with pytest.raises(ValueError, match="unknown loss"):
        picture_loss(shown, truth, "l1")


def test_training_learns_and_resumes(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    # two flat colors split by lightness: a colorizer can learn dark -> red, bright -> blue
    pictures = []
    for _ in range(4):
        p = np.zeros((48, 48, 3), np.uint8)
        p[:, :24] = (120, 20, 20)
        p[:, 24:] = (120, 170, 250)
        pictures.append(np.ascontiguousarray(np.roll(p, rng.integers(48), axis=1)))
    out = tmp_path / "m.safetensors"
    options = TrainOptions(
        steps=120, batch=4, crop=32, lr=3e-3, warmup=5, checkpoint_every=60, validate_every=120
    )
    gray = np.mean(
        [psnr(colorize_image(p / 255, None, method="optimization"), p / 255) for p in pictures[:2]]
    )
    scores = train(pictures, out, config=TINY, options=options, validation=pictures[:2], progress=False)
    # 13.9 dB gray, 16.1 after these 120 steps (either loss) (deterministic; half the samples with hints have
    # their hue rotated, so the prior comes from fewer samples than the steps)
    assert scores[0] > gray + 1.0
    written = load_model(out).config  # calibrated on the validation pictures
    assert dataclasses.replace(written, hinted_correction=1.0) == TINY
    assert written.hinted_correction in CALIBRATION_SCALES
    assert (tmp_path / "m.safetensors.checkpoint").exists()
    longer = TrainOptions(**{**options.__dict__, "steps": 130})
    resumed = train(
        pictures,
        out,
        config=TINY,
        options=longer,
        validation=pictures[:2],
        resume=True,
        progress=False,
    )
    assert resumed[0] > scores[0]


def test_calibration_shrinks_a_correction_that_hurts_pictures_with_hints() -> None:
    # flat pictures of two colors: from a hint on each, Levin's base is right; a trained tint
    # spoils it
    pictures = []
    for shift in (0, 11):
        p = np.zeros((40, 64, 3), np.uint8)
        p[:, :32], p[:, 32:] = (150, 40, 40), (60, 120, 200)
        pictures.append(np.ascontiguousarray(np.roll(p, shift, axis=1)))
    model = ColorUNet(TINY_LEVIN)
    with torch.no_grad():
        model.head.bias.copy_(torch.tensor([0.15, 0.1]))
    before = validate(model, pictures)
    calibrated, scores = calibrate(model, pictures)
    assert calibrated.config.hinted_correction == min(CALIBRATION_SCALES)
    assert model.config.hinted_correction == 1.0  # the model given is left as it was
    assert scores[0] == pytest.approx(before[0])  # without hints: all of the correction
    assert scores[5] > before[5] + 1 and scores[100] > before[100] + 1
    assert scores == validate(calibrated, pictures)


def test_warm_start_takes_over_what_fits_and_starts_at_the_new_base() -> None:
    torch.manual_seed(0)
    source = ColorUNet(TINY_SMOOTHER)
    with torch.no_grad():
        source.head.bias.fill_(0.2)  # a trained correction, which means nothing on another base
    assert warm_start(source, TINY_SMOOTHER) is source
    target = warm_start(source, TINY_LEVIN)
    assert target.config == TINY_LEVIN
    old, new = source.state_dict(), target.state_dict()
    inputs = old["stem.0.weight"].shape[1]
    torch.testing.assert_close(new["stem.0.weight"][:, :inputs], old["stem.0.weight"])
    assert new["stem.0.weight"][:, inputs:].abs().max() == 0  # Levin's answer: a new input
    torch.testing.assert_close(new["up.0.0.weight"], old["up.0.0.weight"])
    l = torch.full((1, 1, 32, 48), 40.0)
    l[..., 24:] = 75.0
    ab, mask = torch.zeros(1, 2, 32, 48), torch.zeros(1, 1, 32, 48)
    ab[0, :, 16, 4], mask[0, 0, 16, 4] = torch.tensor([30.0, 10.0]), 1
    with torch.no_grad():
        torch.testing.assert_close(
            target(l, ab, mask, network_bases(TINY_LEVIN, l, ab, mask)),
            levin_hints(l, ab, mask, TINY_LEVIN.base_scale),
            atol=1e-4,
            rtol=0,
        )


def test_the_inference_path_never_imports_training() -> None:
    code = (
        "import sys, vscolorize.core.models, vscolorize.core.engines, vscolorize.core.pipeline; "
        "print(sorted(m for m in sys.modules if m.startswith('vscolorize.core.training')))"
    )
    run = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert run.stdout.strip() == "[]"
