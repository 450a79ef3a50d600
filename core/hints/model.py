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
    "Lifetime",
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


CARRIES = ("both", "forward", "backward")


@dataclass(frozen=True)
class Lifetime:
    """The frames a hint paints: those from ``first`` to ``last`` (either open), except the
    ``mute`` ranges (inclusive), and those its ``carry`` reaches from its keyframe ("both",
    "forward": the frames after it, "backward": those before). Within that, a hint lives where
    it always did: in its keyframe's shot, up to the next keyframe. The default is always.

    A carried hint is still tracked where it does not paint, so that it comes back in its place
    after a muted range; where it starts or stops it fades like a hint that is covered."""

    first: int | None = None
    last: int | None = None
    mute: tuple[tuple[int, int], ...] = ()
    carry: str = "both"

    def __post_init__(self) -> None:
        if self.carry not in CARRIES:
            raise HintError(f"Lifetime: carry {self.carry!r} is not one of {', '.join(CARRIES)}")
        if self.first is not None and self.last is not None and self.first > self.last:
            raise HintError(f"Lifetime: from {self.first} is after until {self.last}")
        for a, b in self.mute:
            if a > b:
                raise HintError(f"Lifetime: muted range [{a}, {b}] ends before it starts")

    @property
    def always(self) -> bool:
        return self == ALWAYS

    def shows(self, frame: int) -> bool:
        """Whether the hint paints on ``frame`` (where it is carried there)."""
        if (self.first is not None and frame < self.first) or (self.last is not None and frame > self.last):
            return False
        return not any(a <= frame <= b for a, b in self.mute)

    def carries(self, forward: bool) -> bool:
        """Whether the hint is carried from its keyframe that way."""
        return self.carry == "both" or self.carry == ("forward" if forward else "backward")

    def to_json(self) -> dict[str, Any]:
        """The file's fields, only those that differ from always."""
        fields: dict[str, Any] = {}
        if self.first is not None:
            fields["from"] = self.first
        if self.last is not None:
            fields["until"] = self.last
        if self.mute:
            fields["mute"] = [list(r) for r in self.mute]
        if self.carry != "both":
            fields["carry"] = self.carry
        return fields


ALWAYS = Lifetime()


@dataclass(frozen=True)
class Point:
    """A disc of ``radius`` (a fraction of the shorter side) centered on ``(x, y)`` (fractions)."""

    x: float
    y: float
    color: Color
    radius: float = DEFAULT_RADIUS
    extra: Mapping[str, Any] = field(default_factory=dict, compare=False)
    life: Lifetime = ALWAYS

    def to_json(self) -> dict[str, Any]:
        return {
            **self.extra,
            "x": self.x,
            "y": self.y,
            **self.color.to_json(),
            "radius": self.radius,
            **self.life.to_json(),
        }


@dataclass(frozen=True)
class Stroke:
    """A disc of diameter ``width`` swept along ``path`` (a polyline of (x, y) fractions)."""

    path: tuple[tuple[float, float], ...]
    color: Color
    width: float = DEFAULT_WIDTH
    extra: Mapping[str, Any] = field(default_factory=dict, compare=False)
    life: Lifetime = ALWAYS

    def to_json(self) -> dict[str, Any]:
        path = [list(p) for p in self.path]
        color, life = self.color.to_json(), self.life.to_json()
        return {**self.extra, "path": path, **color, "width": self.width, **life}


@dataclass(frozen=True)
class Keyframe:
    """The hints an artist painted on one frame of the clip."""

    frame: int
    points: tuple[Point, ...] = ()
    strokes: tuple[Stroke, ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict, compare=False)

    def at(self, frame: int) -> Keyframe:
        """The hints whose lifetimes paint on ``frame`` (this keyframe itself where all do)."""
        points = tuple(p for p in self.points if p.life.shows(frame))
        strokes = tuple(s for s in self.strokes if s.life.shows(frame))
        if len(points) == len(self.points) and len(strokes) == len(self.strokes):
            return self
        return replace(self, points=points, strokes=strokes)

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

    def painted(self, frame: int) -> Keyframe | None:
        """The keyframe at ``frame`` with the hints that paint there (see :class:`Lifetime`);
        None where there is none, or where lifetimes leave none of its hints."""
        keyframe = self.keyframe(frame)
        if keyframe is None:
            return None
        shown = keyframe.at(frame)
        return shown if shown is keyframe or shown.points or shown.strokes else None

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
