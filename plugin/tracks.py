"""Propagated hints for a clip, computed once and cached.

:func:`propagated_hints` reads the clip once, in order, and carries the artist's keyframes along
optical flow (``vscolorize.core.propagation``). The result is a hints file with a keyframe on every
frame, cached under ``$VSCOLORIZE_CACHE`` (default ``$XDG_CACHE_HOME/vscolorize`` or
``~/.cache/vscolorize``) by a key made of the clip's size, format and length, a sample of its
frames' content, the hints and the settings, so that building the same node again costs nothing
and every frame request stays a pure function of its inputs.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Callable, Iterator
from dataclasses import asdict
from pathlib import Path

import numpy as np
import vapoursynth as vs

from vscolorize.core.errors import HintError
from vscolorize.core.hints import Hints, load_hints, save_hints
from vscolorize.core.propagation import PropagationSettings, propagate

from .frames import frame_lightness

__all__ = ["cache_folder", "propagated_hints"]

log = logging.getLogger(__name__)

_CACHE_VERSION = 1
DEFAULT_SETTINGS = PropagationSettings()
_SAMPLED_FRAMES = 9


def cache_folder() -> Path:
    if os.environ.get("VSCOLORIZE_CACHE"):
        return Path(os.environ["VSCOLORIZE_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "vscolorize"


def _key(clip: vs.VideoNode, hints: Hints, settings: PropagationSettings) -> str:
    digest = hashlib.sha256()
    assert clip.format is not None
    shape = (clip.width, clip.height, clip.num_frames, clip.format.name, str(clip.fps))
    digest.update(json.dumps([_CACHE_VERSION, shape, asdict(settings)]).encode())
    digest.update(json.dumps(hints.to_json(), sort_keys=True).encode())
    for n in np.linspace(0, clip.num_frames - 1, _SAMPLED_FRAMES).round().astype(int).tolist():
        frame = clip.get_frame(n)
        digest.update(np.ascontiguousarray(np.asarray(frame[0])).tobytes())
    return digest.hexdigest()[:32]


def _said_cut(frame: vs.VideoFrame, previous_said_next: bool) -> bool | None:
    """What a frame's ``_SceneChangePrev`` (and the frame before's ``_SceneChangeNext``) say."""
    props = frame.props
    if "_SceneChangePrev" not in props and "_SceneChangeNext" not in props:
        return None
    return bool(props.get("_SceneChangePrev", 0)) or previous_said_next


def propagated_hints(
    clip: vs.VideoNode,
    hints: Hints,
    *,
    settings: PropagationSettings = DEFAULT_SETTINGS,
    progress: Callable[[Iterator[vs.VideoFrame], int], Iterator[vs.VideoFrame]] | None = None,
    cache: bool = True,
) -> Hints:
    """``hints`` carried to every frame of ``clip`` (see the module's doc), from the cache if there.

    Args:
        progress: wraps the frame iterator while the clip is read (a progress bar).
        cache: read and write the cache.
    """
    if not hints.keyframes:
        return hints
    path = cache_folder() / "tracks" / f"{_key(clip, hints, settings)}.hints.json"
    if cache and path.is_file():
        try:
            log.info("propagated hints from %s", path)
            return load_hints(path)
        except HintError as e:  # a damaged cache entry is rebuilt
            log.warning("ignoring a damaged cache entry: %s", e)
    frames: Iterator[vs.VideoFrame] = clip.frames(close=True)
    if progress is not None:
        frames = progress(frames, clip.num_frames)
    said: dict[int, bool | None] = {}
    said_next = False

    def lightness(n: int) -> np.ndarray:
        nonlocal said_next
        frame = next(frames)
        said[n] = _said_cut(frame, said_next)
        said_next = bool(frame.props.get("_SceneChangeNext", 0))
        return frame_lightness(frame)

    result, cuts = propagate(hints, clip.num_frames, lightness, settings=settings,
                             known_cut=said.get)  # fmt: skip
    result = Hints(keyframes=result.keyframes, extra={**result.extra, "scene_cuts": sorted(cuts)})
    if cache:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            save_hints(result, path)
        except OSError as e:
            log.warning("could not cache the propagated hints in %s: %s", path, e)
    return result
