"""Color hints: the ``*.hints.json`` v1 format (load, validate, save) and rasterization.

The file format is a contract (DESIGN.md). Coordinates are fractions of the frame, so hints survive
resizing; sizes are fractions of the frame's shorter side. Everything a file holds that this version
does not know is kept in ``extra`` and written back on save.

Rasterization turns one keyframe into an a*b* hint map and a weight map (or a mask) at any
resolution: a point paints a disc, a stroke a swept disc (every pixel whose center lies within the
radius of the polyline). Strokes are painted first, then points, each list in file order, and later
paint overwrites earlier paint, so a precise point always shows on top of a broad stroke. A hint
always paints at least the pixel under its center, so tiny hints survive downscaling. A carried
hint has a strength below 1 (its confidence) and blends with what is under it instead.
"""

from __future__ import annotations

import itertools
import json
import math
import os
import re
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from .color import AB_LIMIT, srgb_to_lab
from .errors import HintError

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
    "densify_path",
    "hint_strength",
    "load_hints",
    "paint_hints",
    "parse_hints",
    "rasterize",
    "resolve_hints",
    "save_hints",
]

FORMAT = "vscolorize.hints"
VERSION = 1
DEFAULT_RADIUS = 0.004
# A stroke's width is a diameter; the default matches a default point's.
DEFAULT_WIDTH = 2 * DEFAULT_RADIUS
_RGB_PATTERN = re.compile(r"#[0-9a-fA-F]{6}")
_MAX_FRAME = 2**31 - 1


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


# --- parsing and validation --------------------------------------------------------------------


class _Node:
    """A JSON value with its path, for error messages like ``keyframes[2].points[0].x``."""

    def __init__(self, source: str, path: str, value: Any) -> None:
        self.source, self.path, self.value = source, path, value

    def fail(self, problem: str) -> HintError:
        where = f"{self.path}: " if self.path else ""
        return HintError(f"{self.source}: {where}{problem}")

    def child(self, key: str | int) -> _Node:
        if isinstance(key, int):
            path = f"{self.path}[{key}]"
        else:
            path = f"{self.path}.{key}" if self.path else key
        return _Node(self.source, path, self.value[key])

    def object(self) -> dict[str, Any]:
        if not isinstance(self.value, dict):
            raise self.fail(f"must be an object, not {_describe(self.value)}")
        return self.value

    def array(self) -> list[Any]:
        if not isinstance(self.value, list):
            raise self.fail(f"must be an array, not {_describe(self.value)}")
        return self.value

    def items(self) -> Iterator[_Node]:
        return (self.child(i) for i in range(len(self.array())))

    def number(self, lo: float, hi: float, *, open_low: bool = False) -> float:
        v = self.value
        if isinstance(v, bool) or not isinstance(v, int | float):
            raise self.fail(f"must be a number, not {_describe(v)}")
        try:
            finite = math.isfinite(v)
        except OverflowError:  # an integer beyond float range
            raise self.fail(f"{_describe(v)} is outside [{lo:g}, {hi:g}]") from None
        if not finite:
            raise self.fail(f"{v} is not a finite number")
        low_ok = v > lo if open_low else v >= lo
        if not (low_ok and v <= hi):
            bracket = "(" if open_low else "["
            raise self.fail(f"{v:g} is outside {bracket}{lo:g}, {hi:g}]")
        return float(v)

    def integer(self, lo: int, hi: int) -> int:
        v = self.value
        if isinstance(v, bool) or not isinstance(v, int):
            raise self.fail(f"must be an integer, not {_describe(v)}")
        if not lo <= v <= hi:
            raise self.fail(f"{v} is outside [{lo}, {hi}]")
        return v


