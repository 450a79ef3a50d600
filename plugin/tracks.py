"""``vscolorize.propagated_hints``: a clip's hints carried to every frame, for export.

Motion is read through ``vscolorize.core.footage`` over the clip's :class:`~.sources.ClipSource`
and kept in the motion store (``vscolorize.core.store``), as the node and the paint window read it.
"""

from __future__ import annotations

import vapoursynth as vs

from vscolorize.core.errors import ClipError, HintError
from vscolorize.core.footage import Footage
from vscolorize.core.hints import Hints, HintsLike, check_frames, resolve_hints
from vscolorize.core.propagation import CarriedHints, PropagationSettings
from vscolorize.core.store import MotionStore

from .frames import check_format
from .sources import ClipSource

__all__ = ["propagated_hints"]


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
    try:
        check_format(clip)
        resolved = resolve_hints(hints) or Hints()
        check_frames(resolved, clip.num_frames)
    except (HintError, ClipError) as e:
        raise type(e)(f"propagated_hints: {e}") from None
    settings = settings if settings is not None else PropagationSettings()
    footage = Footage(ClipSource(clip), settings.motion, store)
    cuts = [shot.start for shot in footage.shots()][1:]
    carried = CarriedHints(footage, resolved, settings)
    return Hints(keyframes=tuple(carried.frames()), extra={**resolved.extra, "scene_cuts": cuts})
