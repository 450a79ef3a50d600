"""Color hints: the ``*.hints.json`` v1 format and painting hints into maps.

- :mod:`.model`: the data (:class:`Color`, :class:`Point`, :class:`Stroke`, :class:`Keyframe`,
  :class:`Hints`) and :func:`hint_strength`.
- :mod:`.io`: the file format (:func:`parse_hints`, :func:`load_hints`, :func:`save_hints`,
  :func:`resolve_hints`) with its one-line errors, and :func:`check_frames` (hints against a clip).
- :mod:`.raster`: painting (:func:`densify_path`, :func:`paint_hints`, :func:`rasterize`).

Everything public is importable from here, ``from vscolorize.core.hints import Hints, load_hints``.
"""

from __future__ import annotations

from .io import check_frames, load_hints, parse_hints, resolve_hints, save_hints
from .model import (
    DEFAULT_RADIUS,
    DEFAULT_WIDTH,
    FORMAT,
    VERSION,
    Color,
    Hints,
    HintsLike,
    Keyframe,
    Point,
    Stroke,
    hint_strength,
)
from .raster import densify_path, paint_hints, rasterize

__all__ = [
    "DEFAULT_RADIUS",
    "DEFAULT_WIDTH",
    "FORMAT",
    "VERSION",
    "Color",
    "Hints",
    "HintsLike",
    "Keyframe",
    "Point",
    "Stroke",
    "check_frames",
    "densify_path",
    "hint_strength",
    "load_hints",
    "paint_hints",
    "parse_hints",
    "rasterize",
    "resolve_hints",
    "save_hints",
]
