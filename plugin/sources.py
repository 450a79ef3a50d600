"""VapourSynth clips and video files as the engine's frame sources: the one place that turns a clip
into what ``vscolorize.core`` reads (a frame's lightness and scene-change props), for the node,
``analyze``, the farm and the paint window."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import vapoursynth as vs

from vscolorize.core.errors import RenderError
from vscolorize.core.footage import SourceFrame
from vscolorize.core.images import PICTURE_SUFFIXES

from .frames import check_format, frame_lightness

__all__ = ["ClipSource", "FrameWindow", "open_source", "open_video", "source_frame"]


# chroma (8-bit steps) or channel spread (sRGB, 0-255) below which the first frame counts as gray
_GRAY_SPREAD = 2


def _said(frame: vs.VideoFrame, key: str) -> bool | None:
    value = frame.props.get(key)
    return None if value is None else bool(value)


def source_frame(frame: vs.VideoFrame, lightness: np.ndarray | None = None) -> SourceFrame:
    """A frame's lightness (``lightness``, when the caller has it already) and what its
    ``_SceneChangePrev`` / ``_SceneChangeNext`` say."""
    lightness = frame_lightness(frame) if lightness is None else lightness
    return SourceFrame(lightness, _said(frame, "_SceneChangePrev"), _said(frame, "_SceneChangeNext"))


def open_video(path: str | os.PathLike[str]) -> vs.VideoNode:
    """The video track of a file, through bestsource.

    Raises:
        RenderError: missing, or no video VapourSynth can decode in it.
    """
    source = Path(path)
    if not source.is_file():
        raise RenderError(f"{source}: no such file")
    try:
        return vs.core.bs.VideoSource(source=str(source.resolve()))
    except vs.Error as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else "unknown error"
        raise RenderError(f"{source}: cannot be read as video ({first})") from None


class ClipSource:
    """A VapourSynth clip as the engine's frame source (``vscolorize.core.sources``): each
    frame's lightness and what it says of scene changes, as the node reads them, and its original
    color when it has any (the paint window's compare view). ``read`` may be called from
    VapourSynth's worker threads: the core lends another thread while one waits for a frame.

    Raises:
        ClipError: a variable or unsupported format.
    """

    def __init__(self, clip: vs.VideoNode) -> None:
        fmt = check_format(clip)
        self.clip = clip
        self.width, self.height, self.count = clip.width, clip.height, clip.num_frames
        self._family = fmt.color_family
        self._rgb: dict[int, vs.VideoNode] = {}  # 8-bit RGB by the YUV matrix it came through
        self._has_color: bool | None = None

    @property
    def has_color(self) -> bool:
        """Whether the clip is in color: a gray film stored as YUV or RGB is not (its first
        frame is looked at once)."""
        if self._has_color is None:
            self._has_color = self._family != vs.GRAY and bool(
                np.ptp(self.color(0).astype(np.int16), axis=-1).max() > _GRAY_SPREAD
            )
        return self._has_color

    def color(self, n: int) -> np.ndarray:
        """(H, W, 3) uint8 sRGB of frame ``n`` as it came (YUV through the frame's _Matrix, BT.709
        where the source does not say); ValueError for a gray clip."""
        if self._family == vs.GRAY:
            raise ValueError("the clip is gray: it has no color to give")
        matrix = 0
        if self._family == vs.YUV:
            matrix = int(self.clip.get_frame(n).props.get("_Matrix", 2))
            matrix = 1 if matrix in (0, 2) else matrix  # unspecified: BT.709
        if matrix not in self._rgb:
            args = {"matrix_in": matrix} if self._family == vs.YUV else {}
            self._rgb[matrix] = vs.core.resize.Bicubic(self.clip, format=vs.RGB24, **args)
        frame = self._rgb[matrix].get_frame(n)
        return np.ascontiguousarray(np.stack([np.asarray(frame[i]) for i in range(3)], axis=-1))

    def lightness(self, n: int) -> np.ndarray:
        return frame_lightness(self.clip.get_frame(n))

    def read(self, n: int) -> SourceFrame:
        """Frame n as motion sees it (with its scene-change props, as the node reads it)."""
        return source_frame(self.clip.get_frame(n))


class FrameWindow:
    """Frames n - radius .. n + radius as a frame request brought them (held at the clip's ends),
    each frame's lightness computed at most once (``vscolorize.core.temporal.Neighbors``)."""

    def __init__(self, n: int, frames: list[vs.VideoFrame]) -> None:
        self._n, self._frames = n, frames
        self._radius = len(frames) // 2
        self._lightness: dict[int, np.ndarray] = {}

    def _frame(self, k: int) -> vs.VideoFrame:
        return self._frames[k - self._n + self._radius]

    def lightness(self, k: int) -> np.ndarray:
        if k not in self._lightness:
            self._lightness[k] = frame_lightness(self._frame(k))
        return self._lightness[k]

    def frame(self, k: int) -> SourceFrame:
        return source_frame(self._frame(k), self.lightness(k))


def open_source(path: str | os.PathLike[str]) -> object:
    """A picture (PNG, JPEG, ...) or any video FFmpeg reads, as a frame source."""
    if Path(path).suffix.lower() in PICTURE_SUFFIXES:
        from vscolorize.core.sources import PictureSource

        return PictureSource(path)
    return ClipSource(open_video(path))
