from __future__ import annotations

from pathlib import Path

import numpy as np

from vscolorize.core.model import ModelConfig, load_model
from vscolorize.core.training import TrainOptions, simulate_hints, train, validate

TINY = ModelConfig(name="tiny", widths=(8, 16), depth=1, working_short_side=32)


def test_simulated_hints_follow_the_recipe() -> None:
    rng = np.random.default_rng(0)
    ab = np.stack([np.full((64, 64), 20.0), np.tile(np.linspace(-50, 50, 64), (64, 1))])
    counts = []
    for _ in range(800):
        hint, mask = simulate_hints(ab, rng)
        counts.append(mask.sum() > 0)
        assert ((hint[0] == 20) | (mask[0] == 0)).all()  # the constant channel is revealed exactly
    none_share = 1 - np.mean(counts)
    assert 0.08 < none_share < 0.18  # geometric with p = 1/8: about 12.5 % get no hint
    hint, mask = simulate_hints(ab, rng, count=0)
    assert not mask.any() and not hint.any()


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
    before = validate(
        __import__("vscolorize.core.model", fromlist=["ColorUNet"]).ColorUNet(TINY),
        pictures[:2],
        "cpu",
        (0,),
    )
    scores = train(
        pictures, out, config=TINY, options=options, validation=pictures[:2], progress=False
    )
    assert scores[0] > before[0] + 3
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
    assert resumed[0] > before[0] + 3
