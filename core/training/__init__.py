"""Training and fine-tuning of the guided colorizer on any folder of color pictures (and videos).

Beside the inference path, never imported by it. Each step: random crops at several scales and
flips, converted to L*a*b*; hints like an artist's (:func:`simulate_hints`: small discs and short
strokes of one flat color inside one region); for some samples the hue rotated (those with hints)
or the gray conversion changed; the loss on the sRGB picture; AdamW with a cosine schedule and a
moving average of the weights. Checkpoints are safetensors too (no pickle) and resumable.

- :mod:`.options`: :class:`TrainOptions`.
- :mod:`.data`: pictures and video frames, crops, color and lightness augmentations, batches.
- :mod:`.simulate`: simulated hints (:func:`simulate_hints`, :func:`point_hints`).
- :mod:`.loop`: :func:`train`, checkpoints, the schedule, :func:`picture_loss`, :func:`warm_start`.
- :mod:`.evaluate`: :func:`validate` and :func:`calibrate` through the inference path.
"""

from __future__ import annotations

from .data import VIDEO_SUFFIXES, load_pictures
from .evaluate import CALIBRATION_SCALES, VALIDATION_HINTS, calibrate, validate
from .loop import picture_loss, train, warm_start
from .options import LOSSES, TrainOptions
from .simulate import hint_count, point_hints, simulate_hints

__all__ = [
    "CALIBRATION_SCALES",
    "LOSSES",
    "VALIDATION_HINTS",
    "VIDEO_SUFFIXES",
    "TrainOptions",
    "calibrate",
    "hint_count",
    "load_pictures",
    "picture_loss",
    "point_hints",
    "simulate_hints",
    "train",
    "validate",
    "warm_start",
]
