"""``vscolorize.paint``: the paint window on a VapourSynth clip, a video file or a picture.

The window itself (``vscolorize.ui``) reads any frame source and knows nothing of VapourSynth;
this turns what a script or the command line has into one (``sources.ClipSource``,
``sources.open_source``) and opens the window on it. ``vscolorize paint`` calls this.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import vapoursynth as vs

from vscolorize.core.errors import ClipError, SettingError, named
from vscolorize.core.hints import Hints, load_hints
from vscolorize.core.pipeline import Settings
from vscolorize.core.sources import FrameSource

from .sources import ClipSource, open_source

__all__ = ["paint"]

_CALLER = "paint"
_SOURCE_PARTS = ("width", "height", "count", "lightness", "read")


def paint(
    clip_or_path: vs.VideoNode | str | os.PathLike[str] | FrameSource,
    /,
    hints: str | os.PathLike[str] | None = None,
    *,
    settings: Settings | None = None,
    recover: str = "ask",
    **keywords: Any,
) -> Hints:
    """Open the paint window and return the hints as they are when it closes.

    Args:
        clip_or_path: a VapourSynth clip (constant format, as :func:`vscolorize.colorize` takes),
            the path of a video (any format bestsource reads) or of a picture, or a frame source
            (``vscolorize.core.sources.FrameSource``).
        hints: the ``*.hints.json`` file to edit (created on the first save).
        settings: the live preview's colorizer as one object, as the render's.
        keywords: or its settings one by one, as :func:`vscolorize.colorize` takes them
            (``method=``, ``model=``, ``device=``, ...). The preview is one frame: ``temporal``
            does not change it.
        recover: autosaved work found for ``hints``: ``"ask"`` (a dialog), ``"yes"`` or ``"no"``.

    Raises:
        HintError: unreadable hints (before the video is opened), or a keyframe past the clip's
            last frame (the line render gives).
        RenderError, ImageError: the file is missing or cannot be read.
        ClipError, SettingError, DeviceError, ModelUnavailableError: a bad argument (the message
            starts with ``paint:``).
        DisplayError: the window cannot open on this display.
    """
    with named(_CALLER):
        if settings is not None and keywords:
            raise SettingError("give settings or keyword settings (method=, ...), not both")
        settings = settings if settings is not None else Settings.of(**keywords)
        if not isinstance(clip_or_path, vs.VideoNode | str | os.PathLike) and not _is_source(clip_or_path):
            raise ClipError(
                "clip_or_path: expected a VapourSynth clip, the path of a video or a picture, or a "
                f"frame source, not {type(clip_or_path).__name__}"
            )
    from vscolorize.ui.app import check_platform  # Qt is loaded only when a window is asked for

    check_platform()  # no display, or Qt's X11 libraries missing: said before a long video is opened
    if hints is not None and Path(hints).is_file():
        load_hints(hints)  # a broken file is refused before a long video is opened
    source: Any = clip_or_path
    if isinstance(clip_or_path, str | os.PathLike):
        source = open_source(clip_or_path)
    elif isinstance(clip_or_path, vs.VideoNode):
        with named(_CALLER):
            source = ClipSource(clip_or_path)

    from vscolorize.ui import paint as open_window  # Qt is loaded only when a window opens

    return open_window(source, hints, settings=settings, recover=recover)


def _is_source(thing: object) -> bool:
    return all(hasattr(thing, name) for name in _SOURCE_PARTS)
