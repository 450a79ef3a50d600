"""Hint lifetimes in the paint window, as plain Python: which hint of its keyframe the selection
is (the artist's own, or the one a carried hint comes from), the edits ("start here", "end here",
"mute from here to ...", unmute, one way only, always) and the bars the timeline draws for them.

An edit of a carried hint's lifetime edits the hint on its keyframe: at frame 140, where the red
car leaves, select the car's carried point and end it there; no keyframe is added.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from vscolorize.core.errors import HintError
from vscolorize.core.hints import Color, Keyframe, Lifetime, Point, Stroke

from .controller import PaintController

__all__ = ["Bar", "LifeEditor", "Source"]


@dataclass(frozen=True)
class Source:
    """A hint on its keyframe: ``kind`` "point" or "stroke", ``index`` in that keyframe's list."""

    frame: int
    kind: str
    index: int


@dataclass(frozen=True)
class Bar:
    """One hint's frames on the timeline: ``spans`` (inclusive ranges) where it colors, within
    the frames its keyframe reaches up to the keyframes beside it; ``keyframe`` its keyframe."""

    source: Source
    color: Color
    keyframe: int
    spans: tuple[tuple[int, int], ...]
    selected: bool


class LifeEditor:
    """The lifetime edits of the selected hint of ``controller``'s frame (each one undo step,
    said in the status line)."""

    def __init__(self, controller: PaintController) -> None:
        self.controller = controller
        # the hints of the frame shown, on their keyframes, and the selection: kept while an
        # edit has the carried hints tracked again, so that the selection and the bars stay
        self._seen: tuple[int, tuple[str, int] | None, list[Source], Source | None] | None = None

    # --- which hint -------------------------------------------------------------------------

    def _shown(self) -> tuple[list[Source], Source | None]:
        """The hints of the frame shown on their keyframes, and the selected one."""
        c = self.controller
        keyframe, own = c.shown_keyframe()
        if keyframe is None and c.carried_pending() and self._seen is not None:
            frame, selected, sources, source = self._seen
            if (frame, selected) == (c.frame, c.selected):  # those the edit left
                kept = [s for s in sources if self.hint(s) is not None]
                return kept, source if source in kept else None
        if keyframe is None:
            return [], None
        found = [_source(keyframe, own, "point", i) for i in range(len(keyframe.points))]
        found += [_source(keyframe, own, "stroke", i) for i in range(len(keyframe.strokes))]
        sources = list(dict.fromkeys(s for s in found if s is not None))
        source = None if c.selected is None else _source(keyframe, own, *c.selected)
        self._seen = (c.frame, c.selected, sources, source)
        return sources, source

    def source(self) -> Source | None:
        """The selected hint on its keyframe (None: nothing selected, or a carried hint whose
        keyframe is not known)."""
        return self._shown()[1]

    def hint(self, source: Source) -> Point | Stroke | None:
        """The hint ``source`` names, as the hints are now (None: no longer there)."""
        keyframe = self.controller.doc.hints.keyframe(source.frame)
        hints = () if keyframe is None else keyframe.points if source.kind == "point" else keyframe.strokes
        return hints[source.index] if source.index < len(hints) else None

    def life(self) -> Lifetime | None:
        """The selected hint's lifetime."""
        source = self.source()
        hint = None if source is None else self.hint(source)
        return None if hint is None else hint.life

    # --- edits ------------------------------------------------------------------------------

    def start_here(self) -> None:
        """The selected hint colors no frame before the one shown."""
        self._edit(lambda life, f: replace(life, first=f), "starts at frame {f}")

    def end_here(self) -> None:
        """The selected hint colors no frame after the one shown."""
        self._edit(lambda life, f: replace(life, last=f), "ends at frame {f}")

    def mute_to(self, last: int) -> None:
        """The selected hint colors nothing from the frame shown to ``last`` (either order)."""
        f = self.controller.frame
        a, b = sorted((f, last))

        def mute(life: Lifetime, _: int) -> Lifetime:
            return replace(life, mute=_merged((*life.mute, (a, b))))

        self._edit(mute, f"is muted on frames {a}-{b}")

    def unmute(self) -> None:
        """Take away the selected hint's muted range that holds the frame shown, or all of them
        where none does (a muted hint is not shown to select on its muted frames: it is selected
        where it shows, on its keyframe for one)."""
        f = self.controller.frame

        def unmute(life: Lifetime, _: int) -> Lifetime:
            kept = tuple((a, b) for a, b in life.mute if not a <= f <= b)
            return replace(life, mute=kept if kept != life.mute else ())

        self._edit(unmute, "is unmuted")

    def carry(self, way: str) -> None:
        """Carry the selected hint "both" ways from its keyframe, or "forward" or "backward" only."""
        self._edit(lambda life, _: replace(life, carry=way), f"is carried {way}")

    def always(self) -> None:
        """The selected hint lives where its keyframe reaches, as a hint without a lifetime."""
        self._edit(lambda life, _: Lifetime(), "lives as long as its keyframe reaches")

    def _edit(self, change: Callable[[Lifetime, int], Lifetime], said: str) -> None:
        c = self.controller
        source = self.source()
        hint = None if source is None else self.hint(source)
        if source is None or hint is None:
            c.on_message("select a hint first (click it, or its row in the list)")
            return
        try:
            life = change(hint.life, c.frame)
        except HintError as e:  # from after until: the edit is refused, the hint kept
            c.on_message(f"not changed: {str(e).removeprefix('Lifetime: ')}")
            return
        if life == hint.life:
            return
        c.doc.set_life(source.frame, source.kind, source.index, life)
        c.on_message(f"the {source.kind} of keyframe {source.frame} " + said.format(f=c.frame))
        c.forget_stale_carried()
        c.on_change(False)

    # --- bars -------------------------------------------------------------------------------

    def bars(self, most: int = 6) -> list[Bar]:
        """The bars of the hints shown (their keyframe's, for carried ones), the selected first,
        at most ``most``."""
        sources, selected = self._shown()
        ordered = sorted(sources, key=lambda s: s != selected)
        return [self._bar(s, hint, s == selected) for s in ordered[:most] if (hint := self.hint(s))]

    def _bar(self, source: Source, hint: Point | Stroke, selected: bool) -> Bar:
        doc, count = self.controller.doc, self.controller.count
        before = doc.next_keyframe(source.frame, -1)
        after = doc.next_keyframe(source.frame, 1)
        life = hint.life
        # the frames its keyframe reaches (up to the keyframes beside it; shots are not drawn)
        first = (0 if before is None else before + 1) if life.carries(False) else source.frame
        last = (count - 1 if after is None else after - 1) if life.carries(True) else source.frame
        first = max(first, life.first or 0)
        last = min(last, count - 1 if life.last is None else life.last)
        spans: list[tuple[int, int]] = []
        start = first
        for a, b in life.mute:
            if b < start or a > last:
                continue
            if a > start:
                spans.append((start, a - 1))
            start = max(start, b + 1)
        if start <= last:
            spans.append((start, last))
        return Bar(source, hint.color, source.frame, tuple(spans), selected)


def _source(keyframe: Keyframe, own: bool, kind: str, index: int) -> Source | None:
    hints = keyframe.points if kind == "point" else keyframe.strokes
    if index >= len(hints):
        return None
    if own:
        return Source(keyframe.frame, kind, index)
    extra = hints[index].extra
    frame, at = extra.get("propagated_from"), extra.get("propagated_index")
    if not isinstance(frame, int) or not isinstance(at, int):
        return None
    return Source(frame, kind, at)


def _merged(spans: tuple[tuple[int, int], ...]) -> tuple[tuple[int, int], ...]:
    """Inclusive ranges sorted, those that overlap or touch made one."""
    merged: list[tuple[int, int]] = []
    for a, b in sorted(spans):
        if merged and a <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return tuple(merged)
