"""An artist's session in the paint window, driven by synthesized input, checked by a render.

Run it on a real X display (a virtual one is enough):

    xvfb-run -s "-screen 0 1600x900x24" python tools/paint_session.py --shots shots/ [INPUT]

It opens the window on INPUT (a video file) or on a generated clip (the demo's pan over the
astronaut), and with mouse and key events sent to the window's own widgets (QTest) colors it as
an artist would (the places are chosen for the generated clip): on frame 0, a skin point on the
face and a flag-red one on the flag (palette swatches), a point on the suit that the gamut plane
recolors to a flight-suit blue, the face point resized from the hint list and the size box, and
brush strokes of a typed wall color on the background. Then it goes to a frame that is not a
keyframe, waits for the hints carried there, selects the carried suit point and recolors it with
a typed L*a*b* launch-suit orange (the frame becomes a keyframe that starts from its carried
hints), adds a flag-blue point and an orange one on the suit's far side, and saves with
Ctrl+S. Then it renders the saved file with ``vscolorize.colorize`` and measures the mean a*b* at
the corrected place on that frame and its neighbors, before the correction and after. Exit
status 1 when a frame there does not carry the corrected color. Screenshots of each step go to
``--shots`` (the last but one, the corrected frame, is the README's ``docs/paint-window.png``).
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from vscolorize.core.color import lab_planes_to_srgb, srgb_to_lab
from vscolorize.core.hints import Color, Hints, load_hints

# the correction: the suit, carried blue, becomes a launch-suit orange (CIE L*a*b*, typed as the
# artist would) and its a*b*
CORRECTION_TYPED = "62 38 45"
CORRECTION_AB = (38.0, 45.0)
SUIT_AB = (-3.0, -33.0)  # the suit's first color, picked on the gamut plane: flight-suit blue
SKIN, FLAG_RED = "#d9a184", "#a8453a"  # starter palette swatches
WALL_TYPED = "80 2 7"  # the background wall, a warm light gray (L*a*b*)
FLAG_BLUE = "#3c3b6e"  # the flag's canton, typed on the corrected frame
# frame 0, fractions of width and height: a cheek, a red stripe of the flag, the suit's chest
FACE, FLAG, SUIT = (0.45, 0.22), (0.20, 0.40), (0.27, 0.72)
# the strokes on the wall: left of the head (by the flag), and between the head and the shuttle
WALL = (((0.33, 0.08), (0.34, 0.18), (0.33, 0.30)), ((0.72, 0.12), (0.72, 0.26), (0.72, 0.40)))
# on the corrected frame (first free place of each): the flag's blue, the suit's far side
CANTON = ((0.03, 0.06), (0.05, 0.04), (0.02, 0.12))
SUIT_FAR = ((0.70, 0.72), (0.68, 0.66), (0.72, 0.78))
# typed in the size box: diameters as a fraction of the short side, of every point and then of
# the face's
POINT_SIZE, RESIZED = "0.04", "0.07"


@dataclass
class SessionResult:
    """What a session did and measured.

    Attributes:
        frame: the corrected frame (not a keyframe before the correction).
        original: the a*b* the corrected point had before (carried from frame 0).
        measured: per frame (the corrected one and its neighbors): (x, y) where it was measured,
            the mean a*b* there before the correction and after it, and the corrected color as
            the render can show it there (chroma lowered where the lightness cannot hold it).
        problems: every check that failed (empty: the session passed).
    """

    hints_path: Path
    frame: int
    original: tuple[float, float] = (0.0, 0.0)
    measured: dict[int, tuple[tuple[float, float], ...]] = field(default_factory=dict)
    shots: list[Path] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def lines(self) -> list[str]:
        out = [
            f"corrected frame {self.frame}: from a*b* {_ab(self.original)} to "
            f"{_ab(CORRECTION_AB)} ({self.hints_path})"
        ]
        for n, (place, before, after, shown) in sorted(self.measured.items()):
            out.append(
                f"  frame {n} at ({place[0]:.0f}, {place[1]:.0f}): mean a*b* before "
                f"{_ab(before)}, after {_ab(after)} (the corrected color there: "
                f"{_ab(shown)})"
            )
        out += [f"  FAILED: {p}" for p in self.problems]
        return out


def _ab(ab: tuple[float, float]) -> str:
    return f"({ab[0]:+.1f}, {ab[1]:+.1f})"


# --- driving the window -------------------------------------------------------------------------


class Driver:
    """Mouse and key input for a paint window's widgets, as QTest sends it."""

    def __init__(self, window: Any) -> None:
        from PySide6 import QtCore, QtTest, QtWidgets

        self.w, self.QtCore, self.QTest, self.QtWidgets = window, QtCore, QtTest.QTest, QtWidgets
        self.left = QtCore.Qt.MouseButton.LeftButton

    def settle(self, ms: int = 30) -> None:
        self.QTest.qWait(ms)

    def wait_until(
        self, ready: Callable[[], bool], signal: Any, what: str, timeout_ms: int = 120_000
    ) -> None:
        """Run the event loop until ``ready()``, checking each time ``signal`` fires."""
        loop = self.QtCore.QEventLoop()
        timer = self.QtCore.QTimer()
        timer.setSingleShot(True)
        timer.timeout.connect(loop.quit)
        signal.connect(loop.quit)
        timer.start(timeout_ms)
        try:
            while not ready():
                if not timer.isActive():
                    raise TimeoutError(f"gave up waiting for {what}")
                loop.exec()
        finally:
            signal.disconnect(loop.quit)
            timer.stop()

    def carried(self) -> None:
        """Wait until the hints carried to the frame shown are there (a signal, not a sleep)."""
        self.wait_until(
            lambda: not self.w.carried_pending(),
            self.w.jobs.tracked,
            f"the hints carried to frame {self.w.frame}",
        )

    def previews(self) -> None:
        self.w.wait_for_previews(120_000)
        self.settle()

    def to_view(self, x: float, y: float) -> Any:
        """Frame pixel (x, y) as a point of the views' viewport."""
        scene = self.w.canvas.mapViewToScene(self.QtCore.QPointF(x, y))
        return self.w.view.mapFromScene(scene)

    def click(self, x: float, y: float) -> None:
        """A left click on frame pixel (x, y) of the canvas."""
        self.QTest.mouseClick(self.w.view.viewport(), self.left, pos=self.to_view(x, y))
        self.settle()

    def drag(self, path: list[tuple[float, float]]) -> None:
        viewport = self.w.view.viewport()
        self.QTest.mousePress(viewport, self.left, pos=self.to_view(*path[0]))
        for x, y in path[1:]:
            self.settle(20)  # as a hand moves: pyqtgraph drops moves that come faster
            self.QTest.mouseMove(viewport, self.to_view(x, y))
        self.settle(20)
        self.QTest.mouseRelease(viewport, self.left, pos=self.to_view(*path[-1]))
        self.settle()

    def key(self, key: Any, modifier: Any = None) -> None:
        modifier = modifier if modifier is not None else self.QtCore.Qt.KeyboardModifier.NoModifier
        self.QTest.keyClick(self.w, key, modifier)
        self.settle()

    def press(self, widget: Any, pos: Any = None) -> None:
        """A left click on a widget (its center unless ``pos``)."""
        if pos is None:
            self.QTest.mouseClick(widget, self.left)
        else:
            self.QTest.mouseClick(widget, self.left, pos=pos)
        self.settle()

    def type_into(self, line_edit: Any, text: str) -> None:
        """Click into a text field, select what is there, type ``text`` and Enter."""
        self.press(line_edit)
        self.QTest.keyClick(
            line_edit, self.QtCore.Qt.Key.Key_A, self.QtCore.Qt.KeyboardModifier.ControlModifier
        )
        self.QTest.keyClicks(line_edit, text)
        self.QTest.keyClick(line_edit, self.QtCore.Qt.Key.Key_Return)
        self.settle()

    def gamut(self, a: float, b: float) -> None:
        """A click on the gamut plane at a*b* (a, b)."""
        plane = self.w.gamut
        spot = plane.mapFromScene(plane.getViewBox().mapViewToScene(self.QtCore.QPointF(a, b)))
        self.press(plane.viewport(), spot)

    def swatch(self, color: Color) -> None:
        """A click on the palette's swatch of ``color``."""
        index = self.w.recent.index(color)
        self.press(self.w.palette_row.itemAt(index).widget())

    def hint_row(self, row: int) -> None:
        item = self.w.hint_list.topLevelItem(row)
        self.press(self.w.hint_list.viewport(), self.w.hint_list.visualItemRect(item).center())


