"""What the paint window edits, as plain Python: hints, undo/redo, hit tests, autosave.

No Qt here: the window turns mouse and keyboard events into calls on :class:`HintDocument`, and
everything an artist can do is testable without a display. Positions are in frame pixels (x to the
right, y down, pixel centers at +0.5), the hints file keeps fractions; the document converts.
Every edit replaces the immutable :class:`~vscolorize.core.hints.Hints` value, so undo is a stack
of earlier values and costs nothing to keep.

An edit of a frame that is not a keyframe makes it one that starts from the hints carried there
(:attr:`HintDocument.carried`): the correction adds to what the frame already had.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import replace
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np

from vscolorize.core.errors import HintError
from vscolorize.core.hints import (
    DEFAULT_RADIUS,
    DEFAULT_WIDTH,
    Color,
    Hints,
    Keyframe,
    Lifetime,
    Point,
    Stroke,
    densify_path,
    load_hints,
    save_hints,
)

__all__ = [
    "HintDocument",
    "NotCarriedYet",
    "autosave_path",
    "own_copy",
    "smooth_path",
    "without_stand_ins",
]

_UNDO_DEPTH = 500
# what carrying adds to a hint's extra keys; a carried hint made the artist's own drops them
_CARRIED_NOTES = ("propagated_from", "propagated_index", "confidence", "stand_in")


class NotCarriedYet(LookupError):
    """An edit of a frame that is not a keyframe, before the hints carried there are known: it
    would make a keyframe without them (the window tries again once they are shown)."""

    def __init__(self, frame: int) -> None:
        super().__init__(f"the keyframes' hints are still being carried to frame {frame}")
        self.frame = frame


def without_stand_ins(carried: Keyframe | None) -> Keyframe | None:
    """Carried hints as the window shows and edits them: a lost hint's stand-ins (the render
    paints them beside what covers it) left out, since the artist paints where it belongs."""
    if carried is None or not any(p.extra.get("stand_in") for p in carried.points):
        return carried
    return replace(carried, points=tuple(p for p in carried.points if not p.extra.get("stand_in")))


def own_copy(frame: int, carried: Keyframe | None) -> Keyframe:
    """The hints carried to ``frame`` as a keyframe of the artist's own (empty when none reach),
    stand-ins left out (see :func:`without_stand_ins`)."""
    if carried is None:
        return Keyframe(frame=frame)

    def mine(extra: Mapping[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in extra.items() if k not in _CARRIED_NOTES}

    carried = without_stand_ins(carried)
    assert carried is not None
    points = tuple(replace(p, extra=mine(p.extra)) for p in carried.points)
    strokes = tuple(replace(s, extra=mine(s.extra)) for s in carried.strokes)
    return Keyframe(frame=frame, points=points, strokes=strokes)


def autosave_path(hints_path: str | os.PathLike[str]) -> Path:
    """Where the window keeps unsaved work for ``hints_path``: a hidden file beside it."""
    path = Path(hints_path)
    return path.with_name(f".{path.name}.autosave")


def smooth_path(points: Sequence[tuple[float, float]], spacing: float) -> list[tuple[float, float]]:
    """A mouse path with vertices at most ``spacing`` apart (straight in between) and repeated
    positions removed: what a stroke keeps of a drag."""
    dense = densify_path(np.asarray(points, np.float64), spacing)
    return [(float(x), float(y)) for x, y in dense]


def _segment_distance(p: tuple[float, float], a: tuple[float, float], b: tuple[float, float]) -> float:
    """How far point ``p`` is from the segment ``a``-``b``."""
    (px, py), (ax, ay), (bx, by) = p, a, b
    dx, dy = bx - ax, by - ay
    length2 = dx * dx + dy * dy
    t = 0.0 if length2 == 0 else min(max(((px - ax) * dx + (py - ay) * dy) / length2, 0.0), 1.0)
    return math.dist(p, (ax + t * dx, ay + t * dy))


class HintDocument:
    """The hints of one clip being painted.

    Args:
        width, height: the frame size in pixels.
        hints: what to start from.
        path: where :meth:`save` writes (and the autosave lives beside).

    Attributes:
        carried: the hints carried to a frame that is not a keyframe, under the current hints
            (None: none reach it); raises :class:`NotCarriedYet` while they are being computed.
            None (the default) when nothing is carried: such a frame starts empty.
    """

    def __init__(
        self, width: int, height: int, hints: Hints | None = None, path: str | os.PathLike[str] | None = None
    ) -> None:
        self.width, self.height = width, height
        self.hints = hints or Hints()
        self.path = Path(path) if path is not None else None
        self._undo: list[Hints] = []
        self._redo: list[Hints] = []
        self._saved = self.hints
        self._autosaved = self.hints
        self._merge: Hashable | None = None  # what the last edit may be merged with (see _commit)
        self.carried: Callable[[int], Keyframe | None] | None = None

    # --- coordinates ------------------------------------------------------------------------

    @property
    def short_side(self) -> int:
        return min(self.width, self.height)

    def to_fraction(self, x: float, y: float) -> tuple[float, float]:
        return min(max(x / self.width, 0.0), 1.0), min(max(y / self.height, 0.0), 1.0)

    def to_pixels(self, fx: float, fy: float) -> tuple[float, float]:
        return fx * self.width, fy * self.height

    # --- state ------------------------------------------------------------------------------

    @property
    def modified(self) -> bool:
        """Whether there is work that :meth:`save` has not written."""
        return self.hints != self._saved

    def keyframe(self, frame: int) -> Keyframe:
        """``frame``'s own hints (empty when it is not a keyframe)."""
        return self.hints.keyframe(frame) or Keyframe(frame=frame)

    def start(self, frame: int) -> Keyframe:
        """What an edit of ``frame`` starts from: its keyframe, else the hints carried to it as
        the artist's own. Raises :class:`NotCarriedYet` while those are not known."""
        own = self.hints.keyframe(frame)
        if own is not None:
            return own
        return own_copy(frame, self.carried(frame) if self.carried is not None else None)

    def shown(self, frame: int) -> Keyframe:
        """The hints a click on ``frame`` can hit: :meth:`start`, or none while not known."""
        try:
            return self.start(frame)
        except NotCarriedYet:
            return Keyframe(frame=frame)

    def _commit(self, hints: Hints, merge: Hashable | None = None) -> None:
        """Make ``hints`` the current ones, undoable. Consecutive edits with the same ``merge``
        key (steps of one spin box on one hint) are taken back by a single undo."""
        if hints == self.hints:
            return
        if merge is None or merge != self._merge or not self._undo:
            self._undo.append(self.hints)
            del self._undo[:-_UNDO_DEPTH]
        self._merge = merge
        self._redo.clear()
        self.hints = hints

    def _put(self, keyframe: Keyframe, merge: Hashable | None = None) -> None:
        self._commit(self.hints.with_keyframe(keyframe), merge)

    def undo(self) -> bool:
        return self._step(self._undo, self._redo)

    def redo(self) -> bool:
        return self._step(self._redo, self._undo)

    def _step(self, source: list[Hints], target: list[Hints]) -> bool:
        """Go back (undo) or forth (redo) one edit: the top of ``source`` becomes the hints,
        the hints now go on ``target``. False when there is nothing to step to."""
        if not source:
            return False
        target.append(self.hints)
        self.hints = source.pop()
        self._merge = None
        return True

    # --- keyframes --------------------------------------------------------------------------

    def mark_keyframe(self, frame: int) -> None:
        """Make ``frame`` a keyframe holding the hints carried to it (see :meth:`start`)."""
        if self.hints.keyframe(frame) is None:
            self._put(self.start(frame))

    def unmark_keyframe(self, frame: int) -> None:
        """Drop ``frame``'s keyframe and its hints."""
        if self.hints.keyframe(frame) is not None:
            rest = tuple(k for k in self.hints.keyframes if k.frame != frame)
            self._commit(replace(self.hints, keyframes=rest))

    def next_keyframe(self, frame: int, step: int = 1) -> int | None:
        """The nearest keyframe after (``step`` 1) or before (-1) ``frame``."""
        frames = [f for f in self.hints.frames if (f - frame) * step > 0]
        return (min if step > 0 else max)(frames) if frames else None

    # --- points -----------------------------------------------------------------------------

    def add_point(self, frame: int, x: float, y: float, color: Color, radius: float = DEFAULT_RADIUS) -> int:
        """A point at pixel (x, y); returns its index in the keyframe."""
        fx, fy = self.to_fraction(x, y)
        keyframe = self.start(frame)
        point = Point(x=fx, y=fy, color=color, radius=radius)
        self._put(replace(keyframe, points=(*keyframe.points, point)))
        return len(keyframe.points)

    def point_at(self, frame: int, x: float, y: float, tolerance: float = 6.0) -> int | None:
        """The index of the point under pixel (x, y) (within ``tolerance`` pixels of its disc),
        the topmost (last painted) first."""
        points = self.shown(frame).points
        for i in range(len(points) - 1, -1, -1):
            p = points[i]
            px, py = self.to_pixels(p.x, p.y)
            if math.dist((px, py), (x, y)) <= p.radius * self.short_side + tolerance:
                return i
        return None

    def _change(
        self, frame: int, kind: str, index: int, merge: Hashable | None = None, **changes: Any
    ) -> None:
        """Replace fields of hint ``index`` of ``kind`` ("points" or "strokes") on ``frame``."""
        keyframe = self.start(frame)
        hints = list(getattr(keyframe, kind))
        hints[index] = replace(hints[index], **changes)
        fields: dict[str, Any] = {kind: tuple(hints)}
        self._put(replace(keyframe, **fields), merge)

    def _remove(self, frame: int, kind: str, index: int) -> None:
        keyframe = self.start(frame)
        hints = getattr(keyframe, kind)
        fields: dict[str, Any] = {kind: hints[:index] + hints[index + 1 :]}
        self._put(replace(keyframe, **fields))

    def move_point(self, frame: int, index: int, x: float, y: float) -> None:
        fx, fy = self.to_fraction(x, y)
        self._change(frame, "points", index, x=fx, y=fy)

    def recolor_point(self, frame: int, index: int, color: Color) -> None:
        self._change(frame, "points", index, color=color)

    def resize_point(self, frame: int, index: int, radius: float) -> None:
        """A point's radius (a fraction of the shorter side); repeated resizes of one point are
        one undo step."""
        self._change(frame, "points", index, ("size", frame, "point", index), radius=radius)

    def delete_point(self, frame: int, index: int) -> None:
        self._remove(frame, "points", index)

    # --- strokes and the eraser -------------------------------------------------------------

    def add_stroke(
        self, frame: int, path: Sequence[tuple[float, float]], color: Color, width: float = DEFAULT_WIDTH
    ) -> None:
        """A stroke along a mouse path in pixels (vertices filled in between mouse events)."""
        spacing = max(width * self.short_side / 2, 1.0)
        vertices = tuple(self.to_fraction(x, y) for x, y in smooth_path(path, spacing))
        if not vertices:
            return
        keyframe = self.start(frame)
        stroke = Stroke(path=vertices, color=color, width=width)
        self._put(replace(keyframe, strokes=(*keyframe.strokes, stroke)))

    def stroke_at(self, frame: int, x: float, y: float, tolerance: float = 6.0) -> int | None:
        """The index of the stroke under pixel (x, y) (within ``tolerance`` pixels of its swept
        disc), the topmost (last painted) first."""
        strokes = self.shown(frame).strokes
        for i in range(len(strokes) - 1, -1, -1):
            s = strokes[i]
            path = [self.to_pixels(fx, fy) for fx, fy in s.path]
            segments = list(pairwise(path)) or [(path[0], path[0])]  # a click: one vertex
            reach = s.width / 2 * self.short_side + tolerance
            if min(_segment_distance((x, y), a, b) for a, b in segments) <= reach:
                return i
        return None

    def recolor_stroke(self, frame: int, index: int, color: Color) -> None:
        self._change(frame, "strokes", index, color=color)

    def resize_stroke(self, frame: int, index: int, width: float) -> None:
        """A stroke's width (a fraction of the shorter side); repeated resizes of one stroke are
        one undo step."""
        self._change(frame, "strokes", index, ("size", frame, "stroke", index), width=width)

    def delete_stroke(self, frame: int, index: int) -> None:
        self._remove(frame, "strokes", index)

    def set_life(self, frame: int, kind: str, index: int, life: Lifetime) -> None:
        """The lifetime of hint ``index`` of ``kind`` ("point" or "stroke") on keyframe ``frame``."""
        self._change(frame, f"{kind}s", index, life=life)

    def erase(self, frame: int, x: float, y: float, radius: float) -> int:
        """Remove every point and stroke within ``radius`` pixels of (x, y); returns how many
        (a frame that is not a keyframe becomes one only when something was removed)."""
        keyframe = self.start(frame)

        def near(fx: float, fy: float, size: float) -> bool:
            return math.dist(self.to_pixels(fx, fy), (x, y)) <= radius + size * self.short_side

        points = tuple(p for p in keyframe.points if not near(p.x, p.y, p.radius))
        strokes = tuple(
            s for s in keyframe.strokes if not any(near(vx, vy, s.width / 2) for vx, vy in s.path)
        )
        removed = len(keyframe.points) - len(points) + len(keyframe.strokes) - len(strokes)
        if removed:
            self._put(replace(keyframe, points=points, strokes=strokes))
        return removed

    # --- files ------------------------------------------------------------------------------

    def save(self, path: str | os.PathLike[str] | None = None) -> Path:
        """Write the hints (atomically) and drop the autosave: nothing is left to recover."""
        target = Path(path) if path is not None else self.path
        if target is None:
            raise HintError("save: no file to save to")
        save_hints(self.hints, target)
        self.path, self._saved = target, self.hints
        autosave_path(target).unlink(missing_ok=True)
        return target

    def autosave(self) -> Path | None:
        """Write unsaved work to the recovery file when it changed since the last autosave."""
        if self.path is None or self.hints == self._autosaved or not self.modified:
            return None
        target = autosave_path(self.path)
        save_hints(replace(self.hints, extra={**self.hints.extra, "autosaved": time.time()}), target)
        self._autosaved = self.hints
        return target

    def discard_autosave(self) -> None:
        """Drop the recovery file (the artist declined what it held)."""
        if self.path is not None:
            autosave_path(self.path).unlink(missing_ok=True)

    @staticmethod
    def recoverable(path: str | os.PathLike[str]) -> Hints | None:
        """Autosaved work for ``path`` that is newer than the file itself, if any (and readable)."""
        backup = autosave_path(path)
        if not backup.is_file():
            return None
        saved = Path(path)
        if saved.is_file() and saved.stat().st_mtime >= backup.stat().st_mtime:
            return None
        try:
            hints = load_hints(backup)
        except HintError:
            return None
        extra = {k: v for k, v in hints.extra.items() if k != "autosaved"}
        return replace(hints, extra=extra)
