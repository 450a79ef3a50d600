"""``vscolorize analyze``: measure a clip's motion ahead of time, and find its shots.

Colorizing measures motion lazily, shot by shot, as frames are asked for; this reads the clip
once, in order, and fills the motion store with every pair of consecutive frames within a shot,
so that later renders, previews and the paint window find it all measured. The result is the
same either way (each pair is a pure function of its two frames).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial

import vapoursynth as vs

from vscolorize.core.errors import named
from vscolorize.core.footage import Footage
from vscolorize.core.propagation import PropagationSettings
from vscolorize.core.store import MotionStore

from .frames import check_format
from .sources import ClipSource, source_frame

__all__ = ["Analysis", "analyze"]

Progress = Callable[[Iterator[vs.VideoFrame], int], Iterator[vs.VideoFrame]]


@dataclass(frozen=True)
class Analysis:
    shots: list[range]  # the shots met, each clipped to the analyzed frames
    measured: int  # pairs measured now (the others were in the store already)

    def summary(self, fps: float | None = None) -> str:
        """One line per shot: its frames (and times, given the frame rate)."""
        lines = []
        for i, shot in enumerate(self.shots, 1):
            line = f"shot {i}: frames {shot.start}-{shot.stop - 1} ({len(shot)} frames)"
            if fps:
                line += f", {_clock(shot.start / fps)}-{_clock(shot.stop / fps)}"
            lines.append(line)
        return "\n".join(lines)


def _clock(seconds: float) -> str:
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(int(minutes), 60)
    return f"{hours}:{minutes:02d}:{seconds:06.3f}"


def analyze(
    clip: vs.VideoNode,
    /,
    *,
    first: int = 0,
    last: int | None = None,
    store: MotionStore | None = None,
    progress: Progress | None = None,
) -> Analysis:
    """Fill the motion store for frames ``first`` .. ``last`` (inclusive) of ``clip``.

    Args:
        store: where motion is kept (default: the motion store in the cache folder).
        progress: wraps the frame iterator (a progress bar), given it and the frame count.
    """
    with named("analyze"):
        check_format(clip)
    last = clip.num_frames - 1 if last is None else last
    if not 0 <= first <= last < clip.num_frames:
        raise ValueError(f"analyze: frames {first}-{last} are not within 0-{clip.num_frames - 1}")
    footage = Footage(ClipSource(clip), PropagationSettings().motion, store)
    frames: Iterator[vs.VideoFrame] = clip[first : last + 1].frames(close=True)
    if progress is not None:
        frames = progress(frames, last - first + 1)
    starts = [first]
    for n, frame in enumerate(frames, first):
        footage.offer(n, partial(source_frame, frame))
        if n == first:
            continue
        if footage.cut_before(n):
            starts.append(n)
        else:
            footage.pair(n - 1)
    shots = [range(a, b) for a, b in zip(starts, [*starts[1:], last + 1], strict=True)]
    return Analysis(shots, footage.measured)
