from __future__ import annotations

from pathlib import Path

import numpy as np

from vscolorize.core import colorize_image
from vscolorize.core.metrics import psnr
from vscolorize.core.model import ModelConfig, load_model
from vscolorize.core.training import TrainOptions, simulate_hints, train

TINY = ModelConfig(name="tiny", widths=(8, 16), depth=1, working_short_side=32)


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
        steps=60, batch=4, crop=32, lr=3e-3, warmup=5, checkpoint_every=30, validate_every=60
    )
    gray = np.mean(
        [psnr(colorize_image(p / 255, None, method="optimization"), p / 255) for p in pictures[:2]]
    )
    scores = train(
        pictures, out, config=TINY, options=options, validation=pictures[:2], progress=False
    )
    assert scores[0] > gray + 0.4  # 13.9 dB gray, 14.5 after these 60 steps (deterministic)
    assert load_model(out).config == TINY
    assert (tmp_path / "m.safetensors.checkpoint").exists()
    longer = TrainOptions(**{**options.__dict__, "steps": 70})
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
