"""What the paint window does with the artist's input, as plain Python: the edit logic.

:class:`PaintController` sits between the widgets and :class:`~.document.HintDocument`: it knows
the frame shown, the tool, the current color and size, the selected hint, the recent colors and
the hints carried to frames that are not keyframes. The window turns mouse and keyboard input into
its calls (``click``, ``drag_*``, ``set_color``, ``set_size``, ...) and redraws when it says so
(``on_change``); nothing here imports Qt, so all of it is testable without a display.

A selected hint is ``("point" | "stroke", index)`` in the hints of the frame shown: its own, or
those carried there (an edit of those makes the frame a keyframe that starts from them).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from vscolorize.core.hints import Color, Hints, Keyframe

from .document import HintDocument, NotCarriedYet, without_stand_ins

__all__ = ["NEUTRAL", "STARTER_PALETTE", "PaintController", "Tool"]

NEUTRAL = Color(ab=(0.0, 0.0))  # the first color: a first click must not tint the frame
# offered before any color is used: foliage, sky, skin, wood, brick, sand (sRGB)
STARTER_PALETTE = ("#6b8e3a", "#7fa7cf", "#d9a184", "#8a5a35", "#a8453a", "#c9b27c")
RECENT_COLORS = 8
# carried hints of this many frames are kept between edits (they are tracked again when needed)
KEEP_CARRIED = 2000


class Tool:
    POINT, BRUSH, ERASER = "point", "brush", "eraser"


class PaintController:
    """The state of a paint session and every edit an artist can make in it.

    Args:
        doc: the hints being edited (its ``carried`` is set to :meth:`carried_to`).
        count: the number of frames.
        carrying: whether hints are carried to frames that are not keyframes (they then arrive
            through :meth:`carried_arrived`; until then such a frame refuses edits).
        shot: frame n -> the frames of its shot (it may read them), or None when shots are not
            known (see :meth:`next_cut`).

    Attributes:
        on_change: called after an edit or a new selection with ``draft`` (True while the mouse
            moves: only a quick redraw is worth it).
        on_message: called with a line for the artist (why an edit was refused, how to undo).
    """

    def __init__(
        self,
        doc: HintDocument,
        count: int,
        *,
        carrying: bool = False,
        shot: Callable[[int], range] | None = None,
    ) -> None:
        self.doc = doc
        self.count = count
        self.carrying = carrying
        self.shot = shot
        self.frame = 0
        self.tool = Tool.POINT
        self.color = NEUTRAL
        self.size = 0.01  # the next hint's (and the selection's) size: see set_size
        self.recent = [Color.from_rgb(rgb) for rgb in STARTER_PALETTE]
        self.selected: tuple[str, int] | None = None
        self.last_point: tuple[int, int] | None = None  # (frame, index) of the point last placed
        self.on_change: Callable[[bool], None] = lambda draft: None
        self.on_message: Callable[[str], None] = lambda message: None
        # carried hints of the frames seen since the last edit (bounded: reset by every edit)
        self._carried: dict[int, Keyframe | None] = {}
        self._covered: set[int] = set()  # frames where some carried hints are covered
        self._carried_from: Hints | None = None
        self._dragging: int | None = None
        self._stroke: list[tuple[float, float]] = []
        doc.carried = self.carried_to  # an edited non-keyframe starts from these

    # --- frames -----------------------------------------------------------------------------

    def go_to(self, n: int) -> int:
        """Show frame ``n`` (clamped to the clip); another frame lets the selection go."""
        n = min(max(int(n), 0), self.count - 1)
        if n != self.frame:
            self.selected = None
        self.frame = n
        return n

    def next_keyframe(self, step: int) -> int | None:
        """The keyframe after (``step`` 1) or before (-1) the frame shown."""
        return self.doc.next_keyframe(self.frame, step)

    def next_cut(self, step: int) -> int | None:
        """The first frame of the next shot (``step`` 1), or the cut before the frame shown (-1:
        its shot's first frame, or the shot before's when it is there); None when there is none or
        shots are not known. Frame 0 starts the clip: it is never a cut."""
        if self.shot is None:
            return None
        shot = self.shot(self.frame)
        if step > 0:
            cut = shot.stop if shot.stop < self.count else None
        elif self.frame > shot.start:
            cut = shot.start
        else:
            cut = self.shot(shot.start - 1).start if shot.start > 0 else None
        return cut or None

    def set_keyframe(self, on: bool) -> None:
        """Make the frame shown a keyframe holding the hints carried to it, or drop its keyframe
        (undoable; said, with how to undo it)."""
        with self._editing():
            if on:
                self.doc.mark_keyframe(self.frame)
            elif self.doc.hints.keyframe(self.frame) is not None:
                self.doc.unmark_keyframe(self.frame)
                self.selected = None  # it named one of the hints just removed
                self.on_message(f"keyframe {self.frame} removed (Ctrl+Z brings it back)")
        self._changed()

    def is_keyframe(self) -> bool:
        return self.doc.hints.keyframe(self.frame) is not None

    # --- carried hints ----------------------------------------------------------------------

    def shown_keyframe(self) -> tuple[Keyframe | None, bool]:
        """The hints of the frame shown and whether they are the artist's own (else carried
        there from keyframes; None while those are not known yet, see :meth:`carried_pending`)."""
        own = self.doc.hints.keyframe(self.frame)
        if own is not None or not self.carrying:
            return own, True
        if self._carried_from is not self.doc.hints or self.frame not in self._carried:
            return None, False
        return self._carried[self.frame], False

    def carried_pending(self) -> bool:
        """Whether the hints carried to the frame shown are still to come."""
        return (
            self.doc.hints.keyframe(self.frame) is None
            and self.carrying
            and (self._carried_from is not self.doc.hints or self.frame not in self._carried)
        )

    def carried_to(self, frame: int) -> Keyframe | None:
        """The hints carried to ``frame`` under the current hints, for the document to start an
        edit from (None: none reach it); NotCarriedYet while they are being tracked."""
        if not self.carrying:
            return None
        if self._carried_from is self.doc.hints and frame in self._carried:
            return self._carried[frame]
        raise NotCarriedYet(frame)

    def carried_arrived(self, source: Hints, frame: int, keyframe: Keyframe | None) -> bool:
        """The hints ``source`` carries to ``frame``; False (and forgotten) when the hints
        changed since they were asked for."""
        if source is not self.doc.hints:
            return False
        if self._carried_from is not source or len(self._carried) > KEEP_CARRIED:
            self._carried, self._carried_from, self._covered = {}, source, set()
        shown = without_stand_ins(keyframe)
        self._carried[frame] = shown
        if shown is not keyframe:  # some carried here are covered: the render shows stand-ins
            self._covered.add(frame)
        else:
            self._covered.discard(frame)
        return True

    def forget_stale_carried(self) -> None:
        """Drop carried hints computed under hints that are not the current ones."""
        if self._carried_from is not self.doc.hints:
            self._carried, self._carried_from, self._covered = {}, None, set()

    # --- what the window says ---------------------------------------------------------------

    def status(self) -> str:
        """The status line: frame, points, whether the hints shown are carried, unsaved work."""
        keyframe, own = self.shown_keyframe()
        points = len(keyframe.points) if keyframe else 0
        state = "(tracking hints...) " if self.carried_pending() else ""
        state = state or ("" if own else "(propagated) ")
        marker = "*" if self.doc.modified else ""
        return f"frame {self.frame}/{self.count - 1}  {points} points {state}{marker}"

    def notice(self, progress: tuple[int, int] | None = None) -> str:
        """Why the preview is gray, when it is: no hints here, none reach, not carried yet (with
        ``progress``, ``(reached, frame)``: how far the carrying has come); or why it is colored
        with no hint shown: those carried here are covered (the render shows them on stand-ins
        beside what covers them)."""
        if self.carried_pending():
            if progress is None:
                return "carrying the keyframes' hints to this frame..."
            reached, frame = progress
            way = "" if reached <= frame else " back"
            return f"carrying hints{way}: frame {reached} of {frame}"
        keyframe, own = self.shown_keyframe()
        if keyframe is None or not (keyframe.points or keyframe.strokes):
            if not own and self.frame in self._covered:
                return "the hints carried here are covered: shown beside what covers them"
            return "no hints on this frame" if own else "no hints reach this frame"
        return ""

    # --- edits ------------------------------------------------------------------------------

    @contextmanager
    def _editing(self) -> Iterator[None]:
        """Around an edit: one refused because the frame's carried hints are not known yet (it
        would make a keyframe without them) is dropped, and the artist is told."""
        try:
            yield
        except NotCarriedYet as e:
            self.on_message(f"not changed: {e}; edit again once they are shown")

    def _changed(self, draft: bool = False) -> None:
        self.forget_stale_carried()
        self.on_change(draft)

    def hint_at(self, x: float, y: float) -> tuple[str, int] | None:
        """The hint under pixel (x, y) of the frame shown (its own, or carried there): a point
        before a stroke."""
        index = self.doc.point_at(self.frame, x, y)
        if index is not None:
            return "point", index
        index = self.doc.stroke_at(self.frame, x, y)
        return None if index is None else ("stroke", index)

    def click(self, x: float, y: float) -> bool:
        """A left click at pixel (x, y) with the current tool. The point tool selects the hint
        under it, else places a point; returns True when it did either (a place the model's
        suggestions are worth asking about)."""
        asked = False
        with self._editing():
            if self.tool == Tool.POINT:
                hit = self.hint_at(x, y)
                if hit is None:
                    index = self.doc.add_point(self.frame, x, y, self.color, radius=self.size / 2)
                    self.used(self.color)
                    self.last_point = (self.frame, index)
                elif hit[0] == "point":
                    self.last_point = (self.frame, hit[1])
                self.selected = hit
                asked = True
            elif self.tool == Tool.BRUSH:
                self.doc.add_stroke(self.frame, [(x, y)], self.color, width=self.size)
                self.used(self.color)
            else:
                self.selected = None
                self.doc.erase(self.frame, x, y, self.eraser_radius())
        self._changed()
        return asked

    def right_click(self, x: float, y: float) -> None:
        """Delete the point under pixel (x, y)."""
        index = self.doc.point_at(self.frame, x, y)
        if index is not None:
            with self._editing():
                self.doc.delete_point(self.frame, index)
                self.selected = None
            self._changed()

    def drag_start(self, x: float, y: float) -> None:
        self._dragging = None
        self._stroke = [(x, y)]
        if self.tool == Tool.POINT:
            self._dragging = self.doc.point_at(self.frame, x, y)
            if self._dragging is not None:  # the point being moved is the one selected
                self.selected = ("point", self._dragging)

    def drag_move(self, x: float, y: float) -> None:
        if self.tool == Tool.POINT and self._dragging is not None:
            with self._editing():
                self.doc.move_point(self.frame, self._dragging, x, y)
            self._changed(draft=True)
        elif self.tool == Tool.BRUSH:
            self._stroke.append((x, y))
        elif self.tool == Tool.ERASER:
            self.selected = None
            with self._editing():
                self.doc.erase(self.frame, x, y, self.eraser_radius())
            self._changed(draft=True)

    def drag_end(self, x: float, y: float) -> None:
        if self.tool == Tool.BRUSH and self._stroke:
            with self._editing():
                self.doc.add_stroke(self.frame, self._stroke, self.color, width=self.size)
                self.used(self.color)
        self._dragging, self._stroke = None, []
        self._changed()

    def eraser_radius(self) -> float:
        """The eraser's reach in pixels: the size (a fraction of the shorter side) in pixels."""
        return self.size * self.doc.short_side

    def select(self, hint: tuple[str, int] | None) -> None:
        """Make ``hint`` the one colors and sizes apply to, or select nothing (no edit)."""
        self.selected = hint

    def delete_selected(self) -> None:
        if self.selected is None:
            return
        kind, index = self.selected
        with self._editing():
            if kind == "point":
                self.doc.delete_point(self.frame, index)
            else:
                self.doc.delete_stroke(self.frame, index)
            self.selected = None
        self._changed()

    def set_color(self, color: Color) -> None:
        """The color of the next hint, and of the selected one (an edit that undo takes back)."""
        self.color = color
        if self.selected is None:
            return
        kind, index = self.selected
        with self._editing():
            if kind == "point":
                self.doc.recolor_point(self.frame, index, color)
            else:
                self.doc.recolor_stroke(self.frame, index, color)
        self._changed()

    def take_suggestion(self, color: Color) -> None:
        """A suggestion recolors the selected hint, else the point last placed (and becomes the
        current color)."""
        self.set_color(color)
        if self.selected is None and self.last_point is not None:
            frame, index = self.last_point
            if index < len(self.doc.keyframe(frame).points):
                with self._editing():
                    self.doc.recolor_point(frame, index, color)
                self._changed()

    def set_size(self, size: float) -> None:
        """The size of the next hint (a point's diameter, a stroke's width; fractions of the
        shorter side) and of the selected one (an edit that undo takes back)."""
        self.size = size
        if self.selected is None:
            return
        kind, index = self.selected
        with self._editing():
            if kind == "point":
                self.doc.resize_point(self.frame, index, size / 2)
            else:
                self.doc.resize_stroke(self.frame, index, size)
        self._changed()

    def selected_size(self) -> float:
        """What the size box shows: the selected hint's size, else the next hint's."""
        keyframe, _ = self.shown_keyframe()
        kind, index = self.selected or ("", -1)
        if keyframe is not None and kind == "point" and index < len(keyframe.points):
            return 2 * keyframe.points[index].radius
        if keyframe is not None and kind == "stroke" and index < len(keyframe.strokes):
            return keyframe.strokes[index].width
        return self.size

    def set_tool(self, tool: str) -> None:
        self.tool = tool

    def used(self, color: Color) -> None:
        """``color`` went into a hint: first among the recent colors."""
        self.recent = [color, *(c for c in self.recent if c != color)][:RECENT_COLORS]

    def undo(self) -> bool:
        if not self.doc.undo():
            return False
        self.selected = None  # it may name a hint that is not there any more
        self._changed()
        return True

    def redo(self) -> bool:
        if not self.doc.redo():
            return False
        self.selected = None
        self._changed()
        return True
