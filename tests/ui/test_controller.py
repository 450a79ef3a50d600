"""The paint window's edit logic without a window: PaintController on a HintDocument, no Qt."""

from __future__ import annotations

import subprocess
import sys

import pytest

from vscolorize.core.hints import Color, Hints, Keyframe, Point
from vscolorize.ui.controller import NEUTRAL, PaintController, Tool
from vscolorize.ui.document import HintDocument

RED = Color(ab=(60.0, 45.0))
BLUE = Color(ab=(-5.0, -55.0))


class Recorder:
    """What the controller tells the window: redraws (draft or not) and messages."""

    def __init__(self, controller: PaintController) -> None:
        self.changes: list[bool] = []
        self.messages: list[str] = []
        controller.on_change = self.changes.append
        controller.on_message = self.messages.append


def session(count: int = 5, *, carrying: bool = False) -> tuple[PaintController, Recorder]:
    controller = PaintController(HintDocument(160, 96), count, carrying=carrying)
    return controller, Recorder(controller)


def test_the_controller_imports_no_qt() -> None:
    code = (
        "import sys, vscolorize.ui.controller, vscolorize.ui.document;"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('PySide6', 'pyqtgraph'));"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_clicks_place_select_recolor_resize_and_delete() -> None:
    c, seen = session()
    assert c.color == NEUTRAL and len(c.recent) >= 4
    c.set_color(RED)
    assert c.doc.hints.frames == ()  # nothing selected: only the next hint's color
    assert c.click(40, 20) and c.selected is None  # placing does not select
    c.click(120, 70)
    assert [p.color for p in c.doc.keyframe(0).points] == [RED, RED] and c.recent[0] == RED
    assert c.click(41, 21) and c.selected == ("point", 0)  # on a point: selects it
    assert len(c.doc.keyframe(0).points) == 2
    c.set_color(BLUE)
    assert [p.color for p in c.doc.keyframe(0).points] == [BLUE, RED]
    c.set_size(0.03)
    c.set_size(0.05)
    assert c.doc.keyframe(0).points[0].radius == pytest.approx(0.025)
    assert c.selected_size() == pytest.approx(0.05)
    assert c.undo()  # both size steps at once
    assert c.doc.keyframe(0).points[0].radius == pytest.approx(0.005) and c.selected is None
    c.select(("point", 1))
    c.delete_selected()
    assert len(c.doc.keyframe(0).points) == 1 and c.selected is None
    assert seen.changes and not any(seen.changes)  # all full redraws


def test_strokes_are_selected_and_recolored_and_the_eraser_takes_them() -> None:
    c, seen = session()
    c.set_tool(Tool.BRUSH)
    c.set_color(RED)
    c.drag_start(10, 88)
    for x in (30, 60, 100):
        c.drag_move(x, 88)
    c.drag_end(100, 88)
    (stroke,) = c.doc.keyframe(0).strokes
    assert stroke.color == RED and len(stroke.path) > 3
    c.set_tool(Tool.POINT)
    c.click(35, 89)
    assert c.selected == ("stroke", 0) and c.selected_size() == pytest.approx(0.01)
    c.set_color(BLUE)
    c.set_size(0.04)
    assert c.doc.keyframe(0).strokes[0].color == BLUE
    assert c.doc.keyframe(0).strokes[0].width == pytest.approx(0.04)
    c.set_tool(Tool.ERASER)
    c.drag_start(50, 88)
    c.drag_move(50, 88)
    assert c.doc.keyframe(0).strokes == () and seen.changes[-1] is True  # a draft redraw
    c.drag_end(50, 88)
    assert seen.changes[-1] is False


def test_a_dragged_point_moves_and_is_selected() -> None:
    c, _ = session()
    c.click(40, 20)
    c.drag_start(40, 20)
    c.drag_move(60, 30)
    c.drag_end(80, 40)
    (point,) = c.doc.keyframe(0).points
    assert (point.x * 160, point.y * 96) == pytest.approx((60, 30))
    assert c.selected == ("point", 0)
    c.right_click(60, 30)
    assert c.doc.keyframe(0).points == ()


