"""The vscolorize engine: color science, hints, colorizers. Imports neither VapourSynth nor Qt."""

from __future__ import annotations

from .engine import colorize_image
from .errors import (
    DeviceError,
    HintError,
    ImageError,
    ModelUnavailableError,
    SettingError,
    VscolorizeError,
)
from .hints import (
    Color,
    Hints,
    Keyframe,
    Point,
    Stroke,
    load_hints,
    paint_hints,
    rasterize,
    save_hints,
)

__all__ = [
    "Color",
    "DeviceError",
    "HintError",
    "Hints",
    "ImageError",
    "Keyframe",
    "ModelUnavailableError",
    "Point",
    "SettingError",
    "Stroke",
    "VscolorizeError",
    "colorize_image",
    "load_hints",
    "paint_hints",
    "rasterize",
    "save_hints",
]