def _shoot(window: Any, folder: Path | None, name: str, result: SessionResult) -> None:
    if folder is None:
        return
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{len(result.shots) + 1:02d}-{name}.png"
    window.grab().save(str(path))
    result.shots.append(path)


def _check(result: SessionResult, ok: bool, what: str) -> None:
    if not ok:
        result.problems.append(what)


def paint(
    clip: Any,
    hints_path: Path,
    *,
    frame: int,
    shots: Path | None = None,
    method: str = "optimization",
    store: Any = None,
) -> tuple[SessionResult, Hints]:
    """The session in the window, on ``clip`` (a VapourSynth clip): everything up to the save.
    Returns what it found and the hints as they were just before the correction."""
    import pyqtgraph as pg
    from PySide6 import QtCore, QtWidgets

    from vscolorize.core.pipeline import Settings
    from vscolorize.core.propagation import HintCarrier
    from vscolorize.sources import ClipSource
    from vscolorize.ui.window import PaintWindow

    Key, Mod = QtCore.Qt.Key, QtCore.Qt.KeyboardModifier
    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication([])
    pg.setConfigOptions(antialias=True)
    source = ClipSource(clip)
    carrier = HintCarrier(source, store=store)
    window = PaintWindow(
        source, hints_path, settings=Settings(method=method), recover="no", propagated=carrier
    )
    result = SessionResult(hints_path=hints_path, frame=frame)
    width, height = source.width, source.height
    try:
        window.resize(1500, 700)
        window.show()
        window.activateWindow()
        do = Driver(window)
        do.settle(200)
        window.canvas.autoRange(padding=0)
        do.settle(100)
        do.carried()  # even frame 0 waits to know that nothing reaches it yet

        # frame 0: a size; palette colors on the face and the flag; the suit recolored on the
        # gamut plane; the face resized; a stroke on the wall
        do.type_into(window.size_spin.lineEdit(), POINT_SIZE)  # nothing selected: the next hint
        skin, red = Color.from_rgb(SKIN), Color.from_rgb(FLAG_RED)
        face, flag, suit = ((fx * width, fy * height) for fx, fy in (FACE, FLAG, SUIT))
        do.swatch(skin)
        _check(result, window.color == skin, f"the skin swatch gave {window.color}")
        do.click(*face)
        do.swatch(red)
        do.click(*flag)
        do.click(*suit)  # still red: recolored below
        points = window.doc.keyframe(0).points
        _check(
            result,
            [p.color for p in points] == [skin, red, red],
            f"a skin point and two red ones on frame 0, not {points}",
        )
        do.click(*suit)  # selects the suit's point ...
        _check(result, window.selected == ("point", 2), f"selected {window.selected}, not point 2")
        do.gamut(*SUIT_AB)  # ... and the gamut plane recolors it
        a, b = window.doc.keyframe(0).points[2].color.ab
        _check(result, math.dist((a, b), SUIT_AB) < 5, f"gamut recolor gave ({a}, {b})")
        do.hint_row(0)  # the hint list selects the face ...
        _check(result, window.selected == ("point", 0), f"the list selected {window.selected}")
        do.type_into(window.size_spin.lineEdit(), RESIZED)  # ... and the size box resizes it
        radius = window.doc.keyframe(0).points[0].radius
        _check(
            result,
            math.isclose(radius, float(RESIZED) / 2, rel_tol=1e-6),
            f"the size box gave radius {radius}",
        )
        do.key(Key.Key_Escape)
        do.type_into(window.color_entry, WALL_TYPED)  # nothing selected: the next hint's color
        do.key(Key.Key_B)
        for stroke in WALL:
            do.drag([(fx * width, fy * height) for fx, fy in stroke])
        do.key(Key.Key_P)
        strokes = len(window.doc.keyframe(0).strokes)
        _check(result, strokes == len(WALL), f"the brush painted {strokes} strokes, not {len(WALL)}")
        do.previews()
        _shoot(window, shots, "frame0-painted", result)

        # a frame that is not a keyframe: its carried hints, then the correction
        for _ in range(frame):
            do.key(Key.Key_Right)
        _check(result, window.frame == frame, f"on frame {window.frame}, not {frame}")
        do.carried()
        do.previews()
        _shoot(window, shots, f"frame{frame}-carried", result)
        carried, own = window.shown_keyframe()
        if carried is None or not carried.points or own:
            result.problems.append(f"no carried points on frame {frame}")
            return result, window.doc.hints
        spots = [(p.x * width, p.y * height) for p in carried.points]
        index = min(range(len(spots)), key=lambda i: math.dist(suit, spots[i]))
        target = carried.points[index]
        result.original = target.color.ab
        before = window.doc.hints
        do.click(target.x * width, target.y * height)  # selects the carried point
        _check(
            result,
            window.selected == ("point", index) and frame not in before.frames,
            f"selecting the carried point gave {window.selected}",
        )
        do.type_into(window.color_entry, CORRECTION_TYPED)
        corrected = window.doc.keyframe(frame)
        marked = window.keyframe_box.isChecked() and frame in window.bar.frames
        _check(result, marked, "the keyframe box and bar do not show the frame as a keyframe")
        _check(
            result,
            len(corrected.points) == len(carried.points)
            and corrected.points[index].color.ab == CORRECTION_AB,
            f"the corrected frame holds {corrected.points}",
        )
        do.key(Key.Key_Escape)
        for color, places in ((FLAG_BLUE, CANTON), (CORRECTION_TYPED, SUIT_FAR)):
            do.type_into(window.color_entry, color)  # nothing selected: the next point's color
            free = [(fx * width, fy * height) for fx, fy in places]
            do.click(*next((p for p in free if window.controller.hint_at(*p) is None), free[-1]))
        # new points: the correction adds to the carried hints
        _check(
            result,
            len(window.doc.keyframe(frame).points) == len(carried.points) + 2,
            "points added on the corrected frame replaced its carried hints",
        )
        do.click(target.x * width, target.y * height)
        do.previews()
        _shoot(window, shots, f"frame{frame}-corrected", result)

        do.key(Key.Key_S, Mod.ControlModifier)
        _check(result, hints_path.is_file() and not window.doc.modified, "Ctrl+S did not save")
        _shoot(window, shots, "saved", result)
        return result, before
    finally:
        window.close()
        app.processEvents()


