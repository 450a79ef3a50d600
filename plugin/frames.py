"""VapourSynth frames <-> the engine's arrays: a frame's lightness L*, and RGB planes back.

A GRAY or YUV frame's first plane is its luma Y'. A gray picture has R' = G' = B' = Y' under every
matrix, so Y' is read as an sRGB gray level whatever ``_Matrix`` says; what matters is the range:
limited (16-235 at 8 bits, scaled for deeper samples) or full, from ``_Range`` (limited when a YUV
clip does not say, full for GRAY and RGB, as VapourSynth's own resizer assumes). An RGB frame's
lightness comes from all three planes. Float samples are taken as nominal [0, 1].
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

import numpy as np
import vapoursynth as vs

from vscolorize.core.color import gray_to_l, srgb_to_l
from vscolorize.core.errors import ClipError

__all__ = ["check_format", "frame_lightness", "is_limited_range", "modify_per_frame", "write_rgb"]


def check_format(clip: vs.VideoNode) -> vs.VideoFormat:
    """The clip's constant format; a clear error for variable or unsupported ones (the caller puts
    its own name in front, see :func:`vscolorize.core.errors.named`)."""
    fmt = clip.format
    if fmt is None or fmt.id == vs.PresetVideoFormat.NONE:
        raise ClipError("clip: variable format clips are not supported")
    if clip.width == 0 or clip.height == 0:
        raise ClipError("clip: variable size clips are not supported")
    if fmt.color_family not in (vs.GRAY, vs.YUV, vs.RGB):
        raise ClipError(f"clip: expected GRAY, YUV or RGB, not {fmt.color_family.name}")
    if fmt.sample_type == vs.INTEGER and fmt.bits_per_sample > 16:
        raise ClipError(f"clip: at most 16-bit integer samples, not {fmt.name}")
    return fmt


def is_limited_range(frame: vs.VideoFrame) -> bool:
    """Whether the frame's integer samples are limited ("TV") range."""
    fmt = frame.format
    value = frame.props.get("_Range")
    if value is None:
        return fmt.color_family == vs.YUV
    return int(value) == int(vs.ColorRange.RANGE_LIMITED)


def _unit(plane: np.ndarray, fmt: vs.VideoFormat, limited: bool) -> np.ndarray:
    """Samples scaled to nominal [0, 1] float32 (clipped: super-whites carry no lightness)."""
    if fmt.sample_type == vs.FLOAT:
        return np.clip(plane.astype(np.float32), 0, 1)
    shift = fmt.bits_per_sample - 8
    if limited:
        low, span = 16 << shift, 219 << shift
    else:
        low, span = 0, (1 << fmt.bits_per_sample) - 1
    return np.clip((plane.astype(np.float32) - low) / span, 0, 1)


@cache
def _lightness_table(format_id: int, limited: bool) -> np.ndarray:
    """L* of every code value of an integer luma format: (2 ** bits,) float32."""
    fmt = vs.core.get_video_format(format_id)
    codes = np.arange(1 << fmt.bits_per_sample, dtype=np.uint32)
    return gray_to_l(_unit(codes, fmt, limited))


def frame_lightness(frame: vs.VideoFrame) -> np.ndarray:
    """(H, W) float32 CIE L* in [0, 100] of a GRAY, YUV or RGB frame."""
    fmt = frame.format
    limited = is_limited_range(frame)
    if fmt.color_family == vs.RGB:
        rgb = np.stack([_unit(np.asarray(frame[i]), fmt, limited) for i in range(3)], axis=-1)
        return srgb_to_l(rgb)
    if fmt.sample_type == vs.INTEGER:  # every frame: a table lookup, not a power per pixel
        return _lightness_table(fmt.id, limited)[np.asarray(frame[0])]
    return gray_to_l(_unit(np.asarray(frame[0]), fmt, limited))


def write_rgb(frame: vs.VideoFrame, rgb: np.ndarray) -> None:
    """Copy (H, W, 3) sRGB into a writable RGBS or RGBH frame, plane by plane."""
    for i in range(3):
        np.copyto(np.asarray(frame[i]), rgb[..., i], casting="same_kind")


def modify_per_frame(
    blank: vs.VideoNode,
    clips: list[vs.VideoNode],
    selector: Callable[[int, list[vs.VideoFrame]], vs.VideoFrame],
) -> vs.VideoNode:
    """``blank.std.ModifyFrame(clips, selector)`` with several frames computed at once: a single
    ModifyFrame runs one callback at a time, so each frame gets its own, made by ``FrameEval``."""

    def frame_node(n: int) -> vs.VideoNode:
        return blank.std.ModifyFrame(clips=clips, selector=selector)

    return blank.std.FrameEval(frame_node, clip_src=clips)
