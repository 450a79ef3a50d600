"""The paint window driven like an artist would, offscreen (QT_QPA_PLATFORM=offscreen)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6 import QtCore, QtGui, QtWidgets
from pytestqt.qtbot import QtBot

from vscolorize.core.color import srgb_to_lab
from vscolorize.core.footage import MemoryStore
from vscolorize.core.hints import Color, Hints, Keyframe, load_hints
from vscolorize.core.images import write_image
from vscolorize.core.motion import Pair
from vscolorize.core.pipeline import FramePipeline, Settings
from vscolorize.core.propagation import HintCarrier
from vscolorize.core.sources import LightnessSource, PictureSource
from vscolorize.ui.controller import Tool
from vscolorize.ui.document import autosave_path
from vscolorize.ui.widgets import CompareBar, color_to_qcolor, qcolor_to_color
from vscolorize.ui.window import PaintWindow

RED = Color(ab=(60.0, 45.0))
OPTIMIZATION = Settings(method="optimization")

# pyqtgraph drops mouse moves closer than 10 ms apart; synthesized ones come faster than that
pg.setConfigOption("mouseRateLimit", -1)


class Ramp(LightnessSource):
    """Five 160x96 frames: a horizontal lightness ramp, a bright square moving right."""

    width, height, count = 160, 96, 5

    def lightness(self, n: int) -> np.ndarray:
        frame = np.tile(np.linspace(20, 80, self.width, dtype=np.float32), (self.height, 1))
        frame[30:60, 20 + 10 * n : 50 + 10 * n] = 95
        return frame


@pytest.fixture
def window(qtbot: QtBot, tmp_path: Path) -> PaintWindow:
    w = PaintWindow(Ramp(), tmp_path / "clip.hints.json", settings=OPTIMIZATION, recover="no")
    qtbot.addWidget(w)
    show(w, qtbot)
    return w


def show(w: PaintWindow, qtbot: QtBot) -> None:
    """Up, active (its shortcuts work), the whole frame in view."""
    w.show()
    w.activateWindow()
    qtbot.waitActive(w)
    # the layout settles over a few events: map frame pixels to the screen once the canvas has
    # kept the same place for one turn of the event loop
    places: list[QtCore.QRectF] = []

    def laid_out() -> bool:
        places.append(w.canvas.sceneBoundingRect())
        return len(places) > 1 and not places[-1].isEmpty() and places[-1] == places[-2]

    qtbot.waitUntil(laid_out)
    w.canvas.setRange(QtCore.QRectF(0, 0, 160, 96), padding=0)
    w.canvas.updateMatrix()
    QtWidgets.QApplication.processEvents()


def shown_preview(w: PaintWindow, qtbot: QtBot, frame: int | None = None) -> AbstractContextManager[object]:
    """Around an action: wait until its full-quality preview (of ``frame``) is on screen."""

    def full(shown: int, draft: bool) -> bool:
        return not draft and (frame is None or shown == frame)

    return qtbot.waitSignal(w.preview_shown, check_params_cb=full, timeout=30_000)


def to_viewport(w: PaintWindow, x: float, y: float) -> QtCore.QPoint:
    scene = w.canvas.mapViewToScene(QtCore.QPointF(x, y))
    view = w.canvas.scene().views()[0]
    return view.mapFromScene(scene)


def mouse(
    w: PaintWindow,
    kind: QtCore.QEvent.Type,
    x: float,
    y: float,
    button: QtCore.Qt.MouseButton = QtCore.Qt.MouseButton.LeftButton,
) -> None:
    view = w.canvas.scene().views()[0]
    pos = QtCore.QPointF(to_viewport(w, x, y))
    held = QtCore.Qt.MouseButton.NoButton if kind == QtCore.QEvent.Type.MouseButtonRelease else button
    event = QtGui.QMouseEvent(
        kind, pos, view.viewport().mapToGlobal(pos), button, held, QtCore.Qt.KeyboardModifier.NoModifier
    )
    QtWidgets.QApplication.sendEvent(view.viewport(), event)


def click(
    w: PaintWindow, x: float, y: float, button: QtCore.Qt.MouseButton = QtCore.Qt.MouseButton.LeftButton
) -> None:
    mouse(w, QtCore.QEvent.Type.MouseButtonPress, x, y, button)
    mouse(w, QtCore.QEvent.Type.MouseButtonRelease, x, y, button)


def drag(w: PaintWindow, path: list[tuple[float, float]]) -> None:
    mouse(w, QtCore.QEvent.Type.MouseButtonPress, *path[0])
    for x, y in path[1:]:
        mouse(w, QtCore.QEvent.Type.MouseMove, x, y)
    mouse(w, QtCore.QEvent.Type.MouseButtonRelease, *path[-1])


def test_clicks_and_drags_paint_hints_and_undo_removes_them(window: PaintWindow, qtbot: QtBot) -> None:
    window.set_color(RED)
    click(window, 40, 20)
    click(window, 120, 70)
    points = window.doc.keyframe(0).points
    assert len(points) == 2 and points[0].color == RED
    assert abs(points[0].x * 160 - 40) < 1.5 and abs(points[0].y * 96 - 20) < 1.5
    drag(window, [(120, 70), (130, 75), (140, 80)])  # the point tool drags a point
    moved = window.doc.keyframe(0).points[1]
    assert abs(moved.x * 160 - 140) < 1.5 and abs(moved.y * 96 - 80) < 1.5
    window.set_tool(Tool.BRUSH)
    drag(window, [(10, 90), (60, 90), (100, 88)])
    (stroke,) = window.doc.keyframe(0).strokes
    assert len(stroke.path) > 3  # filled in between the mouse positions
    click(window, 40, 20, QtCore.Qt.MouseButton.RightButton)  # right-click deletes a point
    assert len(window.doc.keyframe(0).points) == 1
    qtbot.keyClick(window, QtCore.Qt.Key.Key_Z, QtCore.Qt.KeyboardModifier.ControlModifier)
    assert len(window.doc.keyframe(0).points) == 2
    qtbot.keyClick(
        window,
        QtCore.Qt.Key.Key_Z,
        QtCore.Qt.KeyboardModifier.ControlModifier | QtCore.Qt.KeyboardModifier.ShiftModifier,
    )
    assert len(window.doc.keyframe(0).points) == 1


def test_navigation_and_keyframes(window: PaintWindow, qtbot: QtBot) -> None:
    click(window, 40, 20)
    qtbot.keyClick(window, QtCore.Qt.Key.Key_Right)
    qtbot.keyClick(window, QtCore.Qt.Key.Key_Right)
    assert window.frame == 2 and window.navigation.slider.value() == 2 and window.navigation.spin.value() == 2
    qtbot.keyClick(window, QtCore.Qt.Key.Key_K)
    assert window.doc.hints.frames == (0, 2)
    window.go_to(4)
    qtbot.keyClick(window, QtCore.Qt.Key.Key_PageUp)
    assert window.frame == 2
    qtbot.keyClick(window, QtCore.Qt.Key.Key_PageUp)
    assert window.frame == 0


def test_preview_shows_the_hint_color(window: PaintWindow) -> None:
    window.set_color(RED)
    click(window, 100, 20)
    window.wait_for_previews()
    preview = window.preview_item.image
    assert preview is not None and preview.shape == (96, 160, 3)
    r, g, b = preview[20, 100].astype(int)
    assert r > g + 20 and r > b + 20
    assert any(not draft for draft, _ in window.preview_seconds)


def test_the_preview_shows_the_render_s_post_processing(qtbot: QtBot, tmp_path: Path) -> None:
    cleanup = {"postprocess": ("segment_fill",)}
    w = PaintWindow(
        Ramp(), tmp_path / "clip.hints.json", settings=OPTIMIZATION.replace(**cleanup), recover="no"
    )
    qtbot.addWidget(w)
    show(w, qtbot)
    w.set_color(RED)
    click(w, 100, 20)
    w.set_color(Color(ab=(-30.0, -40.0)))
    click(w, 10, 80)
    w.wait_for_previews()
    lightness, keyframe = Ramp().lightness(0), w.doc.keyframe(0)

    def render(**settings: object) -> np.ndarray:
        engine = FramePipeline(OPTIMIZATION.replace(**settings))
        return np.round(np.clip(engine.rgb(lightness, keyframe), 0, 1) * 255).astype(np.uint8)

    filled = render(**cleanup)
    assert np.abs(filled.astype(int) - render()).max() > 2  # the clean-up shows at all
    np.testing.assert_array_equal(w.preview_item.image, filled)


def test_ctrl_s_saves_a_file_the_node_accepts(window: PaintWindow, qtbot: QtBot, tmp_path: Path) -> None:
    import vapoursynth as vs

    import vscolorize

    click(window, 40, 20)
    qtbot.keyClick(window, QtCore.Qt.Key.Key_S, QtCore.Qt.KeyboardModifier.ControlModifier)
    path = tmp_path / "clip.hints.json"
    assert json.loads(path.read_text())["keyframes"][0]["frame"] == 0
    clip = vs.core.std.BlankClip(width=160, height=96, format=vs.GRAY8, length=5)
    out = vscolorize.colorize(clip, path, method="optimization")
    assert out.num_frames == 5


def test_autosave_is_offered_after_the_window_dies(qtbot: QtBot, tmp_path: Path) -> None:
    path = tmp_path / "clip.hints.json"
    first = PaintWindow(Ramp(), path, settings=OPTIMIZATION, recover="no")
    qtbot.addWidget(first)
    first.doc.add_point(0, 50, 50, RED)
    first.doc.autosave()  # what the timer does every few seconds
    first.deleteLater()  # killed: never saved
    assert not path.exists() and autosave_path(path).exists()
    again = PaintWindow(Ramp(), path, settings=OPTIMIZATION, recover="yes")
    qtbot.addWidget(again)
    assert len(again.doc.keyframe(0).points) == 1 and again.doc.modified
    again.save()
    assert load_hints(path).keyframe(0) is not None and not autosave_path(path).exists()


def test_a_scripted_session_renders_with_the_painted_colors(
    qtbot: QtBot, tmp_path: Path, make_video: Callable[..., Path]
) -> None:
    """3 points and a stroke on frame 0, frame 30 made a keyframe with a point, Ctrl+S; then
    ``vscolorize render`` with that file puts those colors in those places."""
    import subprocess
    import sys

    import vapoursynth as vs

    from vscolorize.render import open_video
    from vscolorize.sources import ClipSource

    video = make_video(tmp_path / "clip.mp4", "-frames:v", "40", "-vf", "format=gray")
    hints = tmp_path / "clip.hints.json"
    w = PaintWindow(ClipSource(open_video(video)), hints, settings=OPTIMIZATION, recover="no")
    qtbot.addWidget(w)
    show(w, qtbot)
    w.width_fraction = 0.08
    blue = Color(ab=(-5.0, -55.0))
    w.set_color(RED)
    for x, y in ((30, 30), (80, 30), (130, 30)):
        click(w, x, y)
    w.set_tool(Tool.BRUSH)
    drag(w, [(20, 80), (80, 80), (140, 80)])
    w.set_tool(Tool.POINT)
    w.go_to(30)
    qtbot.keyClick(w, QtCore.Qt.Key.Key_K)
    w.set_color(blue)
    click(w, 80, 50)
    qtbot.keyClick(w, QtCore.Qt.Key.Key_S, QtCore.Qt.KeyboardModifier.ControlModifier)
    saved = load_hints(hints)
    assert saved.frames == (0, 30)
    assert len(saved.keyframe(0).points) == 3 and len(saved.keyframe(0).strokes) == 1  # type: ignore[union-attr]

    out = tmp_path / "colored.mkv"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "vscolorize.cli",
            "render",
            str(video),
            "-o",
            str(out),
            "--hints",
            str(hints),
            "--method",
            "optimization",
            "--codec",
            "ffv1",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    rgb = open_video(out).resize.Point(format=vs.RGB24)

    def pixel(n: int, x: int, y: int) -> np.ndarray:
        frame = rgb.get_frame(n)
        return np.array([np.asarray(frame[i])[y, x] for i in range(3)], int)

    for x, y in ((30, 30), (80, 30), (130, 30), (80, 80)):
        r, g, b = pixel(0, x, y)
        assert r > g + 15 and r > b + 15, (x, y, (r, g, b))
    r, g, b = pixel(30, 80, 50)
    assert b > r + 15, (r, g, b)


def test_gamut_plane_offers_only_displayable_colors() -> None:
    from vscolorize.core.color import srgb_to_lab
    from vscolorize.ui.widgets import gamut_plane

    image, shown = gamut_plane(90.0)
    assert shown[110, 110]  # gray exists at every lightness
    assert not shown[0, 0] and not shown[220, 220]  # (-110, 110) and (110, -110) do not at L 90
    lab = srgb_to_lab(image[shown].astype(np.float32)[None] / 255)[0]
    assert np.abs(lab[:, 0] - 90).max() < 1.5  # every offered color has the asked lightness
    dark, _ = gamut_plane(20.0)
    assert shown.sum() != gamut_plane(20.0)[1].sum() and dark.shape == (221, 221, 3)


def test_eyedropper_and_gamut_plane_pick_colors(window: PaintWindow) -> None:
    window.set_color(RED)
    click(window, 100, 20)
    window.wait_for_previews()
    window.set_color(Color(ab=(0.0, 0.0)))
    window.pick_from_preview(100, 20)  # the preview is red where the hint is
    a, b = window.color.ab
    assert a > 15 and b > 10
    window.look_at(100, 20)
    assert abs(window.gamut.lightness - float(np.clip(window.lightness(0)[20, 100], 1, 99))) <= 0.5
    window.gamut.picked.emit(-20.0, 30.0)
    assert window.color.ab == (-20.0, 30.0)


def test_the_model_suggests_colors_for_a_clicked_point(window: PaintWindow) -> None:
    """With the shipped model: a click offers its guesses; taking one recolors that point."""
    from vscolorize.core.engines.learned import installed_models

    if not installed_models():
        pytest.skip("no model weights are installed")
    window.set_color(RED)
    click(window, 40, 20)
    window.wait_for_previews()  # suggestions come from a worker thread
    suggestions = window.suggestions
    assert 1 <= len(suggestions) <= 4
    assert all(np.hypot(*c.ab) <= 128 for c in suggestions)
    for i, c in enumerate(suggestions):  # distinct colors only
        assert all(np.hypot(c.ab[0] - d.ab[0], c.ab[1] - d.ab[1]) > 6 for d in suggestions[:i])
    window._take_suggestion(suggestions[-1])
    assert window.doc.keyframe(0).points[0].color == suggestions[-1]
    assert window.color == suggestions[-1]


def test_reference_picture_eyedropper(window: PaintWindow, tmp_path: Path) -> None:
    import cv2

    picture = np.zeros((40, 60, 3), np.uint8)
    picture[:, :30] = (40, 160, 40)  # RGB green on the left
    picture[:, 30:] = (200, 40, 40)  # red on the right
    path = tmp_path / "costume.png"
    cv2.imwrite(str(path), picture[..., ::-1])
    assert not window.view.reference_view.isVisible()
    assert window.open_reference(path) and window.view.reference_view.isVisible()
    window.pick_from_reference(10, 20)
    assert window.color.ab[0] < -30  # green: negative a*
    window.pick_from_reference(50, 20)
    assert window.color.ab[0] > 40  # red
    window.pick_from_reference(500, 20)  # outside: nothing changes
    assert window.color.ab[0] > 40


def carrying_window(qtbot: QtBot, tmp_path: Path, source: Ramp) -> tuple[PaintWindow, HintCarrier]:
    """A shown window on ``source`` whose carried hints are tracked over an in-memory store."""
    carried = HintCarrier(source, store=MemoryStore())
    w = PaintWindow(
        source, tmp_path / "h.hints.json", settings=OPTIMIZATION, recover="no", propagated=carried
    )
    qtbot.addWidget(w)
    show(w, qtbot)
    return w, carried


def test_jumps_to_scene_cuts(qtbot: QtBot, tmp_path: Path) -> None:
    class TwoShots(Ramp):
        count = 8

        def lightness(self, n: int) -> np.ndarray:
            frame = super().lightness(0)
            # another shot: another picture (a change of exposure alone is no cut)
            return frame if n < 5 else np.ascontiguousarray(frame[::-1, ::-1])

    source = TwoShots()
    w, carried = carrying_window(qtbot, tmp_path, source)
    assert carried.shot(2) == range(5)
    qtbot.keyClick(w, QtCore.Qt.Key.Key_PageDown, QtCore.Qt.KeyboardModifier.ShiftModifier)
    assert w.frame == 5
    qtbot.keyClick(w, QtCore.Qt.Key.Key_PageUp, QtCore.Qt.KeyboardModifier.ShiftModifier)
    assert w.frame == 5  # no cut before it
    w.go_to(7)
    qtbot.keyClick(w, QtCore.Qt.Key.Key_PageUp, QtCore.Qt.KeyboardModifier.ShiftModifier)
    assert w.frame == 5


def test_killed_mid_session_the_autosave_is_offered(qtbot: QtBot, tmp_path: Path) -> None:
    """A real process paints a point, lets the autosave timer fire, and is killed (SIGKILL)."""
    import subprocess
    import sys
    import textwrap

    path = tmp_path / "clip.hints.json"
    script = textwrap.dedent(f"""
        import os, signal, sys
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        from PySide6 import QtCore, QtWidgets
        from vscolorize.core.hints import Color
        from vscolorize.ui.window import AUTOSAVE_MS, PaintWindow
        from test_window import OPTIMIZATION, Ramp
        app = QtWidgets.QApplication([])
        w = PaintWindow(Ramp(), {str(path)!r}, settings=OPTIMIZATION, recover="no")
        w.show()
        w.doc.add_point(0, 50, 50, Color(ab=(60.0, 45.0)))
        QtCore.QTimer.singleShot(AUTOSAVE_MS + 1500, lambda: os.kill(os.getpid(), signal.SIGKILL))
        app.exec()
    """)
    env = {**__import__("os").environ, "QT_QPA_PLATFORM": "offscreen"}
    result = subprocess.run(
        [sys.executable, "-c", script], env=env, timeout=120, capture_output=True, text=True
    )
    assert result.returncode == -9, result.stderr  # killed, never saved
    assert not path.exists()
    again = PaintWindow(Ramp(), path, settings=OPTIMIZATION, recover="yes")
    qtbot.addWidget(again)
    assert len(again.doc.keyframe(0).points) == 1 and again.doc.modified


def test_the_window_says_how_far_carrying_hints_has_come(qtbot: QtBot, tmp_path: Path) -> None:
    import threading

    class Stalling(MemoryStore):
        """Keeps the motion of three steps, then stalls until let through: the carrying stops
        at frame 3 meanwhile."""

        let_through = threading.Event()

        def put(self, key: str, pair: Pair) -> None:
            if len(self._pairs) >= 3:
                self.let_through.wait(30)
            super().put(key, pair)

    class Longer(Ramp):
        count = 12

        def lightness(self, n: int) -> np.ndarray:
            return super().lightness(n % 5)

    store = Stalling()
    carried = HintCarrier(Longer(), store=store)
    w = PaintWindow(
        carried.footage.source,
        tmp_path / "h.hints.json",
        settings=OPTIMIZATION,
        recover="no",
        propagated=carried,
    )
    qtbot.addWidget(w)
    show(w, qtbot)
    click(w, 35, 45)
    w.go_to(4)
    assert w.carried_pending()

    def notice() -> str:
        return str(w.view.notice.textItem.toPlainText()) if w.view.notice.isVisible() else ""

    qtbot.waitUntil(lambda: notice() == "carrying hints: frame 3 of 4", timeout=20_000)
    store.let_through.set()  # the window was never blocked meanwhile: it kept looking
    qtbot.waitUntil(lambda: not w.carried_pending(), timeout=30_000)
    assert "carrying" not in notice() and not w._carrying.isActive()


def test_propagated_hints_show_on_other_frames_without_blocking(qtbot: QtBot, tmp_path: Path) -> None:
    source = Ramp()
    calls: list[int] = []

    class Counted(HintCarrier):
        def keyframe(self, hints: Hints, n: int) -> Keyframe | None:
            calls.append(len(hints.keyframes))
            return super().keyframe(hints, n)

    carried = Counted(source, store=MemoryStore())
    w = PaintWindow(
        source, tmp_path / "h.hints.json", settings=OPTIMIZATION, recover="no", propagated=carried
    )
    qtbot.addWidget(w)
    show(w, qtbot)
    click(w, 35, 45)  # on the moving square of frame 0
    w.go_to(2)
    assert w.shown_keyframe() == (None, False)  # not yet: tracking runs in the background
    assert "tracking hints" in w.status.text()  # and the window says so
    w.wait_for_previews()
    keyframe, own = w.shown_keyframe()
    assert not own and keyframe is not None and len(keyframe.points) == 1
    assert 35 + 15 < keyframe.points[0].x * 160 < 35 + 23  # it moved with the square (20 px)
    assert calls and calls[-1] == 1


def when_modal(kind: type[QtWidgets.QDialog], act: Callable[[QtWidgets.QDialog], None]) -> None:
    """Run ``act`` on the next modal dialog of ``kind`` once it is up (it runs its own event
    loop, which is where the timer fires)."""

    def poll() -> None:
        dialog = QtWidgets.QApplication.activeModalWidget()
        if isinstance(dialog, kind):
            act(dialog)
        else:
            QtCore.QTimer.singleShot(20, poll)

    QtCore.QTimer.singleShot(0, poll)


def _leave_autosave(path: Path) -> None:
    """What a session killed before saving leaves behind: one point in the recovery file."""
    from vscolorize.ui.document import HintDocument

    lost = HintDocument(160, 96, path=path)
    lost.add_point(0, 50, 50, RED)
    lost.autosave()
    assert HintDocument.recoverable(path) is not None


def test_declining_recovery_removes_the_autosave(qtbot: QtBot, tmp_path: Path) -> None:
    path = tmp_path / "clip.hints.json"
    _leave_autosave(path)
    w = PaintWindow(Ramp(), path, settings=OPTIMIZATION, recover="no")
    qtbot.addWidget(w)
    assert w.doc.keyframe(0).points == () and not autosave_path(path).exists()


def test_no_in_the_recovery_dialog_removes_the_autosave(qtbot: QtBot, tmp_path: Path) -> None:
    path = tmp_path / "clip.hints.json"
    _leave_autosave(path)
    answered: list[str] = []

    def answer_no(box: QtWidgets.QDialog) -> None:
        assert isinstance(box, QtWidgets.QMessageBox)
        answered.append(box.text())
        qtbot.mouseClick(
            box.button(QtWidgets.QMessageBox.StandardButton.No), QtCore.Qt.MouseButton.LeftButton
        )

    when_modal(QtWidgets.QMessageBox, answer_no)
    w = PaintWindow(Ramp(), path, settings=OPTIMIZATION, recover="ask")
    qtbot.addWidget(w)
    assert answered and "unsaved work" in answered[0]
    assert w.doc.keyframe(0).points == () and not autosave_path(path).exists()


def test_start_up_offers_a_neutral_color_a_palette_and_a_gamut_plane(window: PaintWindow) -> None:
    assert window.color.ab == (0.0, 0.0)  # a first click on grass does not paint it salmon
    assert window.palette_row.count() >= 4  # a few usual colors to start from
    plane = window.gamut.item.image
    assert window.gamut.lightness == 50 and "L* 50" in window.side.gamut_label.text()
    assert plane is not None and np.ptp(plane.astype(int), axis=-1).max() > 100  # colors, not black
    assert window.notice.isVisible() and "no hints" in window.notice.toPlainText()
    click(window, 35, 45)  # on the bright square: the plane follows that pixel's lightness
    assert abs(window.gamut.lightness - 95) <= 0.5 and "L* 95" in window.side.gamut_label.text()
    assert window.doc.keyframe(0).points[0].color.ab == (0.0, 0.0)
    assert not window.notice.isVisible()


def test_the_preview_says_when_carried_hints_are_not_there_yet(qtbot: QtBot, tmp_path: Path) -> None:
    source = Ramp()
    w, _ = carrying_window(qtbot, tmp_path, source)
    w.set_color(RED)
    click(w, 35, 45)

    def on_frame_2(hints: Hints, frame: int, keyframe: Keyframe | None) -> bool:
        return frame == 2 and hints is w.doc.hints

    with qtbot.waitSignal(w.jobs.tracked, check_params_cb=on_frame_2, timeout=60_000):
        w.go_to(2)
        assert w.notice.isVisible() and "carrying" in w.notice.toPlainText()  # not silently gray
    assert w.shown_keyframe()[0] is not None and not w.notice.isVisible()


def _ring(image: QtGui.QImage, center: QtCore.QPoint, inner: float, outer: float) -> list[int]:
    """The gray levels of the screen pixels between ``inner`` and ``outer`` from ``center``."""
    levels = []
    for dy in range(-int(outer), int(outer) + 1):
        for dx in range(-int(outer), int(outer) + 1):
            if inner <= np.hypot(dx, dy) <= outer:
                levels.append(QtGui.qGray(image.pixel(center.x() + dx, center.y() + dy)))
    return levels


def test_points_are_filled_with_their_color_and_ringed_light_and_dark(window: PaintWindow) -> None:
    blue = Color(ab=(-5.0, -55.0))
    window.set_color(RED)
    click(window, 35, 45)  # on the bright square (L* 95)
    window.set_color(blue)
    click(window, 5, 80)  # on the dark end of the ramp (L* 22)
    fills = [spot.brush().color().name() for spot in window.view.layer.marks.points()]
    assert fills == [color_to_qcolor(RED).name(), color_to_qcolor(blue).name()]
    QtWidgets.QApplication.processEvents()
    screen = window.view.viewport().grab().toImage()
    for x, y in ((35, 45), (5, 80)):
        center = to_viewport(window, x, y)
        inside = QtGui.QColor(screen.pixel(center)).name()
        assert inside == fills[0 if x == 35 else 1]  # the marker shows the hint's own color
        ring = _ring(screen, center, 4.5, 9.5)
        assert min(ring) < 40 and max(ring) > 215, (x, y)  # seen on light and on dark pictures


def test_a_clicked_hint_is_selected_recolored_and_deleted(window: PaintWindow, qtbot: QtBot) -> None:
    window.set_color(RED)
    click(window, 40, 20)
    click(window, 120, 70)
    window.set_tool(Tool.BRUSH)
    drag(window, [(10, 88), (60, 88), (100, 88)])
    window.set_tool(Tool.POINT)
    assert window.selected is None  # placing does not select: the next color is the next hint's

    def points() -> list[Color]:
        return [p.color for p in window.doc.keyframe(0).points]

    click(window, 40, 20)  # an existing point: selected, no new one
    assert window.selected == ("point", 0) and len(points()) == 2
    (ring,) = window.view.layer.selected_ring.points()  # highlighted
    assert abs(ring.pos().x() - 40) < 1.5 and abs(ring.pos().y() - 20) < 1.5
    # a click on the gamut plane recolors it
    plane = window.gamut.getViewBox()
    spot = window.gamut.mapFromScene(plane.mapViewToScene(QtCore.QPointF(-30, 40)))
    with qtbot.waitSignal(window.gamut.picked):
        qtbot.mouseClick(window.gamut.viewport(), QtCore.Qt.MouseButton.LeftButton, pos=spot)
    a, b = points()[0].ab
    assert abs(a + 30) < 3 and abs(b - 40) < 3 and points()[1] == RED
    qtbot.keyClick(window, QtCore.Qt.Key.Key_Z, QtCore.Qt.KeyboardModifier.ControlModifier)
    assert points() == [RED, RED]  # undo takes the recoloring back

    click(window, 35, 89)  # the stroke, between two of its mouse positions
    assert window.selected == ("stroke", 0) and len(points()) == 2
    assert len(window.view.layer.selected_path.xData) >= 2  # highlighted along its path

    def stroke() -> Color:
        return window.doc.keyframe(0).strokes[0].color

    def choose_blue(dialog: QtWidgets.QDialog) -> None:
        assert isinstance(dialog, QtWidgets.QColorDialog)
        dialog.setCurrentColor(QtGui.QColor(40, 90, 200))
        ok = dialog.findChild(QtWidgets.QDialogButtonBox).button(  # type: ignore[union-attr]
            QtWidgets.QDialogButtonBox.StandardButton.Ok
        )
        qtbot.mouseClick(ok, QtCore.Qt.MouseButton.LeftButton)

    when_modal(QtWidgets.QColorDialog, choose_blue)
    qtbot.mouseClick(window.tools.color_button, QtCore.Qt.MouseButton.LeftButton)
    assert stroke() == qcolor_to_color(QtGui.QColor(40, 90, 200)) == window.color
    window._take_suggestion(Color(ab=(-40.0, 30.0)))  # what a suggestion's swatch does
    assert stroke() == Color(ab=(-40.0, 30.0)) and points() == [RED, RED]
    window.wait_for_previews()
    window.pick_from_preview(120, 70)  # the eyedropper, on the red point
    assert stroke() == window.color and stroke().ab[0] > 15

    qtbot.keyClick(window, QtCore.Qt.Key.Key_Delete)
    assert window.doc.keyframe(0).strokes == () and window.selected is None
    qtbot.keyClick(window, QtCore.Qt.Key.Key_Z, QtCore.Qt.KeyboardModifier.ControlModifier)
    assert len(window.doc.keyframe(0).strokes) == 1
    click(window, 120, 70)
    qtbot.keyClick(window, QtCore.Qt.Key.Key_Delete)
    assert len(points()) == 1 and window.doc.keyframe(0).points[0].x < 0.5


# --- correcting any frame ---------------------------------------------------------------------


def carried_window(qtbot: QtBot, tmp_path: Path) -> PaintWindow:
    """A window whose hints are carried to other frames (motion kept in memory)."""
    return carrying_window(qtbot, tmp_path, Ramp())[0]


def go_and_wait_for_carried(w: PaintWindow, qtbot: QtBot, frame: int) -> Keyframe:
    """Go to ``frame`` and wait until the hints carried there are shown."""

    def there(hints: Hints, n: int, keyframe: Keyframe | None) -> bool:
        return n == frame and hints is w.doc.hints

    with qtbot.waitSignal(w.jobs.tracked, check_params_cb=there, timeout=60_000):
        w.go_to(frame)
    keyframe, own = w.shown_keyframe()
    assert keyframe is not None and not own
    return keyframe


BLUE = Color(ab=(-5.0, -55.0))


def test_a_correction_on_a_carried_frame_adds_to_its_carried_hints(qtbot: QtBot, tmp_path: Path) -> None:
    w = carried_window(qtbot, tmp_path)
    w.set_color(RED)
    click(w, 35, 45)  # on the moving square of frame 0
    carried = go_and_wait_for_carried(w, qtbot, 2)
    assert not w.keyframe_box.isChecked() and w.bar.frames == (0,)
    w.set_color(BLUE)
    click(w, 130, 80)  # a correction: one more point on frame 2
    two = w.doc.keyframe(2)
    assert [p.color for p in two.points] == [RED, BLUE]  # the carried point stays
    assert two.points[0].x == carried.points[0].x and "propagated_from" not in two.points[0].extra
    assert w.keyframe_box.isChecked() and w.bar.frames == (0, 2)  # box and bar agree
    assert w.shown_keyframe() == (two, True)
    qtbot.keyClick(w, QtCore.Qt.Key.Key_Z, QtCore.Qt.KeyboardModifier.ControlModifier)
    assert w.doc.hints.frames == (0,) and not w.keyframe_box.isChecked()  # one undo: all of it

    # a brush stroke on frame 3 keeps the carried point too
    go_and_wait_for_carried(w, qtbot, 3)
    w.set_tool(Tool.BRUSH)
    drag(w, [(100, 10), (130, 10), (150, 12)])
    three = w.doc.keyframe(3)
    assert len(three.points) == 1 and len(three.strokes) == 1 and w.bar.frames == (0, 3)

    # a carried point is selected where it was carried to; recoloring it makes frame 4 a keyframe
    w.set_tool(Tool.POINT)
    carried = go_and_wait_for_carried(w, qtbot, 4)
    x, y = carried.points[0].x * 160, carried.points[0].y * 96
    click(w, x, y)
    assert w.selected == ("point", 0) and 4 not in w.doc.hints.frames  # selecting is no edit
    w.set_color(BLUE)
    assert [p.color for p in w.doc.keyframe(4).points] == [BLUE]
    assert w.keyframe_box.isChecked() and 4 in w.bar.frames


def test_the_keyframe_box_starts_a_keyframe_from_the_carried_hints(qtbot: QtBot, tmp_path: Path) -> None:
    w = carried_window(qtbot, tmp_path)
    click(w, 35, 45)
    go_and_wait_for_carried(w, qtbot, 1)
    qtbot.keyClick(w, QtCore.Qt.Key.Key_K)
    assert len(w.doc.keyframe(1).points) == 1 and w.keyframe_box.isChecked()


def test_an_edit_before_the_carried_hints_arrive_is_refused_and_said(qtbot: QtBot, tmp_path: Path) -> None:
    w = carried_window(qtbot, tmp_path)
    click(w, 35, 45)
    with qtbot.waitSignal(w.jobs.tracked, timeout=60_000):
        w.go_to(2)
        assert w.carried_pending()
        click(w, 130, 80)  # too early: it would make a keyframe holding only this point
        assert w.doc.hints.frames == (0,) and not w.keyframe_box.isChecked()
        assert "still being carried" in w.statusBar().currentMessage()
    qtbot.waitUntil(lambda: not w.carried_pending())
    click(w, 130, 80)  # now it adds to them
    assert len(w.doc.keyframe(2).points) == 2


def test_removing_a_keyframe_is_said_and_undone(window: PaintWindow, qtbot: QtBot) -> None:
    click(window, 40, 20)
    assert window.keyframe_box.isChecked() and window.bar.frames == (0,)
    qtbot.mouseClick(
        window.keyframe_box,
        QtCore.Qt.MouseButton.LeftButton,
        pos=QtCore.QPoint(5, window.keyframe_box.height() // 2),
    )
    assert window.doc.hints.frames == () and not window.keyframe_box.isChecked()
    assert window.bar.frames == () and "Ctrl+Z" in window.statusBar().currentMessage()
    qtbot.keyClick(window, QtCore.Qt.Key.Key_Z, QtCore.Qt.KeyboardModifier.ControlModifier)
    assert len(window.doc.keyframe(0).points) == 1
    assert window.keyframe_box.isChecked() and window.bar.frames == (0,)  # box and bar agree


# --- typed colors and sizes -------------------------------------------------------------------


def test_parse_color_reads_hex_and_lab() -> None:
    from vscolorize.ui.widgets import parse_color

    assert parse_color(" #3060C0 ") == (Color.from_rgb("#3060c0"), None)
    assert parse_color("3060c0")[0].rgb == "#3060c0"
    assert parse_color("70 -40 30.5") == (Color(ab=(-40.0, 30.5)), 70.0)
    assert parse_color("50, 12, -7")[0].ab == (12.0, -7.0)
    for bad, why in (
        ("#12345", "#rrggbb"),
        ("red", "#rrggbb"),
        ("120 0 0", "L\\* 120"),
        ("50 200 0", "outside"),
    ):
        with pytest.raises(ValueError, match=why):
            parse_color(bad)


def type_into(qtbot: QtBot, entry: QtWidgets.QLineEdit, text: str) -> None:
    entry.setFocus()
    entry.selectAll()
    qtbot.keyClicks(entry, text)
    qtbot.keyClick(entry, QtCore.Qt.Key.Key_Return)


def test_typed_colors_recolor_the_selection(window: PaintWindow, qtbot: QtBot) -> None:
    click(window, 40, 20)
    click(window, 120, 70)
    click(window, 40, 20)  # selects the first point
    type_into(qtbot, window.color_entry, "#3060c0")
    points = window.doc.keyframe(0).points
    assert points[0].color == Color.from_rgb("#3060c0") == window.color
    assert points[1].color == Color(ab=(0.0, 0.0))
    type_into(qtbot, window.color_entry, "70 -40 30")
    assert window.doc.keyframe(0).points[0].color == Color(ab=(-40.0, 30.0)) == window.color
    assert window.gamut.lightness == 70  # the plane shows the lightness typed
    type_into(qtbot, window.color_entry, "no color")
    assert window.doc.keyframe(0).points[0].color == Color(ab=(-40.0, 30.0))
    assert "#rrggbb" in window.statusBar().currentMessage()
    qtbot.keyClick(window, QtCore.Qt.Key.Key_Z, QtCore.Qt.KeyboardModifier.ControlModifier)
    assert window.doc.keyframe(0).points[0].color == Color.from_rgb("#3060c0")
    qtbot.keyClick(window, QtCore.Qt.Key.Key_Escape)
    type_into(qtbot, window.color_entry, "#a8453a")  # nothing selected: the next hint's color
    click(window, 80, 80)
    assert window.doc.keyframe(0).points[2].color == Color.from_rgb("#a8453a")
    assert window.doc.keyframe(0).points[0].color == Color.from_rgb("#3060c0")


def test_the_size_box_resizes_the_selection_and_the_next_hint(window: PaintWindow, qtbot: QtBot) -> None:
    click(window, 40, 20)
    window.set_tool(Tool.BRUSH)
    drag(window, [(10, 88), (60, 88), (100, 88)])
    window.set_tool(Tool.POINT)
    click(window, 40, 20)
    assert window.size_spin.value() == pytest.approx(0.01)  # the point's diameter
    for _ in range(3):
        qtbot.keyClick(window.size_spin, QtCore.Qt.Key.Key_Up)
    assert window.doc.keyframe(0).points[0].radius == pytest.approx(0.016 / 2)
    click(window, 35, 89)  # the stroke: the box shows its width
    assert window.selected == ("stroke", 0) and window.size_spin.value() == pytest.approx(0.01)
    type_into(qtbot, window.size_spin.lineEdit(), "0.05")
    assert window.doc.keyframe(0).strokes[0].width == pytest.approx(0.05)
    qtbot.keyClick(window, QtCore.Qt.Key.Key_Z, QtCore.Qt.KeyboardModifier.ControlModifier)
    assert window.doc.keyframe(0).strokes[0].width == pytest.approx(0.01)
    qtbot.keyClick(window, QtCore.Qt.Key.Key_Z, QtCore.Qt.KeyboardModifier.ControlModifier)
    assert window.doc.keyframe(0).points[0].radius == pytest.approx(0.005)  # 3 steps: 1 undo
    qtbot.keyClick(window, QtCore.Qt.Key.Key_Escape)
    type_into(qtbot, window.size_spin.lineEdit(), "0.04")
    click(window, 120, 30)
    assert window.doc.keyframe(0).points[-1].radius == pytest.approx(0.02)


# --- the hint list ----------------------------------------------------------------------------


def rows(w: PaintWindow) -> list[list[str]]:
    items = [w.hint_list.topLevelItem(i) for i in range(w.hint_list.topLevelItemCount())]
    return [[item.text(c) for c in range(4)] for item in items if item is not None]


def test_the_hint_list_shows_the_frame_s_hints_and_selects_them(window: PaintWindow, qtbot: QtBot) -> None:
    window.set_color(RED)
    click(window, 40, 20)
    window.set_color(BLUE)
    click(window, 120, 70)
    window.set_tool(Tool.BRUSH)
    drag(window, [(10, 88), (60, 88), (100, 88)])
    window.set_tool(Tool.POINT)
    red, blue = color_to_qcolor(RED).name(), color_to_qcolor(BLUE).name()
    assert rows(window) == [
        [red, "point", "0", "0.010"],
        [blue, "point", "0", "0.010"],
        [blue, "stroke", "0", "0.010"],
    ]

    second = window.hint_list.topLevelItem(1)
    assert second is not None
    spot = window.hint_list.visualItemRect(second).center()
    qtbot.mouseClick(window.hint_list.viewport(), QtCore.Qt.MouseButton.LeftButton, pos=spot)
    assert window.selected == ("point", 1)  # as if clicked on the canvas
    (ring,) = window.view.layer.selected_ring.points()
    assert abs(ring.pos().x() - 120) < 1.5 and abs(ring.pos().y() - 70) < 1.5
    qtbot.keyClick(window, QtCore.Qt.Key.Key_Delete)
    assert [r[1] for r in rows(window)] == ["point", "stroke"]  # it follows edits

    click(window, 35, 89)  # the stroke, on the canvas: its row is selected
    (chosen,) = window.hint_list.selectedItems()
    assert chosen.text(1) == "stroke"
    qtbot.keyClick(window, QtCore.Qt.Key.Key_Z, QtCore.Qt.KeyboardModifier.ControlModifier)
    assert len(rows(window)) == 3  # ... undo
    window.go_to(1)
    assert rows(window) == []  # ... and frame changes
    window.go_to(0)
    assert len(rows(window)) == 3


def test_the_hint_list_shows_carried_hints_and_where_they_came_from(qtbot: QtBot, tmp_path: Path) -> None:
    w = carried_window(qtbot, tmp_path)
    click(w, 35, 45)
    go_and_wait_for_carried(w, qtbot, 2)
    ((kind, source),) = [r[1:3] for r in rows(w)]
    assert kind == "point" and re.fullmatch(r"0 \(carried, \d+ %\)", source), source
    item = w.hint_list.topLevelItem(0)
    assert item is not None
    qtbot.mouseClick(
        w.hint_list.viewport(),
        QtCore.Qt.MouseButton.LeftButton,
        pos=w.hint_list.visualItemRect(item).center(),
    )
    assert w.selected == ("point", 0)
    w.set_color(RED)  # recolors it: frame 2 becomes a keyframe
    assert rows(w)[0][1:3] == ["point", "2"] and w.doc.keyframe(2).points[0].color == RED


# --- compare ----------------------------------------------------------------------------------


def test_labeled_views_a_wipe_and_the_overlay_switch(window: PaintWindow, qtbot: QtBot) -> None:
    assert window.view.labels["hints"].text == "hints"
    assert window.view.labels["result"].text == "result"
    window.set_color(RED)
    click(window, 40, 20)
    click(window, 120, 20)
    window.wait_for_previews()

    def colored(x: int, y: int) -> bool:
        image = window.preview_item.image
        assert image is not None
        r, g, b = image[y, x].astype(int)
        return r > g + 20 and r > b + 20

    assert colored(40, 20) and colored(120, 20) and not window.view.wipe_line.isVisible()
    model = window.compare.against_box.model()
    assert isinstance(model, QtGui.QStandardItemModel)
    item = model.item(1)  # the ramp has no color: only the gray frame to compare with
    assert item is not None and item.text() == "original" and not item.isEnabled()
    assert window.compare.against == "gray"
    slider = window.compare.wipe
    slider.setFocus()
    qtbot.keyClick(slider, QtCore.Qt.Key.Key_Home)  # all gray: the frame as it came
    image = window.preview_item.image
    assert image is not None and (np.ptp(image.astype(int), axis=-1) == 0).all()
    for _ in range(5):
        qtbot.keyClick(slider, QtCore.Qt.Key.Key_PageUp)  # half: result left, gray right
    assert slider.value() == 50 and colored(40, 20) and not colored(120, 20)
    assert window.view.wipe_line.isVisible() and window.view.wipe_line.value() == 80
    window.pick_from_preview(120, 20)  # the eyedropper still picks the result's color
    assert window.color.ab[0] > 15

    assert window.view.layer.overlay.isVisible() and window.view.layer.marks.isVisible()
    qtbot.mouseClick(
        window.compare.overlay,
        QtCore.Qt.MouseButton.LeftButton,
        pos=QtCore.QPoint(5, window.compare.overlay.height() // 2),
    )
    assert not window.view.layer.overlay.isVisible() and not window.view.layer.marks.isVisible()
    qtbot.keyClick(window, QtCore.Qt.Key.Key_H)
    assert window.view.layer.overlay.isVisible() and window.view.layer.marks.isVisible()


class ColorClip(LightnessSource):
    """Three 160x96 color frames: a teal background, an orange square moving right (what a
    color video gives: its lightness and its color)."""

    width, height, count = 160, 96, 3
    has_color = True
    TEAL, ORANGE = (40, 140, 150), (230, 120, 40)

    def color(self, n: int) -> np.ndarray:
        rgb = np.empty((self.height, self.width, 3), np.uint8)
        rgb[:] = self.TEAL
        rgb[30:60, 90 + 10 * n : 120 + 10 * n] = self.ORANGE
        return rgb

    def lightness(self, n: int) -> np.ndarray:
        return srgb_to_lab(self.color(n).astype(np.float32) / 255)[..., 0]


def choose(box: QtWidgets.QComboBox, qtbot: QtBot, key: QtCore.Qt.Key) -> None:
    """The artist moves through a combo box with the arrow keys."""
    box.setFocus()
    qtbot.keyClick(box, key)


def test_the_wipe_compares_with_the_original_of_a_color_clip(qtbot: QtBot, tmp_path: Path) -> None:
    w = PaintWindow(ColorClip(), tmp_path / "color.hints.json", settings=OPTIMIZATION, recover="no")
    qtbot.addWidget(w)
    show(w, qtbot)
    compare = w.compare
    assert compare.against == CompareBar.GRAY and compare.against_box.isEnabled()
    w.set_color(RED)
    with shown_preview(w, qtbot, 0):
        click(w, 20, 20)
    slider = compare.wipe
    slider.setFocus()
    qtbot.keyClick(slider, QtCore.Qt.Key.Key_Home)
    for _ in range(5):
        qtbot.keyClick(slider, QtCore.Qt.Key.Key_PageUp)  # half: the result left of x 80
    with qtbot.waitSignal(compare.against_changed) as chosen:
        choose(compare.against_box, qtbot, QtCore.Qt.Key.Key_Down)
    assert chosen.args == [CompareBar.ORIGINAL] and compare.against == CompareBar.ORIGINAL
    image = w.preview_item.image
    assert image is not None
    np.testing.assert_array_equal(image[:, 80:], ColorClip().color(0)[:, 80:])  # as it came
    r, g, b = image[20, 20].astype(int)
    assert r > g + 20 and r > b + 20  # the result, left of the line

    qtbot.keyClick(w, QtCore.Qt.Key.Key_Right)
    with shown_preview(w, qtbot, 2):
        qtbot.keyClick(w, QtCore.Qt.Key.Key_Right)
    image = w.preview_item.image
    assert image is not None and tuple(image[45, 135]) == ColorClip.ORANGE  # frame 2's original
    np.testing.assert_array_equal(image[:, 80:], ColorClip().color(2)[:, 80:])

    with qtbot.waitSignal(compare.against_changed):
        choose(compare.against_box, qtbot, QtCore.Qt.Key.Key_Up)
    image = w.preview_item.image
    assert compare.against == CompareBar.GRAY
    assert image is not None and (np.ptp(image[:, 80:].astype(int), axis=-1) == 0).all()


def test_a_color_picture_compares_with_its_original_a_gray_one_only_with_gray(
    qtbot: QtBot, tmp_path: Path
) -> None:
    color = ColorClip().color(1)
    write_image(tmp_path / "color.png", color.astype(np.float32) / 255)
    gray = np.repeat(ColorClip().lightness(1)[..., None] / 100, 3, axis=-1)
    write_image(tmp_path / "gray.png", gray)
    picture = PictureSource(tmp_path / "color.png")
    assert picture.has_color and not PictureSource(tmp_path / "gray.png").has_color
    np.testing.assert_array_equal(picture.color(0), color)

    w = PaintWindow(picture, tmp_path / "color.hints.json", settings=OPTIMIZATION, recover="no")
    qtbot.addWidget(w)
    show(w, qtbot)
    with shown_preview(w, qtbot):
        click(w, 20, 20)  # a neutral point: the result is gray
    with qtbot.waitSignal(w.compare.against_changed):
        choose(w.compare.against_box, qtbot, QtCore.Qt.Key.Key_Down)
    w.compare.wipe.setFocus()
    qtbot.keyClick(w.compare.wipe, QtCore.Qt.Key.Key_Home)  # all the original
    np.testing.assert_array_equal(w.preview_item.image, color)

    g = PaintWindow(
        PictureSource(tmp_path / "gray.png"),
        tmp_path / "gray.hints.json",
        settings=OPTIMIZATION,
        recover="no",
    )
    qtbot.addWidget(g)
    show(g, qtbot)
    box = g.compare.against_box
    model = box.model()
    assert isinstance(model, QtGui.QStandardItemModel)
    original = model.item(1)
    assert original is not None and original.text() == "original" and not original.isEnabled()
    choose(box, qtbot, QtCore.Qt.Key.Key_Down)  # the original is not offered: still gray
    assert g.compare.against == CompareBar.GRAY


def test_paint_refuses_a_keyframe_past_the_end_before_opening(tmp_path: Path) -> None:
    from vscolorize.core.errors import HintError
    from vscolorize.core.hints import Hints, Keyframe, save_hints
    from vscolorize.ui import paint

    path = tmp_path / "late.hints.json"
    save_hints(Hints(keyframes=(Keyframe(frame=9),)), path)
    with pytest.raises(HintError, match=r"keyframe 9 is past the clip's last frame \(4\)"):
        paint(Ramp(), path)
