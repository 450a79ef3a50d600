"""The Qt application the paint window runs in: made only once Qt can start on this display, and
run until the window closes (Ctrl+C or a polite kill close it properly).

On Linux with an X display Qt loads its xcb platform plugin, which needs X11 libraries that a bare
system may lack (``libxcb-cursor0`` most often); Qt then aborts the process with a screenful of
advice. :func:`check_platform` looks first and raises :class:`DisplayError` with one line saying
what to install; likewise where there is no display at all.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
from collections.abc import Callable, Mapping

from PySide6 import QtCore, QtWidgets

from vscolorize.core.errors import VscolorizeError

__all__ = ["XCB_LIBRARIES", "DisplayError", "application", "check_platform", "library_loads", "run"]

# what Qt's xcb platform plugin loads beyond libxcb itself (its wheel does not bundle them), and
# the Debian/Ubuntu package of each
XCB_LIBRARIES = {
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
}
_TICK_MS = 200  # how often Python gets a moment to see a signal while Qt runs


class DisplayError(VscolorizeError, RuntimeError):
    """The paint window cannot open on this display (a library Qt needs is missing)."""


def library_loads(name: str) -> bool:
    """Whether the shared library ``name`` (a soname, e.g. ``libxcb-cursor.so.0``) loads here."""
    try:
        ctypes.CDLL(name)
    except OSError:
        return False
    return True


def uses_xcb(environ: Mapping[str, str], platform: str = sys.platform) -> bool:
    """Whether Qt will start on X11 (xcb): on Linux, with a ``DISPLAY``, unless
    ``QT_QPA_PLATFORM`` names another platform, or it is unset in a Wayland session."""
    if not platform.startswith("linux") or not environ.get("DISPLAY"):
        return False
    chosen = environ.get("QT_QPA_PLATFORM", "").split(";")[0].split(":")[0]
    if chosen:
        return chosen == "xcb"
    return not (environ.get("WAYLAND_DISPLAY") and environ.get("XDG_SESSION_TYPE") == "wayland")


def check_platform(
    environ: Mapping[str, str] | None = None, loads: Callable[[str], bool] | None = None
) -> None:
    """Refuse to start Qt where it would abort: no display, or a library its xcb plugin needs
    is missing.

    Raises:
        DisplayError: ``paint: no display ...``, or ``paint: the paint window needs Qt's X11
            libraries: install ...`` naming the packages that hold the missing ones.
    """
    environ = os.environ if environ is None else environ
    if sys.platform.startswith("linux") and not any(
        environ.get(name) for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")
    ):
        raise DisplayError("paint: no display (set DISPLAY, or QT_QPA_PLATFORM=offscreen)")
    if not uses_xcb(environ):
        return
    loads = library_loads if loads is None else loads
    missing = [package for name, package in XCB_LIBRARIES.items() if not loads(name)]
    if missing:
        packages = " ".join(missing)
        raise DisplayError(
            f"paint: the paint window needs Qt's X11 libraries: install {packages} "
            f"(e.g. sudo apt install {packages})"
        )


def application() -> QtWidgets.QApplication:
    """The running Qt application, or a new one once :func:`check_platform` lets Qt start."""
    existing = QtWidgets.QApplication.instance()
    if isinstance(existing, QtWidgets.QApplication):
        return existing
    check_platform()
    return QtWidgets.QApplication([])


def run(app: QtWidgets.QApplication, window: QtWidgets.QWidget) -> None:
    """Run ``app`` until its windows close. Ctrl+C and SIGTERM close ``window`` (it autosaves on
    the way out): Python only sees signals when it runs, so a timer gives it a moment now and
    then."""
    previous = {number: signal.getsignal(number) for number in (signal.SIGINT, signal.SIGTERM)}
    for number in previous:
        signal.signal(number, lambda *_: window.close())
    ticker = QtCore.QTimer()
    ticker.timeout.connect(lambda: None)
    ticker.start(_TICK_MS)
    try:
        app.exec()
    finally:
        ticker.stop()
        for number, handler in previous.items():
            signal.signal(number, handler)
