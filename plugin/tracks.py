"""A VapourSynth clip as the engine's frame source, and a clip's carried hints for export.

The node, ``vscolorize analyze`` and :func:`propagated_hints` read motion through
``vscolorize.core.footage`` over :class:`ClipSource`; motion itself is kept in the motion store
(``vscolorize.core.store``), shared by all of them and by the paint window.
"""

from __future__ import annotations

import numpy as np
import vapoursynth as vs

from vscolorize.core.errors import HintError
from vscolorize.core.footage import Footage, SourceFrame
from vscolorize.core.hints import Hints, HintsLike, resolve_hints
from vscolorize.core.propagation import CarriedHints, PropagationSettings
from vscolorize.core.store import MotionStore

from .frames import check_format, frame_lightness

__all__ = ["ClipSource", "propagated_hints", "source_frame"]


def _said(frame: vs.VideoFrame, key: str) -> bool | None:
    value = frame.props.get(key)
    return None if value is None else bool(value)


def source_frame(frame: vs.VideoFrame, lightness: np.ndarray | None = None) -> SourceFrame:
    """A frame's lightness (``lightness``, when the caller has it already) and what its
    ``_SceneChangePrev`` / ``_SceneChangeNext`` say."""
    lightness = frame_lightness(frame) if lightness is None else lightness
    return SourceFrame(lightness, _said(frame, "_SceneChangePrev"), _said(frame, "_SceneChangeNext"))


class ClipSource:
    """Frames of a clip by index (``read`` may be called from VapourSynth's worker threads: the
    core lends another thread while one waits for a frame)."""

    def __init__(self, clip: vs.VideoNode) -> None:
        self.clip = clip
        self.count = clip.num_frames

    def read(self, n: int) -> SourceFrame:
        return source_frame(self.clip.get_frame(n))


def propagated_hints(
    clip: vs.VideoNode,
    hints: HintsLike,
    *,
    settings: PropagationSettings | None = None,
    store: MotionStore | None = None,
) -> Hints:
    """``hints`` carried to every frame of ``clip``, as one hints object (a keyframe on every
    frame that has any hint; ``extra["scene_cuts"]``: the frames that start a shot).

    For exporting or inspecting; the node computes the same hints frame by frame, on demand.

    Args:
        hints: a ``*.hints.json`` path, a dict in that format, or a loaded ``Hints``.
        store: where motion is kept (default: the motion store in the cache folder).

    Raises:
        HintError: the hints cannot be read, or name a frame past the clip's end.
    """
    check_format(clip, caller="propagated_hints")
    try:
        resolved = resolve_hints(hints) or Hints()
    except HintError as e:
        raise HintError(f"propagated_hints: {e}") from None
    late = [f for f in resolved.frames if f >= clip.num_frames]
    if late:
        raise HintError(
            f"propagated_hints: hints: keyframe {late[0]} is past the clip's last "
            f"frame ({clip.num_frames - 1})"
        )
    settings = settings if settings is not None else PropagationSettings()
    footage = Footage(ClipSource(clip), settings.motion, store)
    cuts = [shot.start for shot in footage.shots()][1:]
    carried = CarriedHints(footage, resolved, settings)
    return Hints(keyframes=tuple(carried.frames()), extra={**resolved.extra, "scene_cuts": cuts})
