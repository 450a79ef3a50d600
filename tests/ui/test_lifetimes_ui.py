"""The paint window edits hints' lifetimes: "end here" and "start here" on the selected hint (a
carried one edits its keyframe's hint, adding no keyframe), "mute from here to ...", which way
it is carried; the bars under the timeline show them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6 import QtCore, QtWidgets
from pytestqt.qtbot import QtBot

from vscolorize.core.hints import Lifetime, load_hints
from vscolorize.ui.lifetimes import Bar
from vscolorize.ui.timeline import describe
from vscolorize.ui.window import PaintWindow

from .test_window import RED, Ramp, carrying_window, click


class Slow(Ramp):
    """Ten frames, the square moving 3 px a frame: a point on it is carried to all of them."""

    count = 10

    def lightness(self, n: int) -> np.ndarray:
        frame = np.tile(np.linspace(20, 80, self.width, dtype=np.float32), (self.height, 1))
        frame[30:60, 20 + 3 * n : 50 + 3 * n] = 95
        return frame


def at_frame(w: PaintWindow, qtbot: QtBot, n: int) -> None:
    w.go_to(n)
    qtbot.waitUntil(lambda: not w.carried_pending(), timeout=30_000)


def spans(w: PaintWindow) -> list[tuple[tuple[int, int], ...]]:
    bars: list[Bar] = w.life_bars.bars
    return [bar.spans for bar in bars]


def test_a_carried_hint_is_ended_muted_and_turned_one_way_from_any_frame(
    qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    w, _ = carrying_window(qtbot, tmp_path, Slow())
    w.set_color(RED)
    click(w, 35, 45)
    assert not w.life_row.buttons["end"].isEnabled() or w.selected is not None
    assert spans(w) == [((0, 9),)]
    at_frame(w, qtbot, 6)
    w.select(("point", 0))  # the point carried here
    assert w.life_row.label.text() == describe(Lifetime()) and w.life_row.buttons["end"].isEnabled()
    qtbot.keyClick(w, QtCore.Qt.Key.Key_BracketRight)  # end here
    assert w.doc.hints.frames == (0,)  # no keyframe added: the keyframe's hint was edited
    assert w.doc.keyframe(0).points[0].life == Lifetime(last=6)
    assert spans(w) == [((0, 6),)] and "until 6" in w.life_row.label.text()
    at_frame(w, qtbot, 8)
    keyframe, own = w.shown_keyframe()
    assert not own and (keyframe is None or not keyframe.points)  # it colors nothing past its end
    qtbot.keyClick(w, QtCore.Qt.Key.Key_Z, QtCore.Qt.KeyboardModifier.ControlModifier)
    assert w.doc.keyframe(0).points[0].life.always
    at_frame(w, qtbot, 3)
    w.select(("point", 0))
    monkeypatch.setattr(QtWidgets.QInputDialog, "getInt", lambda *args: (5, True))
    qtbot.keyClick(w, QtCore.Qt.Key.Key_M)  # mute from here to the frame the dialog gives
    assert w.doc.keyframe(0).points[0].life.mute == ((3, 5),)
    assert spans(w) == [((0, 2), (6, 9))] and "muted 3-5" in w.life_row.label.text()
    keyframe, _ = w.shown_keyframe()
    w.go_to(0)
    w.select(("point", 0))
    w.life_row.carry.activated.emit(1)  # forward only, chosen in the box
    assert w.doc.keyframe(0).points[0].life == Lifetime(mute=((3, 5),), carry="forward")
    assert all(w.shown_keyframe()[0] is None for _ in [at_frame(w, qtbot, 4)])  # muted: not shown
    w.go_to(0)  # selected where it shows: unmute takes away every muted range
    w.select(("point", 0))
    w.life_row.buttons["unmute"].click()
    assert w.doc.keyframe(0).points[0].life == Lifetime(carry="forward")
    w.save()
    saved = load_hints(tmp_path / "h.hints.json")
    assert saved.keyframes[0].points[0].life == Lifetime(carry="forward")


def test_edits_need_a_selection_and_a_start_after_the_end_is_refused(qtbot: QtBot, tmp_path: Path) -> None:
    w, _ = carrying_window(qtbot, tmp_path, Slow())
    said: list[str] = []
    w.controller.on_message = said.append
    click(w, 35, 45)
    w.select(None)
    qtbot.keyClick(w, QtCore.Qt.Key.Key_BracketRight)
    assert said[-1].startswith("select a hint first") and w.doc.keyframe(0).points[0].life.always
    assert not w.life_row.buttons["end"].isEnabled() and w.life_row.label.text() == describe(None)
    w.select(("point", 0))
    w.lifetimes.start_here()  # on its keyframe, frame 0: as it was
    assert w.doc.keyframe(0).points[0].life == Lifetime(first=0)
    w.doc.set_life(0, "point", 0, Lifetime(first=3))  # it starts at frame 3
    w.select(("point", 0))  # on its keyframe, where it does not color but is the artist's own
    w.lifetimes.end_here()
    assert said[-1] == "not changed: from 3 is after until 0"
    assert w.doc.keyframe(0).points[0].life == Lifetime(first=3)
