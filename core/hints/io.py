"""The ``*.hints.json`` v1 file format: parse, load, validate and save, and the one-line errors.

The format is a contract (DESIGN.md). Every malformed document is refused with one line naming the
source, the JSON path and what is wrong, e.g. ``hints.json: keyframes[2].points[0].x: 1.7 is outside
[0, 1]``.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from ..color import AB_LIMIT
from ..errors import HintError
from .model import (
    _RGB_PATTERN,
    ALWAYS,
    CARRIES,
    DEFAULT_RADIUS,
    DEFAULT_WIDTH,
    FORMAT,
    VERSION,
    Color,
    Hints,
    HintsLike,
    Keyframe,
    Lifetime,
    Point,
    Stroke,
)

__all__ = ["check_frames", "load_hints", "parse_hints", "resolve_hints", "save_hints"]

_MAX_FRAME = 2**31 - 1


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


_LIFETIME = {"from", "until", "mute", "carry"}


def _lifetime(node: _Node, obj: dict[str, Any]) -> Lifetime:
    """A hint's optional lifetime fields (absent: always)."""
    if not _LIFETIME & obj.keys():
        return ALWAYS
    first = node.child("from").integer(0, _MAX_FRAME) if "from" in obj else None
    last = node.child("until").integer(0, _MAX_FRAME) if "until" in obj else None
    if first is not None and last is not None and first > last:
        raise node.child("until").fail(f"{last} is before 'from' ({first})")
    mute = []
    if "mute" in obj:
        for span in node.child("mute").items():
            if len(span.array()) != 2:
                raise span.fail(f"must be [first, last], not {len(span.value)} numbers")
            a, b = (end.integer(0, _MAX_FRAME) for end in span.items())
            if a > b:
                raise span.fail(f"[{a}, {b}] ends before it starts")
            mute.append((a, b))
    carry = "both"
    if "carry" in obj:
        carry_node = node.child("carry")
        if carry_node.value not in CARRIES:
            ways = ", ".join(map(repr, CARRIES))
            raise carry_node.fail(f"{_describe(carry_node.value)} is not one of {ways}")
        carry = carry_node.value
    return Lifetime(first=first, last=last, mute=tuple(mute), carry=carry)


def _point(node: _Node) -> Point:
    obj = node.object()
    x = _coordinate(_required(node, obj, "x"))
    y = _coordinate(_required(node, obj, "y"))
    radius = node.child("radius").number(0, 1, open_low=True) if "radius" in obj else DEFAULT_RADIUS
    color = _color(node, obj)
    extra = _extra(obj, {"x", "y", "ab", "rgb", "radius", *_LIFETIME})
    return Point(x=x, y=y, color=color, radius=radius, extra=extra, life=_lifetime(node, obj))


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
    extra = _extra(obj, {"path", "ab", "rgb", "width", *_LIFETIME})
    return Stroke(path=tuple(path), color=color, width=width, extra=extra, life=_lifetime(node, obj))


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


def check_frames(hints: Hints | None, count: int) -> None:
    """Refuse hints with a keyframe past the end of a ``count``-frame clip.

    The message has no caller's name: callers prefix their own (``f"colorize: {e}"``).

    Raises:
        HintError: ``"hints: keyframe {frame} is past the clip's last frame ({count - 1})"``, naming
            the first such keyframe.
    """
    if hints is None:
        return
    late = [f for f in hints.frames if f >= count]
    if late:
        raise HintError(f"hints: keyframe {late[0]} is past the clip's last frame ({count - 1})")