def measure(clip: Any, result: SessionResult, before: Hints, *, method: str = "optimization") -> None:
    """Render the saved hints (and those before the correction) with the Python API and check
    that the corrected frame and the next carry the corrected color, and the one before (between
    two keyframes) is on its way to it."""
    import vscolorize

    saved = load_hints(result.hints_path)
    n = result.frame
    own = saved.keyframe(n)
    if own is None:
        result.problems.append(f"the saved file has no keyframe {n}")
        return
    width, height = clip.width, clip.height
    target = min(own.points, key=lambda p: math.dist(p.color.ab, CORRECTION_AB))
    radius = max(1.0, 0.6 * target.radius * min(width, height))  # inside the hint's disc
    carried = vscolorize.propagated_hints(clip, result.hints_path)
    rendered = {
        "before": vscolorize.colorize(clip, before, method=method),
        "after": vscolorize.colorize(clip, result.hints_path, method=method),
    }
    for f in (n - 1, n, n + 1):
        if not 0 <= f < clip.num_frames:
            continue
        place = (target.x * width, target.y * height)
        here = carried.keyframe(f)
        if f != n and here is not None:  # where the corrected point was carried to
            from_n = [p for p in here.points if p.extra.get("propagated_from") == n] or here.points
            near = min(from_n, key=lambda p: math.dist((p.x * width, p.y * height), place))
            if math.dist((near.x * width, near.y * height), place) < 0.1 * min(width, height):
                place = (near.x * width, near.y * height)
        means, lab = [], np.zeros(0)
        rows, cols = np.mgrid[:height, :width]
        disc = np.hypot(cols + 0.5 - place[0], rows + 0.5 - place[1]) <= radius
        for name in ("before", "after"):
            frame = rendered[name].get_frame(f)
            rgb = np.stack([np.asarray(frame[i]) for i in range(3)], -1).astype(np.float32)
            lab = srgb_to_lab(np.clip(rgb, 0, 1))[disc]
            means.append(_mean_ab(lab))
        # what the render can show of each color there: its chroma lowered where the pixel's
        # lightness cannot hold it in sRGB
        new, old = (_shown(lab[:, 0], ab) for ab in (CORRECTION_AB, result.original))
        result.measured[f] = (place, means[0], means[1], new)
        after = means[1]
        to_new, to_old = math.dist(after, new), math.dist(after, old)
        if f < n and any(k < f for k in saved.frames):
            # between an earlier keyframe and the corrected one the colors hand over: nearer the
            # corrected frame, nearer its color
            _check(
                result,
                to_new < to_old,
                f"frame {f}: a*b* {_ab(after)} is nearer the old color {_ab(old)} than the "
                f"corrected one {_ab(new)}, a frame from the corrected keyframe",
            )
            continue
        _check(
            result,
            to_new < to_old / 3 and to_new < 10,
            f"frame {f}: a*b* {_ab(after)} is not the corrected color as shown there "
            f"{_ab(new)} (distance {to_new:.1f}; to the old color {to_old:.1f})",
        )


