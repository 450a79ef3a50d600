"""What the paint window shows: anything with a frame count, a size and each frame's lightness.

The window never touches VapourSynth (only ``plugin/`` does): a clip or a video file reaches it as a
``vscolorize.sources.ClipSource``; a still picture as :class:`PictureSource`. A source whose frames
have color may also say so (``has_color``) and give them (``color(n)``): the window then compares
its result with the original as well as with the gray frame (see :func:`original_frame`).
"""

from __future__ import annotations

import os
from typing import Protocol

import numpy as np

from vscolorize.core.engine import image_lightness
from vscolorize.core.images import read_image

__all__ = ["ColorSource", "FrameSource", "PictureSource", "has_color", "original_frame"]

# a picture whose channels never differ by more than this (of full scale) is gray stored as RGB
_GRAY_SPREAD = 2 / 255


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


class ColorSource(FrameSource, Protocol):
    """Frames that came with color (a color video, a color picture): optional for a source."""

    @property
    def has_color(self) -> bool: ...

    def color(self, n: int) -> np.ndarray:
        """(H, W, 3) uint8 sRGB of frame ``n`` as it came."""
        ...


def has_color(source: FrameSource) -> bool:
    """Whether ``source`` gives its frames' original color (see :class:`ColorSource`)."""
    return bool(getattr(source, "has_color", False)) and callable(getattr(source, "color", None))


def original_frame(source: FrameSource, n: int) -> np.ndarray | None:
    """(H, W, 3) uint8 sRGB of frame ``n`` as it came, or None when the source has no color."""
    if not has_color(source):
        return None
    rgb = np.asarray(source.color(n))  # type: ignore[attr-defined]
    if rgb.shape != (source.height, source.width, 3) or rgb.dtype != np.uint8:
        raise ValueError(
            f"frame {n}'s color: expected ({source.height}, {source.width}, 3) "
            f"uint8, not {rgb.shape} {rgb.dtype}"
        )
    return rgb


class PictureSource:
    """A single picture as a one-frame clip (its color kept when it has any)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        rgb = read_image(path)
        self._lightness = image_lightness(rgb, name=os.fspath(path))
        self.height, self.width = self._lightness.shape
        self.count = 1
        self.has_color = bool(np.ptp(rgb, axis=-1).max() > _GRAY_SPREAD)
        self._color = np.round(rgb * 255).astype(np.uint8) if self.has_color else None

    def lightness(self, n: int) -> np.ndarray:
        self._check(n)
        return self._lightness

    def color(self, n: int) -> np.ndarray:
        """(H, W, 3) uint8 sRGB of the picture; ValueError for a gray one."""
        self._check(n)
        if self._color is None:
            raise ValueError("the picture is gray: it has no color to give")
        return self._color

    def _check(self, n: int) -> None:
        if n != 0:
            raise IndexError(f"a picture has only frame 0, not {n}")
