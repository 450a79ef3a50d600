"""The hints data: colors, points, strokes, keyframes and the hints of a clip.

Coordinates are fractions of the frame, so hints survive resizing; sizes are fractions of the frame's
shorter side. Everything a file holds that this version does not know is kept in ``extra`` and
written back on save (reading and writing the file is :mod:`.io`).
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from ..color import AB_LIMIT, srgb_to_lab
from ..errors import HintError

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
    "hint_strength",
]

FORMAT = "vscolorize.hints"
VERSION = 1
DEFAULT_RADIUS = 0.004
# A stroke's width is a diameter; the default matches a default point's.
DEFAULT_WIDTH = 2 * DEFAULT_RADIUS
_RGB_PATTERN = re.compile(r"#[0-9a-fA-F]{6}")


@dataclass(frozen=True)
class Color:
    """A hint color: its a*b* (what the engines use) and the sRGB hex it was given as, if any."""

    ab: tuple[float, float]
    rgb: str | None = None

    @classmethod
    def from_rgb(cls, rgb: str) -> Color:
        """A color from ``"#rrggbb"``; its lightness is dropped (lightness comes from the frame)."""
        if not isinstance(rgb, str) or not _RGB_PATTERN.fullmatch(rgb):
            raise HintError(f"Color.from_rgb: {rgb!r} is not a '#rrggbb' color")
        channels = np.array([int(rgb[i : i + 2], 16) for i in (1, 3, 5)], np.float64) / 255
        _, a, b = srgb_to_lab(channels).tolist()
        return cls(ab=(a, b), rgb=rgb.lower())

    @classmethod
    def from_ab(cls, a: float, b: float) -> Color:
        lo, hi = AB_LIMIT
        if not all(math.isfinite(v) and lo <= v <= hi for v in (a, b)):
            raise HintError(f"Color.from_ab: ({a}, {b}) is outside [{lo:g}, {hi:g}]")
        return cls(ab=(float(a), float(b)))

    def to_json(self) -> dict[str, Any]:
        return {"rgb": self.rgb} if self.rgb is not None else {"ab": list(self.ab)}


@dataclass(frozen=True)
class Point:
    """A disc of ``radius`` (a fraction of the shorter side) centered on ``(x, y)`` (fractions)."""

    x: float
    y: float
    color: Color
    radius: float = DEFAULT_RADIUS
    extra: Mapping[str, Any] = field(default_factory=dict, compare=False)

    def to_json(self) -> dict[str, Any]:
        return {
            **self.extra,
            "x": self.x,
            "y": self.y,
            **self.color.to_json(),
            "radius": self.radius,
        }


@dataclass(frozen=True)
class Stroke:
    """A disc of diameter ``width`` swept along ``path`` (a polyline of (x, y) fractions)."""

    path: tuple[tuple[float, float], ...]
    color: Color
    width: float = DEFAULT_WIDTH
    extra: Mapping[str, Any] = field(default_factory=dict, compare=False)

    def to_json(self) -> dict[str, Any]:
        path = [list(p) for p in self.path]
        return {**self.extra, "path": path, **self.color.to_json(), "width": self.width}


@dataclass(frozen=True)
class Keyframe:
    """The hints an artist painted on one frame of the clip."""

    frame: int
    points: tuple[Point, ...] = ()
    strokes: tuple[Stroke, ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict, compare=False)

    def to_json(self) -> dict[str, Any]:
        return {
            **self.extra,
            "frame": self.frame,
            "points": [p.to_json() for p in self.points],
            "strokes": [s.to_json() for s in self.strokes],
        }


@dataclass(frozen=True)
class Hints:
    """All keyframes of a clip, sorted by frame (each frame at most once)."""

    keyframes: tuple[Keyframe, ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        frames = [k.frame for k in self.keyframes]
        if len(set(frames)) != len(frames):
            raise HintError(f"Hints: a frame appears in more than one keyframe: {frames}")
        object.__setattr__(self, "keyframes", tuple(sorted(self.keyframes, key=lambda k: k.frame)))
        # propagated hints hold a keyframe per frame and are asked for one each frame: index them
        object.__setattr__(self, "_by_frame", {k.frame: k for k in self.keyframes})

    def keyframe(self, frame: int) -> Keyframe | None:
        """The keyframe at ``frame``, or None."""
        by_frame: dict[int, Keyframe] = self._by_frame  # type: ignore[attr-defined]
        return by_frame.get(frame)

    @property
    def frames(self) -> tuple[int, ...]:
        return tuple(k.frame for k in self.keyframes)

    def with_keyframe(self, keyframe: Keyframe) -> Hints:
        """A copy with ``keyframe`` added, replacing any keyframe at the same frame."""
        rest = tuple(k for k in self.keyframes if k.frame != keyframe.frame)
        return replace(self, keyframes=(*rest, keyframe))

    def to_json(self) -> dict[str, Any]:
        return {
            **self.extra,
            "format": FORMAT,
            "version": VERSION,
            "keyframes": [k.to_json() for k in self.keyframes],
        }


HintsLike = Hints | Mapping[str, Any] | str | os.PathLike[str]


def hint_strength(hint: Point | Stroke) -> float:
    """How strongly a hint holds, in [0, 1]: 1 for an artist's; a carried hint's confidence
    (``extra["confidence"]``, which ``vscolorize.core.propagation`` sets)."""
    confidence = hint.extra.get("confidence", 1.0)
    if isinstance(confidence, bool) or not isinstance(confidence, int | float):
        return 1.0
    return min(max(float(confidence), 0.0), 1.0)
