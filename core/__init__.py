"""The vscolorize engine: color science, hints, colorizers. Imports neither VapourSynth nor Qt."""

from __future__ import annotations

from .errors import (
    BackendUnavailableError,
    DeviceError,
    HintError,
    ImageError,
    ModelUnavailableError,
    SettingError,
    VscolorizeError,
)
from .guidance import suggest_points
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
from .models.export import export_onnx
from .pipeline import FramePipeline, Settings, colorize_image

__all__ = [
    "BackendUnavailableError",
    "Color",
    "DeviceError",
    "FramePipeline",
    "HintError",
    "Hints",
    "ImageError",
    "Keyframe",
    "ModelUnavailableError",
    "Point",
    "SettingError",
    "Settings",
    "Stroke",
    "VscolorizeError",
    "colorize_image",
    "export_onnx",
    "load_hints",
    "paint_hints",
    "rasterize",
    "save_hints",
    "suggest_points",
]
