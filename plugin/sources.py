"""Clips and video files as frame sources for the paint window (``vscolorize.ui``)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import vapoursynth as vs

from vscolorize.core.footage import SourceFrame
from vscolorize.core.images import PICTURE_SUFFIXES

from .frames import check_format, frame_lightness
from .render import open_video
from .tracks import source_frame

__all__ = ["ClipSource", "open_source"]


# chroma (8-bit steps) or channel spread (sRGB, 0-255) below which the first frame counts as gray
_GRAY_SPREAD = 2


class ClipSource:
    """A VapourSynth clip, frame by frame (its lightness, as the node reads it), and its
    original color when it has any (the paint window's compare view)."""

    def __init__(self, clip: vs.VideoNode) -> None:
        fmt = check_format(clip, caller="paint")
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


def open_source(path: str | os.PathLike[str]) -> object:
    """A picture (PNG, JPEG, ...) or any video FFmpeg reads, as a frame source."""
    if Path(path).suffix.lower() in PICTURE_SUFFIXES:
        from vscolorize.ui.sources import PictureSource

        return PictureSource(path)
    return ClipSource(open_video(path))
