"""The settings of a training run."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["LOSSES", "TrainOptions"]

LOSSES = ("psnr", "mse")


@dataclass(frozen=True)
class TrainOptions:
    steps: int = 20_000
    batch: int = 16
    crop: int = 128
    # the smallest crop as a share of the picture's short side (crops are 'smallest' to 100 %):
    # nearer 1, the things in a crop are nearer the size they have at the working size
    smallest_crop: float = 0.35
    lr: float = 1e-3
    weight_decay: float = 1e-4
    warmup: int = 200
    checkpoint_every: int = 250
    validate_every: int = 1_000
    seed: int = 0
    loss: str = "psnr"  # one of LOSSES (see vscolorize.core.training.picture_loss)
    no_hints: float = 0.1  # share of samples with no hint at all: the prior without hints
    most_hints: int = 100  # hint counts are log-uniform from 1 to below this
    # share of samples with hints whose colors are rotated in hue and scaled in chroma: where
    # the hints alone say the colors, the network learns to follow them rather than its priors
    recolor: float = 0.5
    # share of samples whose L shows a worn print's scan (exposure, grain, dust, a scratch, blur,
    # compression: see vscolorize.core.training.scan), so that scanned film is no surprise
    scan: float = 0.0
