"""The paint window's guidance: numbered rings where the next hint pays most (a click on one
places a point there), and the shot's suggested keyframes on the timeline (J jumps to them)."""

from __future__ import annotations

import math
from pathlib import Path

import cv2
import numpy as np
from PySide6 import QtCore
from pytestqt.qtbot import QtBot

from vscolorize.core.footage import MemoryStore
from vscolorize.core.propagation import HintCarrier
from vscolorize.core.sources import LightnessSource
from vscolorize.ui.window import PaintWindow

from .test_window import OPTIMIZATION, RED, Ramp, click, show, window  # noqa: F401  (a fixture)


def test_where_next_rings_follow_the_hints_and_a_click_on_one_places_a_point_there(
    window: PaintWindow,  # noqa: F811
    qtbot: QtBot,
) -> None:
    w = window
    assert w.tools.where_next.isVisible()  # a learned model is installed: the places can be ranked
    with qtbot.waitSignal(w.jobs.placed, timeout=30_000):
        qtbot.keyClick(w, QtCore.Qt.Key.Key_N)
    assert w.tools.where_next.isChecked() and len(w.guidance.places) == 3
    rings = w.guidance.marks.rings.getData()
    assert [(float(x), float(y)) for x, y in zip(*rings, strict=True)] == w.guidance.places
    assert [label.toPlainText() for label in w.guidance.marks.labels] == ["1", "2", "3"]
    first = w.guidance.places[0]
    w.set_color(RED)
    with qtbot.waitSignal(w.jobs.placed, timeout=30_000):  # the places of the hints now
        click(w, first[0] + 2, first[1] - 2)  # near the ring: the point goes on the ring
    (point,) = w.doc.keyframe(0).points
    assert math.dist((point.x * 160, point.y * 96), first) < 0.01 and point.color == RED
    # the next rings keep away from the hint just placed
    assert all(math.dist(place, first) > 10 for place in w.guidance.places)
    qtbot.keyClick(w, QtCore.Qt.Key.Key_N)
    assert not w.guidance.places and not w.guidance.marks.labels
    click(w, 20, 20)  # with the rings off a click places a point where it is
    assert math.dist((w.doc.keyframe(0).points[1].x * 160, w.doc.keyframe(0).points[1].y * 96), (20, 20)) < 1


class Entering(LightnessSource):
    """40 frames of a still textured picture that a textured square slides into from the right
    at frame 17, whole 3 frames later and at rest from then on."""

    width, height, count = 96, 64, 40
    entry = 17
    _rng = np.random.default_rng(0)
    background = cv2.GaussianBlur(_rng.uniform(20, 80, (64, 96)).astype(np.float32), (0, 0), 1.5)
    thing = cv2.GaussianBlur(_rng.uniform(40, 100, (24, 24)).astype(np.float32), (0, 0), 1.0)

    def lightness(self, n: int) -> np.ndarray:
        picture = self.background.copy()
        if n >= self.entry:
            left = max(self.width - 8 * (n - self.entry + 1), self.width - 30)
            seen = picture[20:44, left : left + 24]
            seen[:] = self.thing[:, : seen.shape[1]]
        return picture


def test_suggested_keyframes_show_on_the_timeline_and_j_jumps_to_them(qtbot: QtBot, tmp_path: Path) -> None:
    source = Entering()
    carried = HintCarrier(source, store=MemoryStore())
    w = PaintWindow(
        source, tmp_path / "h.hints.json", settings=OPTIMIZATION, recover="no", propagated=carried
    )
    qtbot.addWidget(w)
    show(w, qtbot)
    click(w, 30, 25)  # a keyframe at frame 0
    with qtbot.waitSignal(w.jobs.keyframes_found, timeout=60_000):
        w.navigation.suggest_button.click()
    frames = w.bar.suggested
    assert frames and source.entry <= frames[0] <= source.entry + 5, frames
    assert w.guidance.keyframes[0].frame == frames[0]
    qtbot.keyClick(w, QtCore.Qt.Key.Key_J)
    assert w.frame == min(frames)
    w.go_to(source.count - 1)
    qtbot.keyClick(w, QtCore.Qt.Key.Key_J, QtCore.Qt.KeyboardModifier.ShiftModifier)
    assert w.frame == max(frames)
    qtbot.keyClick(w, QtCore.Qt.Key.Key_J)  # none after the last: it stays
    assert w.frame == max(frames)
