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


class ClipSource:
    """A VapourSynth clip, frame by frame (its lightness, as the node reads it)."""

    def __init__(self, clip: vs.VideoNode) -> None:
        check_format(clip, caller="paint")
        self.clip = clip
        self.width, self.height, self.count = clip.width, clip.height, clip.num_frames

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
