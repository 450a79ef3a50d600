"""What the paint window shows: anything with a frame count, a size and each frame's lightness.

The window never touches VapourSynth (only ``plugin/`` does): a clip or a video file reaches it as a
``vscolorize.sources.ClipSource``; a still picture as :class:`PictureSource`.
"""

from __future__ import annotations

import os
from typing import Protocol

import numpy as np

from vscolorize.core.engine import image_lightness
from vscolorize.core.images import read_image

__all__ = ["FrameSource", "PictureSource"]


class FrameSource(Protocol):
    """Frames to paint on."""

    @property
    def width(self) -> int: ...

    @property
    def height(self) -> int: ...

    @property
    def count(self) -> int: ...

    def lightness(self, n: int) -> np.ndarray:
        """(H, W) float32 L* in [0, 100] of frame ``n``."""
        ...


class PictureSource:
    """A single picture as a one-frame clip."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self._lightness = image_lightness(read_image(path), name=os.fspath(path))
        self.height, self.width = self._lightness.shape
        self.count = 1

    def lightness(self, n: int) -> np.ndarray:
        if n != 0:
            raise IndexError(f"a picture has only frame 0, not {n}")
        return self._lightness