def test_a_suggestion_recolors_the_point_last_placed() -> None:
    c, _ = session()
    c.click(40, 20)
    c.take_suggestion(BLUE)
    assert c.doc.keyframe(0).points[0].color == BLUE and c.color == BLUE


def test_keyframes_are_marked_removed_with_a_message_and_undone() -> None:
    c, seen = session()
    c.click(40, 20)
    c.go_to(3)
    c.set_keyframe(True)
    assert c.doc.hints.frames == (0, 3) and c.is_keyframe()
    assert c.notice() == "no hints on this frame"
    c.go_to(0)
    c.set_keyframe(False)
    assert c.doc.hints.frames == (3,) and "Ctrl+Z" in seen.messages[-1]
    c.undo()
    assert c.doc.hints.frames == (0, 3)
    assert c.next_keyframe(1) == 3 and c.go_to(99) == 4 and c.next_keyframe(-1) == 3


def test_a_frame_that_is_not_a_keyframe_starts_from_its_carried_hints() -> None:
    c, seen = session(carrying=True)
    c.set_color(RED)
    c.click(35, 45)  # before any keyframe, even frame 0 waits for what reaches it: nothing
    assert c.doc.hints.frames == () and "still being carried" in seen.messages[-1]
    assert c.carried_arrived(c.doc.hints, 0, None)
    c.click(35, 45)
    c.go_to(2)
    assert c.carried_pending() and c.shown_keyframe() == (None, False)
    assert "tracking" in c.status() and "carrying" in c.notice()
    c.set_color(BLUE)
    c.click(130, 80)  # too early: refused and said
    assert c.doc.hints.frames == (0,) and "still being carried" in seen.messages[-1]

    carried = Keyframe(frame=2, points=(Point(x=0.3, y=0.5, color=RED, extra={"propagated_from": 0}),))
    stale = Hints()
    assert not c.carried_arrived(stale, 2, carried)  # for other hints: not kept
    assert c.carried_pending()
    covered = Keyframe(
        frame=2, points=(Point(x=0.5, y=0.5, color=RED, extra={"propagated_from": 0, "stand_in": True}),)
    )
    assert c.carried_arrived(c.doc.hints, 2, covered)  # the render's stand-ins are not shown
    assert c.shown_keyframe() == (Keyframe(frame=2), False) and "covered" in c.notice()
    assert c.carried_arrived(c.doc.hints, 2, carried)
    assert c.shown_keyframe() == (carried, False) and "(propagated)" in c.status()
    assert c.hint_at(48, 48) == ("point", 0)
    c.click(48, 48)  # selects the carried point: no edit yet
    assert c.selected == ("point", 0) and c.doc.hints.frames == (0,)
    c.set_color(BLUE)  # recoloring it makes frame 2 a keyframe holding it
    (point,) = c.doc.keyframe(2).points
    assert point.color == BLUE and "propagated_from" not in point.extra
    assert c.shown_keyframe() == (c.doc.keyframe(2), True)
    c.undo()
    assert c.doc.hints.frames == (0,) and c.carried_pending()  # known under other hints only


def test_scene_cuts_are_the_first_frames_of_shots_never_frame_0() -> None:
    shots = (range(0, 4), range(4, 7), range(7, 10))
    controller = PaintController(HintDocument(160, 96), 10, shot=lambda n: next(s for s in shots if n in s))
    assert controller.next_cut(1) == 4 and controller.next_cut(-1) is None  # frame 0: no cut before
    controller.go_to(5)
    assert controller.next_cut(1) == 7 and controller.next_cut(-1) == 4
    controller.go_to(4)
    assert controller.next_cut(-1) is None  # the shot before starts the clip
    controller.go_to(7)
    assert controller.next_cut(-1) == 4 and controller.next_cut(1) is None  # the last shot
    assert PaintController(HintDocument(160, 96), 10).next_cut(1) is None  # shots unknown