def _mean_ab(lab: np.ndarray) -> tuple[float, float]:
    a, b = lab[:, 1:].mean(0)
    return float(a), float(b)


def _shown(lightness: np.ndarray, ab: tuple[float, float]) -> tuple[float, float]:
    """The mean a*b* that pixels of ``lightness`` (N,) show for hint color ``ab``."""
    planes = np.broadcast_to(np.array(ab, np.float32), (lightness.size, 2)).astype(np.float32)
    rgb = lab_planes_to_srgb(lightness.astype(np.float32)[None], planes[None])
    return _mean_ab(srgb_to_lab(np.clip(rgb, 0, 1))[0])


def run_session(
    clip: Any,
    hints_path: Path,
    *,
    frame: int,
    shots: Path | None = None,
    method: str = "optimization",
    store: Any = None,
) -> SessionResult:
    """The whole session: paint and save in the window, then render and measure."""
    result, before = paint(clip, hints_path, frame=frame, shots=shots, method=method, store=store)
    if result.hints_path.is_file():
        measure(clip, result, before, method=method)
    return result


def generated_clip(frames: int, width: int, height: int) -> Any:
    """The demo's gray clip: a slow pan and zoom over the astronaut."""
    from vscolorize.demo import sample_clip

    gray, _, _ = sample_clip(frames=frames, width=width, height=height)
    return gray


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("input", nargs="?", help="a video file (default: a generated clip)")
    parser.add_argument("--shots", type=Path, help="folder for the screenshots")
    parser.add_argument("--hints", type=Path, help="where to save the hints (default: a temp dir)")
    parser.add_argument("--frame", type=int, default=12, help="the frame to correct (12)")
    parser.add_argument("--frames", type=int, default=24, help="generated clip's length (24)")
    parser.add_argument("--size", default="480x272", help="generated clip's size (480x272)")
    parser.add_argument("--method", default="optimization", help="colorizer (optimization)")
    args = parser.parse_args(argv)

    from PySide6 import QtWidgets

    _app = QtWidgets.QApplication.instance() or QtWidgets.QApplication([])  # held to the end
    print(f"Qt platform: {QtWidgets.QApplication.platformName()}")  # xcb on a real (or virtual) X display
    if args.input:
        from vscolorize.render import open_video

        clip = open_video(args.input)
    else:
        width, height = (int(v) for v in args.size.split("x"))
        clip = generated_clip(args.frames, width, height)
    if args.hints is not None and args.hints.exists():
        parser.error(f"{args.hints} exists: the session starts from no hints, give a new file")
    if not 0 < args.frame < clip.num_frames - 1:
        parser.error(f"--frame must be inside the clip (1 to {clip.num_frames - 2})")
    with tempfile.TemporaryDirectory() as work:
        hints = args.hints or Path(work) / "session.hints.json"
        result = run_session(clip, hints, frame=args.frame, shots=args.shots, method=args.method)
    for line in result.lines():
        print(line)
    for shot in result.shots:
        print(f"screenshot: {shot}")
    print("session passed" if result.ok else "session FAILED")
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
