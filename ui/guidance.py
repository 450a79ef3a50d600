"""The paint window's guidance: where the next hint pays most, and which frame the next keyframe.

- *Where next* (N, or the "where next" box): the frame shows numbered rings on the places where a
  hint of the true color would most improve it (``vscolorize.core.guidance``), for the hints it
  has now (its own, or those carried to it); a click on a ring places a point exactly there, in
  the current color. They follow every edit and every frame while the box is ticked.
- *Next keyframe* (the "suggest keyframes" button): the frames of the current shot where a new
  keyframe would bring most into the hints' reach (``vscolorize.core.keyframes``: what enters the
  picture or comes out from behind something) are marked on the timeline; J jumps to the next,
  Shift+J to the one before. The shot's frames are read once (their motion from the store).

Both are computed off the UI thread (:class:`~.jobs.Jobs`); only the newest answer is shown.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui

from vscolorize.core.hints import Keyframe

from .canvas import Marks

if TYPE_CHECKING:
    from .window import PaintWindow

__all__ = ["NEXT_PLACES", "Guidance", "NextMarks"]

NEXT_PLACES = 3  # rings shown at once
_SNAP_PIXELS = 12.0  # a click this close to a ring (in screen pixels) takes the ring's place
_RING = (0, 230, 255)


class NextMarks:
    """The numbered rings over the frame (items of the frame's view)."""

    def __init__(self, canvas: pg.ViewBox) -> None:
        self.canvas = canvas
        # clicks go through to the canvas (which places the point on the ring: see Guidance.snap)
        self.rings = Marks(pxMode=True, size=26, brush=None, pen=pg.mkPen(_RING, width=2.5))
        self.rings.setZValue(20)
        canvas.addItem(self.rings)
        self.labels: list[pg.TextItem] = []

    def show(self, places: list[tuple[float, float]]) -> None:
        """Rings at ``places`` (frame pixels), numbered from 1, best first; [] hides them."""
        self.rings.setData([x for x, _ in places], [y for _, y in places])
        for label in self.labels:
            self.canvas.removeItem(label)
        self.labels = []
        for i, (x, y) in enumerate(places, 1):
            label = pg.TextItem(str(i), color=_RING, anchor=(-0.6, 1.1))
            label.setFont(QtGui.QFont("sans", 11, QtGui.QFont.Weight.Bold))
            label.setPos(x, y)
            label.setZValue(20)
            self.canvas.addItem(label)
            self.labels.append(label)


class Guidance(QtCore.QObject):
    """Where next and the next keyframe for ``window`` (see the module's doc)."""

    def __init__(self, window: PaintWindow) -> None:
        super().__init__(window)
        self.window = window
        self.marks = NextMarks(window.canvas)
        self.showing = False
        self.places: list[tuple[float, float]] = []  # frame pixels, best first
        self.keyframes: list[Any] = []  # the shot's suggested keyframes (core.keyframes.Suggestion)
        window.jobs.placed.connect(self._placed)
        window.jobs.keyframes_found.connect(self._keyframes_found)
        self._asked: tuple[int, Keyframe | None] | None = None

    # --- where the next hint pays most ------------------------------------------------------

    def show_places(self, on: bool) -> None:
        """Show the rings (and keep them up to date) or hide them."""
        self.showing = on
        self._asked = None
        if on:
            self.update()
        else:
            self.places = []
            self.marks.show([])

    def update(self) -> None:
        """Ask for the places of the frame shown under its hints now (when the rings are on and
        the hints or the frame changed since the last answer)."""
        w = self.window
        if not self.showing or w.carried_pending():
            return
        keyframe, _ = w.shown_keyframe()
        painted = keyframe.at(w.frame) if keyframe is not None else None
        if self._asked == (w.frame, painted):
            return
        if self._asked is None or self._asked[0] != w.frame:  # another frame: its rings go
            self.places = []
            self.marks.show([])
        self._asked = (w.frame, painted)
        if not w.jobs.place(w.frame, w.lightness(w.frame), painted, NEXT_PLACES):
            w.say("where next: no learned model is installed")

    def _placed(self, frame: int, places: list[tuple[float, float]]) -> None:
        w = self.window
        if not self.showing or frame != w.frame:
            return
        self.places = [(x * w.source.width, y * w.source.height) for x, y in places]
        self.marks.show(self.places)

    def snap(self, x: float, y: float) -> tuple[float, float]:
        """Where a click at frame pixel (x, y) places a point: the ring's place when it is on a
        ring, else (x, y)."""
        if not self.places:
            return x, y
        view = self.window.canvas
        per_pixel = max(view.viewPixelSize()[0], 1e-9)  # frame pixels per screen pixel
        nearest = min(self.places, key=lambda p: math.dist(p, (x, y)))
        return nearest if math.dist(nearest, (x, y)) <= _SNAP_PIXELS * per_pixel else (x, y)

    # --- the next keyframe ------------------------------------------------------------------

    def find_keyframes(self) -> None:
        """Find the current shot's suggested keyframes (off the UI thread; the timeline marks them
        when they come)."""
        w = self.window
        if not w.jobs.find_keyframes(w.doc.hints, w.frame):
            w.say("suggested keyframes need the frames' motion: open a clip, not a picture")
            return
        w.say("looking for the frames where the next keyframe pays most in this shot...")

    def _keyframes_found(self, suggestions: list[Any]) -> None:
        self.keyframes = suggestions
        w = self.window
        w.bar.set_suggested(tuple(s.frame for s in suggestions))
        if not suggestions:
            w.say("no frame of this shot needs a keyframe: its keyframes reach all of it")
            return
        best = suggestions[0]
        w.say(f"next keyframe: frame {best.frame}, {best.reason} (J jumps there)")

    def next_keyframe(self, step: int) -> int | None:
        """The suggested keyframe after (``step`` 1) or before (-1) the frame shown."""
        frames = np.array(sorted(s.frame for s in self.keyframes), int)
        frame = self.window.frame
        later, earlier = frames[frames > frame], frames[frames < frame]
        if step > 0:
            return int(later[0]) if len(later) else None
        return int(earlier[-1]) if len(earlier) else None
