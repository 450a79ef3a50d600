"""``vscolorize analyze``: measure a clip's motion ahead of time, find its shots and where the
next keyframes pay most.

Colorizing measures motion lazily, shot by shot, as frames are asked for; this reads the clip
once, in order, and fills the motion store with every pair of consecutive frames within a shot,
so that later renders, previews and the paint window find it all measured. The result is the
same either way (each pair is a pure function of its two frames). On the way it can suggest
keyframes (``vscolorize.core.keyframes``): the frames of each shot that the hints' keyframes
reach least.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial

import vapoursynth as vs

from vscolorize.core.errors import named
from vscolorize.core.footage import Footage
from vscolorize.core.hints import HintsLike
from vscolorize.core.keyframes import ShotMotion, Suggestion, check_per_shot, keyframe_frames, suggest_in_shot
from vscolorize.core.pipeline import check_keyframes
from vscolorize.core.propagation import PropagationSettings
from vscolorize.core.store import MotionStore

from .frames import check_format
from .sources import ClipSource, source_frame

__all__ = ["Analysis", "analyze", "suggest_keyframes"]

Progress = Callable[[Iterator[vs.VideoFrame], int], Iterator[vs.VideoFrame]]


@dataclass(frozen=True)
class Analysis:
    shots: list[range]  # the shots met, each clipped to the analyzed frames
    measured: int  # pairs measured now (the others were in the store already)
    suggestions: list[Suggestion] = field(default_factory=list)  # shots in order, best first

    def summary(self, fps: float | None = None) -> str:
        """One line per shot: its frames (and times, given the frame rate), then one indented
        line per keyframe suggested in it."""
        lines = []
        for i, shot in enumerate(self.shots, 1):
            line = f"shot {i}: frames {shot.start}-{shot.stop - 1} ({len(shot)} frames)"
            if fps:
                line += f", {_clock(shot.start / fps)}-{_clock(shot.stop / fps)}"
            lines.append(line)
            for s in self.suggestions:
                if s.frame in shot:
                    at = f" ({_clock(s.frame / fps)})" if fps else ""
                    lines.append(f"  suggested keyframe: frame {s.frame}{at}: {s.reason}")
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
    hints: HintsLike | None = None,
    per_shot: int = 0,
) -> Analysis:
    """Fill the motion store for frames ``first`` .. ``last`` (inclusive) of ``clip``, and
    suggest up to ``per_shot`` keyframes in each shot for ``hints`` (see
    :func:`suggest_keyframes`; only the keyframes within the analyzed frames count).

    Args:
        store: where motion is kept (default: the motion store in the cache folder).
        progress: wraps the frame iterator (a progress bar), given it and the frame count.
        hints: a ``*.hints.json`` path, a dict in that format, a loaded ``Hints``, or None.
        per_shot: how many keyframes to suggest per shot at most (0: none).

    Raises:
        HintError: the hints cannot be read or name a frame past the clip's end.
        SettingError: ``per_shot`` is neither 0 nor a whole number of at least 1.
    """
    with named("analyze"):
        check_format(clip)
        marks = keyframe_frames(check_keyframes(hints, clip.num_frames))
        if per_shot:
            check_per_shot(per_shot)
    last = clip.num_frames - 1 if last is None else last
    if not 0 <= first <= last < clip.num_frames:
        raise ValueError(f"analyze: frames {first}-{last} are not within 0-{clip.num_frames - 1}")
    footage = Footage(ClipSource(clip), PropagationSettings().motion, store)
    frames: Iterator[vs.VideoFrame] = clip[first : last + 1].frames(close=True)
    if progress is not None:
        frames = progress(frames, last - first + 1)
    starts, suggestions = [first], []
    motion = ShotMotion(first)
    for n, frame in enumerate(frames, first):
        footage.offer(n, partial(source_frame, frame))
        if n == first:
            continue
        if footage.cut_before(n):
            starts.append(n)
            if per_shot:
                suggestions += suggest_in_shot(motion, marks, per_shot=per_shot)
            motion = ShotMotion(n)
        else:
            pair = footage.pair(n - 1)
            if per_shot:  # the pictures are in memory: the pair was measured on them
                motion.add(pair, footage.picture(n - 1), footage.picture(n))
    if per_shot:
        suggestions += suggest_in_shot(motion, marks, per_shot=per_shot)
    shots = [range(a, b) for a, b in zip(starts, [*starts[1:], last + 1], strict=True)]
    return Analysis(shots, footage.measured, suggestions)


def suggest_keyframes(
    clip: vs.VideoNode,
    /,
    hints: HintsLike | None,
    *,
    per_shot: int = 1,
    store: MotionStore | None = None,
) -> list[Suggestion]:
    """The frames where the next keyframe pays most: up to ``per_shot`` in each shot, where the
    keyframes of ``hints`` reach least (what enters the picture or comes out from behind
    something after them), judged from the motion alone (``vscolorize.core.keyframes``). A shot
    without a keyframe gets the frame that sees most of it. Reads the clip once, in order, and
    fills the motion store as :func:`analyze` does.

    Args:
        hints: a ``*.hints.json`` path, a dict in that format, a loaded ``Hints``, or None (no
            keyframe yet: every shot gets suggestions).
        per_shot: how many frames per shot at most (fewer where little is left to reach).
        store: where motion is kept (default: the motion store in the cache folder).

    Returns:
        :class:`~vscolorize.core.keyframes.Suggestion` s (``frame``, ``shot``, ``gain``,
        ``uncovered``, ``reason``), shots in order, best first within a shot;
        ``[s.frame for s in ...]`` for the frames alone.

    Raises:
        HintError: the hints cannot be read or name a frame past the clip's end.
        SettingError: ``per_shot`` is not a whole number of at least 1.
    """
    with named("suggest_keyframes"):
        check_format(clip)
        check_per_shot(per_shot)
        resolved = check_keyframes(hints, clip.num_frames)
    return analyze(clip, store=store, hints=resolved, per_shot=per_shot).suggestions
