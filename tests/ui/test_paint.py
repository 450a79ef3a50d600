"""``vscolorize.paint`` and ``vscolorize.ui.paint``: what they refuse before a window opens, Qt's
platform check, and a window opened, edited and closed through them."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from PySide6 import QtCore, QtWidgets
from pytestqt.qtbot import QtBot

import vscolorize
from vscolorize.core.errors import ClipError, SettingError, VscolorizeError
from vscolorize.core.hints import Color, Hints, Keyframe, save_hints
from vscolorize.core.images import write_image
from vscolorize.core.pipeline import Settings
from vscolorize.core.sources import LightnessSource
from vscolorize.ui import app
from vscolorize.ui.window import PaintWindow

CURSOR_MISSING = (
    "paint: the paint window needs Qt's X11 libraries: install libxcb-cursor0 "
    "(e.g. sudo apt install libxcb-cursor0)"
)


class Steps(LightnessSource):
    """Three 64x48 frames of a flat gray that brightens."""

    width, height, count = 64, 48, 3

    def lightness(self, n: int) -> np.ndarray:
        return np.full((self.height, self.width), 30.0 + 20 * n, np.float32)


def all_but_cursor(name: str) -> bool:
    return name != "libxcb-cursor.so.0"


def test_a_missing_x11_library_is_one_line_naming_its_package(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(app, "library_loads", all_but_cursor)
    for environ in ({"DISPLAY": ":0"}, {"DISPLAY": ":0", "QT_QPA_PLATFORM": "xcb"}):
        with pytest.raises(app.DisplayError) as caught:
            app.check_platform(environ)
        assert str(caught.value) == CURSOR_MISSING
        assert isinstance(caught.value, VscolorizeError)  # the command line's one line, exit 2
    monkeypatch.setattr(app, "library_loads", lambda name: False)
    with pytest.raises(
        app.DisplayError, match=r"install libxcb-cursor0 libxcb-icccm4 .*libxkbcommon-x11-0 \("
    ):
        app.check_platform({"DISPLAY": ":0"})


@pytest.mark.parametrize(
    "environ",
    [
        {"DISPLAY": ":0", "QT_QPA_PLATFORM": "offscreen"},
        {"DISPLAY": ":0", "QT_QPA_PLATFORM": "wayland"},
        {"DISPLAY": ":0", "WAYLAND_DISPLAY": "wayland-0", "XDG_SESSION_TYPE": "wayland"},
        {"QT_QPA_PLATFORM": "offscreen"},
    ],
)
def test_platforms_other_than_x11_are_not_checked(
    monkeypatch: pytest.MonkeyPatch, environ: dict[str, str]
) -> None:
    if not sys.platform.startswith("linux"):
        pytest.skip("Qt uses xcb on Linux only")
    asked: list[str] = []
    monkeypatch.setattr(app, "library_loads", lambda name: asked.append(name) or False)
    app.check_platform(environ)
    assert asked == []


def test_no_display_is_one_line() -> None:
    if not sys.platform.startswith("linux"):
        pytest.skip("a display is always there off Linux")
    with pytest.raises(app.DisplayError, match=r"^paint: no display \(set DISPLAY"):
        app.check_platform({})


def test_library_loads_tells_present_from_missing() -> None:
    if not sys.platform.startswith("linux"):
        pytest.skip("sonames are Linux's")
    assert app.library_loads("libc.so.6")
    assert not app.library_loads("libvscolorize-no-such-library.so.7")


def test_the_command_line_says_a_missing_x11_library_in_one_line(tmp_path: Path) -> None:
    """On an X display without libxcb-cursor0: one line and exit 2, never Qt's abort (the check
    comes before Qt starts, so no X server is needed to see it)."""
    picture = tmp_path / "still.png"
    write_image(picture, np.full((24, 32), 0.5, np.float32))
    script = textwrap.dedent(f"""
        import sys
        from vscolorize.ui import app
        app.library_loads = lambda name: name != "libxcb-cursor.so.0"
        from vscolorize.cli import main
        sys.exit(main(["paint", {str(picture)!r}, "--method", "optimization"]))
    """)
    keep = {k: v for k, v in os.environ.items() if k not in ("QT_QPA_PLATFORM", "WAYLAND_DISPLAY")}
    env = {**keep, "DISPLAY": ":99", "XDG_SESSION_TYPE": "x11"}
    result = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 2, result.stderr
    assert result.stderr == f"vscolorize: error: {CURSOR_MISSING}\n"


def test_paint_refuses_bad_arguments_before_any_window(tmp_path: Path) -> None:
    with pytest.raises(ClipError, match=r"^paint: clip_or_path: expected a VapourSynth clip"):
        vscolorize.paint(np.zeros((4, 4)))  # type: ignore[arg-type]
    with pytest.raises(SettingError, match=r"^paint: give settings or keyword settings"):
        vscolorize.paint(Steps(), settings=Settings(), method="optimization")
    with pytest.raises(SettingError, match=r"^paint: postprocess: unknown step 'blur'"):
        vscolorize.paint(Steps(), postprocess=("blur",))
    with pytest.raises(SettingError, match=r"^paint: recover must be one of"):
        vscolorize.paint(Steps(), recover="Yes")
    late = tmp_path / "late.hints.json"
    save_hints(Hints(keyframes=(Keyframe(frame=3),)), late)
    with pytest.raises(
        VscolorizeError, match=r"^colorize: hints: keyframe 3 is past the clip's last frame \(2\)$"
    ):
        vscolorize.paint(Steps(), late, method="optimization")


def test_paint_opens_on_a_frame_source_and_returns_the_hints(qtbot: QtBot, tmp_path: Path) -> None:
    path = tmp_path / "steps.hints.json"
    save_hints(Hints(keyframes=(Keyframe(frame=1),)), path)
    opened: list[PaintWindow] = []

    def paint_and_close() -> None:
        shown = QtWidgets.QApplication.topLevelWidgets()
        (window,) = [w for w in shown if isinstance(w, PaintWindow) and w.isVisible()]
        opened.append(window)
        try:
            window.doc.add_point(1, 10, 10, Color(ab=(40.0, 20.0)))
        finally:
            window.close()
            QtWidgets.QApplication.quit()  # whatever other window a test left open

    QtCore.QTimer.singleShot(0, paint_and_close)  # runs once the window's event loop does
    hints = vscolorize.paint(Steps(), path, settings=Settings(method="optimization"), recover="no")
    assert opened and opened[0].controller.carrying  # three frames: hints are carried
    assert hints.frames == (1,) and len(hints.keyframe(1).points) == 1  # type: ignore[union-attr]
    opened[0].deleteLater()