def _describe(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    try:
        text = json.dumps(value) if isinstance(value, str) else repr(value)
    except ValueError:  # an integer with more digits than Python will print
        text = "a huge integer"
    return text if len(text) <= 40 else text[:37] + "..."


def _extra(obj: dict[str, Any], known: set[str]) -> dict[str, Any]:
    return {k: v for k, v in obj.items() if k not in known}


def _color(node: _Node, obj: dict[str, Any]) -> Color:
    has_ab, has_rgb = "ab" in obj, "rgb" in obj
    if has_ab and has_rgb:
        raise node.fail("has both 'ab' and 'rgb': give one color")
    if has_rgb:
        rgb = node.child("rgb")
        if not isinstance(rgb.value, str) or not _RGB_PATTERN.fullmatch(rgb.value):
            raise rgb.fail(f"{_describe(rgb.value)} is not a '#rrggbb' color")
        return Color.from_rgb(rgb.value)
    if has_ab:
        ab = node.child("ab")
        if len(ab.array()) != 2:
            raise ab.fail(f"must hold 2 numbers [a, b], not {len(ab.value)}")
        a, b = (c.number(*AB_LIMIT) for c in ab.items())
        return Color(ab=(a, b))
    raise node.fail("has no color: give 'ab': [a, b] or 'rgb': '#rrggbb'")


def _coordinate(node: _Node) -> float:
    return node.number(0.0, 1.0)


def _required(node: _Node, obj: dict[str, Any], key: str) -> _Node:
    if key not in obj:
        raise node.fail(f"is missing {key!r}")
    return node.child(key)


def _point(node: _Node) -> Point:
    obj = node.object()
    x = _coordinate(_required(node, obj, "x"))
    y = _coordinate(_required(node, obj, "y"))
    radius = node.child("radius").number(0, 1, open_low=True) if "radius" in obj else DEFAULT_RADIUS
    color = _color(node, obj)
    extra = _extra(obj, {"x", "y", "ab", "rgb", "radius"})
    return Point(x=x, y=y, color=color, radius=radius, extra=extra)


def _stroke(node: _Node) -> Stroke:
    obj = node.object()
    path_node = _required(node, obj, "path")
    path = []
    for vertex in path_node.items():
        if len(vertex.array()) != 2:
            raise vertex.fail(f"must be [x, y], not {len(vertex.value)} numbers")
        x, y = (_coordinate(c) for c in vertex.items())
        path.append((x, y))
    if not path:
        raise path_node.fail("must hold at least one [x, y] point")
    width = node.child("width").number(0, 1, open_low=True) if "width" in obj else DEFAULT_WIDTH
    color = _color(node, obj)
    extra = _extra(obj, {"path", "ab", "rgb", "width"})
    return Stroke(path=tuple(path), color=color, width=width, extra=extra)


def _keyframe(node: _Node) -> Keyframe:
    obj = node.object()
    frame = _required(node, obj, "frame").integer(0, _MAX_FRAME)
    points = tuple(_point(p) for p in node.child("points").items()) if "points" in obj else ()
    strokes = tuple(_stroke(s) for s in node.child("strokes").items()) if "strokes" in obj else ()
    extra = _extra(obj, {"frame", "points", "strokes"})
    return Keyframe(frame=frame, points=points, strokes=strokes, extra=extra)


def parse_hints(data: Any, *, source: str = "hints") -> Hints:
    """Validate a decoded JSON document in the hints format.

    Args:
        data: the document, as ``json.loads`` returns it.
        source: what to call the document in error messages (usually its file name).

    Raises:
        HintError: one line, ``"{source}: {json path}: {problem}"``, on the first problem found.
    """
    root = _Node(source, "", data)
    obj = root.object()
    fmt = _required(root, obj, "format")
    if fmt.value != FORMAT:
        raise fmt.fail(f"{_describe(fmt.value)} is not {FORMAT!r} (not a vscolorize hints file?)")
    version = _required(root, obj, "version")
    if isinstance(version.value, bool) or not isinstance(version.value, int):
        raise version.fail(f"must be an integer, not {_describe(version.value)}")
    if version.value != VERSION:
        raise version.fail(f"version {version.value} is not supported (this vscolorize reads 1)")
    keyframes: list[Keyframe] = []
    seen: dict[int, int] = {}
    for i, kf_node in enumerate(_required(root, obj, "keyframes").items()):
        keyframe = _keyframe(kf_node)
        if keyframe.frame in seen:
            first = seen[keyframe.frame]
            raise kf_node.child("frame").fail(
                f"frame {keyframe.frame} already has a keyframe (keyframes[{first}])"
            )
        seen[keyframe.frame] = i
        keyframes.append(keyframe)
    extra = _extra(obj, {"format", "version", "keyframes"})
    return Hints(keyframes=tuple(keyframes), extra=extra)


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not valid JSON")


def load_hints(path: str | os.PathLike[str]) -> Hints:
    """Read and validate a hints file.

    Raises:
        HintError: one line naming the file and what is wrong (missing, unreadable, not JSON, or
            the JSON path of the first invalid value).
    """
    name = os.fspath(path)
    try:
        text = Path(path).read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise HintError(f"{name}: no such file") from None
    except IsADirectoryError:
        raise HintError(f"{name}: is a directory, not a hints file") from None
    except PermissionError:
        raise HintError(f"{name}: permission denied") from None
    except UnicodeDecodeError as e:
        raise HintError(f"{name}: not UTF-8 text (byte {e.start})") from None
    except OSError as e:
        raise HintError(f"{name}: cannot read: {e.strerror or e}") from None
    try:
        data = json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as e:
        raise HintError(f"{name}: invalid JSON at line {e.lineno} column {e.colno}: {e.msg}") from None
    except (ValueError, RecursionError) as e:
        # NaN/Infinity literals, integers too long to convert, absurd nesting
        problem = "nested too deeply" if isinstance(e, RecursionError) else str(e).split("\n")[0]
        raise HintError(f"{name}: invalid JSON: {problem}") from None
    return parse_hints(data, source=name)


def save_hints(hints: Hints, path: str | os.PathLike[str]) -> None:
    """Write ``hints`` to ``path`` atomically: a crash never leaves a half-written file.

    The document goes to a temporary file beside ``path``, is flushed to disk, then renamed over
    ``path``; an existing file keeps its permissions.
    """
    target = Path(path)
    text = json.dumps(hints.to_json(), indent=1, allow_nan=False) + "\n"
    directory = target.parent if str(target.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        if target.exists():
            os.chmod(tmp, target.stat().st_mode & 0o7777)
        else:
            os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def resolve_hints(hints: HintsLike | None, *, name: str = "hints") -> Hints | None:
    """Accept any form of hints the public API takes: a path, a dict, a Hints or None."""
    if hints is None or isinstance(hints, Hints):
        return hints
    if isinstance(hints, str | os.PathLike):
        return load_hints(hints)
    if isinstance(hints, Mapping):
        return parse_hints(dict(hints), source=name)
    raise HintError(
        f"{name}: expected a path, a dict in the hints format or a Hints object, not {type(hints).__name__}"
    )


# --- rasterization -----------------------------------------------------------------------------


def densify_path(path: np.ndarray, step: float) -> np.ndarray:
    """A polyline, (N, 2), with repeated vertices dropped and vertices added on the straight
    segments so that none are more than ``step`` apart: what a stroke keeps of a mouse drag, and
    what propagation tracks of a stroke."""
    path = np.asarray(path, np.float64).reshape(-1, 2)
    if len(path) < 2:
        return path
    moved = np.concatenate([[True], np.any(np.diff(path, axis=0) != 0, axis=1)])
    path = path[moved]
    out = [path[:1]]
    for a, b in itertools.pairwise(path):
        pieces = max(1, math.ceil(float(np.linalg.norm(b - a)) / step))
        out.append(a + (b - a) * (np.arange(1, pieces + 1)[:, None] / pieces))
    return np.concatenate(out)


def _paint(
    ab: np.ndarray,
    weight: np.ndarray,
    window: tuple[slice, slice],
    inside: np.ndarray,
    color: tuple[float, float],
    strength: float,
) -> None:
    """Lay ``color`` at ``strength`` on the pixels ``inside`` ``window``. At strength 1 it
    replaces what was there; a weaker hint mixes with it, the colors weighted by strength and
    the strengths combined as independent chances (``a + b - ab``), which is the same in any
    order, so that two fading hints on one place hand over smoothly."""
    if strength >= 1:
        ab[window][inside] = color
        weight[window][inside] = 1
        return
    under = weight[window][inside]
    mixed = (strength * np.asarray(color, np.float32) + under[:, None] * ab[window][inside]) / (
        strength + under
    )[:, None]
    ab[window][inside] = mixed
    weight[window][inside] = strength + under * (1 - strength)


def _footprint(
    path: list[tuple[float, float]], radius: float, height: int, width: int
) -> tuple[tuple[slice, slice], np.ndarray] | None:
    """The pixels a hint covers, once each: those whose center lies within ``radius`` of the
    polyline ``path`` (pixel units; one vertex: a disc) and the pixel under each vertex (so that
    no hint vanishes when scaled down). ``(window, mask)`` in the picture, or None if outside."""
    xs, ys = [p[0] for p in path], [p[1] for p in path]
    left = max(math.floor(min(xs) - radius - 0.5), 0)
    right = min(math.ceil(max(xs) + radius + 0.5), width)
    top = max(math.floor(min(ys) - radius - 0.5), 0)
    bottom = min(math.ceil(max(ys) + radius + 0.5), height)
    if left >= right or top >= bottom:
        return None
    mask = np.zeros((bottom - top, right - left), bool)
    for (x0, y0), (x1, y1) in zip(path, path[1:] or path, strict=False):
        a = max(math.floor(min(x0, x1) - radius - 0.5), left)
        b = min(math.ceil(max(x0, x1) + radius + 0.5), right)
        c = max(math.floor(min(y0, y1) - radius - 0.5), top)
        d = min(math.ceil(max(y0, y1) + radius + 0.5), bottom)
        if a >= b or c >= d:
            continue
        px = np.arange(a, b, dtype=np.float64)[None, :] + 0.5
        py = np.arange(c, d, dtype=np.float64)[:, None] + 0.5
        dx, dy = x1 - x0, y1 - y0
        length2 = dx * dx + dy * dy
        if length2 > 0:
            t = np.clip(((px - x0) * dx + (py - y0) * dy) / length2, 0.0, 1.0)
        else:
            t = np.zeros((1, 1))
        mask[c - top : d - top, a - left : b - left] |= (px - x0 - t * dx) ** 2 + (
            py - y0 - t * dy
        ) ** 2 <= radius * radius
    for x, y in path:
        col, row = min(int(x), width - 1), min(int(y), height - 1)
        if left <= col < right and top <= row < bottom:
            mask[row - top, col - left] = True
    return (slice(top, bottom), slice(left, right)), mask


def hint_strength(hint: Point | Stroke) -> float:
    """How strongly a hint holds, in [0, 1]: 1 for an artist's; a carried hint's confidence
    (``extra["confidence"]``, which ``vscolorize.core.propagation`` sets)."""
    confidence = hint.extra.get("confidence", 1.0)
    if isinstance(confidence, bool) or not isinstance(confidence, int | float):
        return 1.0
    return min(max(float(confidence), 0.0), 1.0)


def paint_hints(keyframe: Keyframe | None, height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Paint a keyframe's hints at a resolution, each at its strength (:func:`hint_strength`).

    Args:
        keyframe: the hints to paint; None gives empty maps.
        height, width: the resolution in pixels.

    Returns:
        ``(ab, weight)``: ``ab`` (height, width, 2) float32 a*b* (0 where unhinted) and
        ``weight`` (height, width) float32 in [0, 1], how strongly each pixel is hinted (0:
        not at all; 1 under an artist's hint). Hints at strength 1 paint over what is under them;
        weaker ones mix (see ``_paint``), so that weights and colors change smoothly as
        carried hints fade.
    """
    if height < 1 or width < 1:
        raise ValueError(f"rasterize: size must be positive, not {height}x{width}")
    ab = np.zeros((height, width, 2), np.float32)
    weight = np.zeros((height, width), np.float32)
    if keyframe is None:
        return ab, weight
    short = min(height, width)

    def scale(p: Sequence[float]) -> tuple[float, float]:
        return p[0] * width, p[1] * height

    hints: list[tuple[Point | Stroke, list[tuple[float, float]], float]] = [
        (s, [scale(p) for p in s.path], s.width / 2 * short) for s in keyframe.strokes
    ]
    hints += [(p, [scale((p.x, p.y))], p.radius * short) for p in keyframe.points]
    for hint, path, radius in hints:
        footprint = _footprint(path, radius, height, width)
        if footprint is not None:
            _paint(ab, weight, *footprint, hint.color.ab, hint_strength(hint))
    return ab, weight


def rasterize(keyframe: Keyframe | None, height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Paint a keyframe's hints at a resolution: :func:`paint_hints` with every hinted pixel,
    however weakly, in the mask.

    Returns:
        ``(ab, mask)``: ``ab`` (height, width, 2) float32 a*b* (0 where unhinted) and ``mask``
        (height, width) bool, True where a hint painted.
    """
    ab, weight = paint_hints(keyframe, height, width)
    return ab, weight > 0
