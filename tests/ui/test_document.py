from __future__ import annotations

import json
import os
import time
from pathlib import Path

import numpy as np
import pytest

from vscolorize.core.hints import Color, Keyframe, Point, Stroke, load_hints, rasterize
from vscolorize.ui.document import HintDocument, NotCarriedYet, autosave_path, smooth_path

RED, BLUE = Color(ab=(60.0, 45.0)), Color(ab=(-10.0, -50.0))


def doc(tmp_path: Path | None = None) -> HintDocument:
    return HintDocument(640, 360, path=tmp_path / "film.hints.json" if tmp_path else None)


def test_points_are_placed_moved_recolored_and_deleted() -> None:
    d = doc()
    assert d.add_point(0, 320, 180, RED) == 0
    assert d.add_point(0, 100, 50, BLUE) == 1
    point = d.keyframe(0).points[0]
    assert (point.x, point.y) == (0.5, 0.5) and point.color == RED
    assert d.point_at(0, 103, 52) == 1 and d.point_at(0, 500, 300) is None
    d.move_point(0, 1, 200, 100)
    assert d.keyframe(0).points[1].x == pytest.approx(200 / 640)
    d.recolor_point(0, 0, BLUE)
    d.delete_point(0, 1)
    assert [p.color for p in d.keyframe(0).points] == [BLUE]


def test_undo_and_redo_walk_the_history() -> None:
    d = doc()
    d.add_point(0, 10, 10, RED)
    d.add_point(0, 20, 20, RED)
    d.delete_point(0, 0)
    assert len(d.keyframe(0).points) == 1
    assert d.undo() and len(d.keyframe(0).points) == 2
    assert d.undo() and len(d.keyframe(0).points) == 1
    assert d.redo() and len(d.keyframe(0).points) == 2
    d.add_point(0, 30, 30, BLUE)  # a new edit drops what could be redone
    assert not d.redo()
    while d.undo():
        pass
    assert d.hints.keyframes == ()


def test_strokes_fill_in_between_mouse_positions() -> None:
    d = doc()
    d.add_stroke(5, [(10, 10), (10, 10), (110, 10)], RED, width=0.02)
    (stroke,) = d.keyframe(5).strokes
    xs = [x * 640 for x, _ in stroke.path]
    assert xs[0] == 10 and xs[-1] == 110 and max(np.diff(xs)) <= 0.02 * 360 / 2 + 1e-9
    ab, mask = rasterize(d.keyframe(5), 360, 640)
    assert mask[10, 10:110].all() and (ab[10, 60] == RED.ab).all()
    assert smooth_path([(0, 0)], 1) == [(0, 0)] and smooth_path([], 1) == []


def test_eraser_removes_what_it_touches() -> None:
    d = doc()
    d.add_point(0, 100, 100, RED)
    d.add_point(0, 300, 100, RED)
    d.add_stroke(0, [(90, 200), (200, 200)], BLUE)
    assert d.erase(0, 150, 205, radius=10) == 1  # the stroke
    assert d.erase(0, 100, 95, radius=10) == 1
    assert d.erase(0, 600, 300, radius=10) == 0
    assert len(d.keyframe(0).points) == 1 and not d.keyframe(0).strokes


def test_keyframes_are_marked_unmarked_and_navigated() -> None:
    d = doc()
    d.mark_keyframe(30)
    d.add_point(0, 5, 5, RED)
    d.mark_keyframe(60)
    assert d.hints.frames == (0, 30, 60)
    assert d.next_keyframe(10) == 30 and d.next_keyframe(30, -1) == 0 and d.next_keyframe(60) is None
    d.unmark_keyframe(30)
    assert d.hints.frames == (0, 60)
    d.undo()
    assert d.hints.frames == (0, 30, 60)


def test_save_writes_a_file_colorize_accepts_and_clears_the_autosave(tmp_path: Path) -> None:
    d = doc(tmp_path)
    d.add_point(0, 320, 180, RED)
    d.add_stroke(0, [(10, 10), (50, 40)], BLUE)
    assert d.modified
    backup = d.autosave()
    assert backup == autosave_path(tmp_path / "film.hints.json") and backup.is_file()
    assert d.autosave() is None  # nothing new since
    target = d.save()
    assert not d.modified and not backup.exists()
    loaded = load_hints(target)
    assert loaded.keyframe(0).points[0].color == RED  # type: ignore[union-attr]
    assert json.loads(target.read_text())["format"] == "vscolorize.hints"


def test_autosaved_work_is_offered_after_a_crash(tmp_path: Path) -> None:
    d = doc(tmp_path)
    d.add_point(0, 320, 180, RED)
    d.save()
    d.add_point(0, 100, 100, BLUE)  # unsaved ...
    d.autosave()
    del d  # ... and the window dies without saving
    recovered = HintDocument.recoverable(tmp_path / "film.hints.json")
    assert recovered is not None and len(recovered.keyframe(0).points) == 2  # type: ignore[union-attr]
    assert "autosaved" not in recovered.extra
    # a file saved after the autosave wins: nothing to offer
    later = time.time() + 5
    os.utime(tmp_path / "film.hints.json", (later, later))
    assert HintDocument.recoverable(tmp_path / "film.hints.json") is None
    # a damaged autosave is not offered either
    autosave_path(tmp_path / "other.hints.json").write_text("{")
    assert HintDocument.recoverable(tmp_path / "other.hints.json") is None


