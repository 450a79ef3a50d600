"""The vscolorize paint window (PySide6 + pyqtgraph): the only part that imports Qt.

``paint(source, hints=...)`` opens it on a frame source (``vscolorize.core.sources``) and returns
the hints when it closes; ``vscolorize.paint`` opens it on a VapourSynth clip, a video file or a
picture. ``document.py`` and ``controller.py`` hold everything the window edits without Qt.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from vscolorize.core.errors import SettingError, named
from vscolorize.core.hints import Hints
from vscolorize.core.pipeline import Settings, check_keyframes
from vscolorize.core.propagation import HintCarrier
from vscolorize.core.sources import FrameSource

__all__ = ["RECOVER", "paint"]

RECOVER = ("ask", "yes", "no")  # what to do with autosaved work found for the hints


def _forget_opencv_qt() -> None:
    """opencv-contrib-python bundles a Qt of its own and, when imported, points Qt's plugin and
    font paths at it; PySide6 would then load those plugins, built for another Qt, and abort on a
    real display (xcb). PySide6 finds its own once the paths are gone."""
    for name in ("QT_QPA_PLATFORM_PLUGIN_PATH", "QT_QPA_FONTDIR"):
        value = os.environ.get(name, "")
        if f"{os.sep}cv2{os.sep}" in value:
            del os.environ[name]


import cv2  # noqa: E402,F401 (imported here, once, so that its Qt paths are set and then dropped)

_forget_opencv_qt()

log = logging.getLogger(__name__)


def paint(
    source: FrameSource,
    hints: str | os.PathLike[str] | None = None,
    *,
    settings: Settings | None = None,
    recover: str = "ask",
) -> Hints:
    """Open the paint window and return the hints as they are when it closes.

    Args:
        source: the frames to paint on: a :class:`vscolorize.core.sources.FrameSource` (``width``,
            ``height``, ``count``, ``lightness(n)``, ``read(n)``; ``has_color`` and ``color(n)``
            when its frames have color to compare with).
        hints: the ``*.hints.json`` file to edit (created on the first save).
        settings: the colorizer of the live preview, as the render's (so that the preview shows
            what the render will); hints are carried to other frames when ``settings.propagate``.
        recover: autosaved work found for ``hints``: ``"ask"``, ``"yes"`` or ``"no"``.

    Raises:
        HintError: unreadable hints, or a keyframe past the source's last frame (as render says).
        DisplayError: Qt cannot start here (no display, or a missing X11 library).
        SettingError, DeviceError, ModelUnavailableError: a bad ``recover``, or the settings'
            device or model is not there (the message starts with ``paint:``).
    """
    from .app import application, run  # Qt: loaded once cv2's Qt paths are gone
    from .window import PaintWindow

    settings = settings if settings is not None else Settings()
    if recover not in RECOVER:
        raise SettingError(f"paint: recover must be one of {RECOVER}, not {recover!r}")
    if hints is not None and Path(hints).is_file():
        with named("colorize"):  # the very line render gives for these hints on this clip
            check_keyframes(hints, source.count)
    app = application()
    # hints carried to other frames, on demand, over the motion store that renders use too
    carried = None
    if source.count > 1 and settings.propagate:
        carried = HintCarrier(source, settings=settings.propagation)
    window = PaintWindow(source, hints, settings=settings, recover=recover, propagated=carried)
    window.show()
    log.info("paint window open on %s (%d frames)", hints or "new hints", source.count)
    run(app, window)
    return window.doc.hints
