"""The vscolorize engine: color science, hints, colorizers. Imports neither VapourSynth nor Qt.

``suggest_points`` and ``export_onnx`` (SciPy's spatial index, torch's exporter) are imported when
first used: a render needs neither, and a previewer waits for every import on each reload.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import (
    BackendUnavailableError,
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
from .pipeline import FramePipeline, Settings, colorize_image

if TYPE_CHECKING:
    from .guidance import suggest_points
    from .models.export import export_onnx

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


def __getattr__(name: str) -> Any:
    if name == "suggest_points":
        from .guidance import suggest_points

        return suggest_points
    if name == "export_onnx":
        from .models.export import export_onnx

        return export_onnx
    raise AttributeError(f"module 'vscolorize.core' has no attribute {name!r}")
