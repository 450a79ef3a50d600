"""Frame sources: what the engine and the paint window read a clip through.

A :class:`FrameSource` is a clip as frames by index: its size, its length, each frame's lightness,
and what :class:`~vscolorize.core.footage.Footage` reads for motion (``read(n)``: the lightness and
whatever the frame says of scene changes). A VapourSynth clip or a video file becomes one in the
plugin (``vscolorize.sources.ClipSource``); a still picture is a :class:`PictureSource`; anything
that knows only each frame's lightness (tests, generated clips) derives from
:class:`LightnessSource`. A source whose frames have color may also say so (``has_color``) and give
them (``color(n)``): the paint window then compares its result with the original as well as with
the gray frame (see :func:`original_frame`).
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Protocol

import numpy as np

from .images import image_lightness, read_image

if TYPE_CHECKING:
    from .footage import SourceFrame

__all__ = [
    "ColorSource",
    "FrameSource",
    "LightnessSource",
    "PictureSource",
    "has_color",
    "original_frame",
]

# a picture whose channels never differ by more than this (of full scale) is gray stored as RGB
_GRAY_SPREAD = 2 / 255


class FrameSource(Protocol):
    """A clip's frames by index; ``lightness`` and ``read`` may be called from several threads at
    once."""

    @property
    def width(self) -> int: ...

    @property
    def height(self) -> int: ...

    @property
    def count(self) -> int: ...

    def lightness(self, n: int) -> np.ndarray:
        """(H, W) float32 L* in [0, 100] of frame ``n``."""
        ...

    def read(self, n: int) -> SourceFrame:
        """Frame ``n`` as motion sees it: its lightness and what it says of scene changes."""
        ...


class ColorSource(FrameSource, Protocol):
    """Frames that came with color (a color video, a color picture): optional for a source."""

    @property
    def has_color(self) -> bool: ...

    def color(self, n: int) -> np.ndarray:
        """(H, W, 3) uint8 sRGB of frame ``n`` as it came."""
        ...


def _source_frame(lightness: np.ndarray) -> SourceFrame:
    # footage.py imports this module for FrameSource: SourceFrame is looked up when first needed
    from .footage import SourceFrame

    return SourceFrame(lightness)


class LightnessSource(ABC):
    """A base for sources that know each frame's lightness and nothing of its shots: ``read(n)``
    is that lightness, and scene cuts are left to the detector.

    Subclasses set ``width``, ``height`` and ``count`` and define :meth:`lightness`.
    """

    width: int
    height: int
    count: int

    @abstractmethod
    def lightness(self, n: int) -> np.ndarray:
        """(H, W) float32 L* in [0, 100] of frame ``n``."""

    def read(self, n: int) -> SourceFrame:
        return _source_frame(self.lightness(n))


def has_color(source: FrameSource) -> bool:
    """Whether ``source`` gives its frames' original color (see :class:`ColorSource`)."""
    return bool(getattr(source, "has_color", False)) and callable(getattr(source, "color", None))


def original_frame(source: FrameSource, n: int) -> np.ndarray | None:
    """(H, W, 3) uint8 sRGB of frame ``n`` as it came, or None when the source has no color.

    Raises:
        ValueError: the source gave a picture of another shape or type.
    """
    if not has_color(source):
        return None
    rgb = np.asarray(source.color(n))  # type: ignore[attr-defined]
    if rgb.shape != (source.height, source.width, 3) or rgb.dtype != np.uint8:
        raise ValueError(
            f"frame {n}'s color: expected ({source.height}, {source.width}, 3) "
            f"uint8, not {rgb.shape} {rgb.dtype}"
        )
    return rgb


class PictureSource(LightnessSource):
    """A single picture as a one-frame clip (its color kept when it has any).

    Raises:
        ImageError: the file is missing or is not a picture.
    """

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
