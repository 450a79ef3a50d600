"""The vscolorize paint window (PySide6 + pyqtgraph): the only part that imports Qt.

``paint(clip_or_path, hints=...)`` opens it on a VapourSynth clip, a video file or a picture and
returns the hints when it closes. ``document.py`` holds everything the window edits without Qt.
"""

from __future__ import annotations

import logging
import os
import signal
from pathlib import Path
from typing import Any

from vscolorize.core.engine import DEFAULT_METHOD
from vscolorize.core.footage import SourceFrame
from vscolorize.core.hints import Hints

__all__ = ["PROPAGATION_PREVIEW_FRAMES", "paint"]


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
    clip_or_path: Any,
    hints: str | os.PathLike[str] | None = None,
    *,
    method: str = DEFAULT_METHOD,
    device: str | None = None,
    recover: str = "ask",
    **engine: Any,
) -> Hints:
    """Open the paint window and return the hints as they are when it closes.

    Args:
        clip_or_path: a VapourSynth clip, a video file, a picture, or any object with ``width``,
            ``height``, ``count`` and ``lightness(n)`` (see ``vscolorize.ui.sources``).
        hints: the ``*.hints.json`` file to edit (created on the first save).
        method, device: the colorizer of the live preview.
        recover: autosaved work found for ``hints``: ``"ask"``, ``"yes"`` or ``"no"``.
        engine: the preview colorizer's other settings, as ``colorize_image`` takes them
            (``model``, ``postprocess``, ``ensemble``, ``ensemble_mode``), so that the preview
            shows what the render will.
    """
    from PySide6 import QtCore, QtWidgets

    from vscolorize.core.propagation import HintCarrier

    from .window import PaintWindow

    source = _as_source(clip_or_path)
    if hints is not None and Path(hints).is_file():
        from vscolorize.node import check_hints

        check_hints(hints, source.count)  # a keyframe past the end: render's own one line
    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication([])
    # hints carried to other frames, on demand, over the motion store that renders use too
    carried = HintCarrier(_motion_source(source)) if source.count > 1 else None

    window = PaintWindow(
        source, hints, method=method, device=device, recover=recover, propagated=carried, **engine
    )
    window.show()
    log.info("paint window open on %s (%d frames)", clip_or_path, source.count)
    # Ctrl+C or a polite kill closes the window properly (it autosaves on the way out); Python
    # only sees signals when it runs, so a timer gives it a moment now and then
    for number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(number, lambda *_: window.close())
    ticker = QtCore.QTimer()
    ticker.timeout.connect(lambda: None)
    ticker.start(200)
    app.exec()
    ticker.stop()
    return window.doc.hints


def _as_source(thing: Any) -> Any:
    if all(hasattr(thing, name) for name in ("width", "height", "count", "lightness")):
        return thing
    from vscolorize.sources import ClipSource, open_source

    if isinstance(thing, str | os.PathLike):
        return open_source(thing)
    return ClipSource(thing)


class _LightnessSource:
    """A paint source as the engine's frame source (no scene-change props: the detector)."""

    def __init__(self, source: Any) -> None:
        self.count = source.count
        self._source = source

    def read(self, n: int) -> SourceFrame:
        return SourceFrame(self._source.lightness(n))


def _motion_source(source: Any) -> Any:
    """What motion reads: the source itself when it can tell scene-change props (a clip)."""
    return source if hasattr(source, "read") else _LightnessSource(source)