def test_opencvs_qt_paths_are_dropped() -> None:
    """cv2 points Qt at its own plugins on import; PySide6 would load them and abort on X11."""
    import cv2  # noqa: F401

    import vscolorize.ui  # noqa: F401

    for name in ("QT_QPA_PLATFORM_PLUGIN_PATH", "QT_QPA_FONTDIR"):
        assert f"{os.sep}cv2{os.sep}" not in os.environ.get(name, "")


def test_strokes_are_hit_recolored_and_deleted() -> None:
    d = doc()
    d.add_stroke(0, [(100, 100), (300, 100)], RED, width=0.02)  # 7.2 px wide
    d.add_stroke(0, [(500, 300)], BLUE)  # a click: a one-vertex stroke
    assert d.stroke_at(0, 200, 108) == 0  # beside the middle of a segment, not near a vertex
    assert d.stroke_at(0, 200, 130) is None and d.stroke_at(0, 350, 100) is None
    assert d.stroke_at(0, 502, 301) == 1
    d.recolor_stroke(0, 0, BLUE)
    assert [s.color for s in d.keyframe(0).strokes] == [BLUE, BLUE]
    d.delete_stroke(0, 1)
    assert len(d.keyframe(0).strokes) == 1
    d.undo()
    d.undo()
    assert [s.color for s in d.keyframe(0).strokes] == [RED, BLUE]


def test_a_declined_autosave_is_discarded(tmp_path: Path) -> None:
    d = doc(tmp_path)
    d.add_point(0, 10, 10, RED)
    assert d.autosave() is not None and HintDocument.recoverable(d.path) is not None  # type: ignore[arg-type]
    d.discard_autosave()
    assert not autosave_path(d.path).exists()  # type: ignore[arg-type]
    d.discard_autosave()  # nothing there: no error


def _carried_to_frame(frame: int) -> Keyframe:
    """What tracking carried to ``frame`` from keyframe 0: a point and a stroke, with notes."""
    note = {"propagated_from": 0, "confidence": 0.8, "mine": 1}
    return Keyframe(
        frame=frame,
        extra={"propagated": True},
        points=(Point(x=0.5, y=0.5, color=RED, extra=note),),
        strokes=(Stroke(path=((0.1, 0.1), (0.2, 0.1)), color=RED, extra=note),),
    )


def test_an_edit_of_a_carried_frame_starts_from_its_carried_hints() -> None:
    d = doc()
    d.add_point(0, 320, 180, RED)
    d.carried = _carried_to_frame
    d.add_point(7, 100, 50, BLUE)  # a correction on frame 7: it keeps what was carried there
    seven = d.keyframe(7)
    assert [p.color for p in seven.points] == [RED, BLUE] and len(seven.strokes) == 1
    assert seven.points[0].extra == {"mine": 1} and seven.strokes[0].extra == {"mine": 1}
    assert not seven.extra  # the artist's own keyframe now, not a carried one
    assert d.undo() and d.hints.frames == (0,)  # one undo takes the whole correction back
    # a carried hint is hit, recolored, resized and deleted where it was carried to
    assert d.point_at(8, 320, 180) == 0 and d.stroke_at(8, 100, 36) == 0
    d.recolor_stroke(8, 0, BLUE)
    assert d.keyframe(8).strokes[0].color == BLUE and d.keyframe(8).points[0].color == RED
    d.mark_keyframe(9)  # the keyframe box: a keyframe holding what was carried
    assert len(d.keyframe(9).points) == 1
    assert d.erase(10, 600, 300, radius=5) == 0 and 10 not in d.hints.frames  # nothing to erase


def test_an_edit_before_the_carried_hints_are_known_changes_nothing() -> None:
    d = doc()
    d.add_point(0, 320, 180, RED)

    def not_yet(frame: int) -> Keyframe | None:
        raise NotCarriedYet(frame)

    d.carried = not_yet
    before = d.hints
    with pytest.raises(NotCarriedYet, match="frame 4"):
        d.add_point(4, 10, 10, BLUE)
    with pytest.raises(NotCarriedYet):
        d.mark_keyframe(4)
    assert d.hints is before and d.point_at(4, 320, 180) is None  # nothing to hit yet


def test_resizes_are_undone_in_one_step_per_hint() -> None:
    d = doc()
    d.add_point(0, 320, 180, RED, radius=0.01)
    d.add_stroke(0, [(10, 10), (50, 40)], BLUE, width=0.02)
    for radius in (0.011, 0.012, 0.013):  # the spin box's arrow, three times
        d.resize_point(0, 0, radius)
    d.resize_stroke(0, 0, 0.05)
    assert d.keyframe(0).points[0].radius == 0.013 and d.keyframe(0).strokes[0].width == 0.05
    assert d.undo() and d.keyframe(0).strokes[0].width == 0.02
    assert d.undo() and d.keyframe(0).points[0].radius == 0.01
    assert d.undo() and d.keyframe(0).strokes == ()
