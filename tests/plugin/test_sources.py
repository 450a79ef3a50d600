from __future__ import annotations

import numpy as np
import pytest
import vapoursynth as vs

from vscolorize.sources import ClipSource

core = vs.core


def _rgb(color: list[int]) -> vs.VideoNode:
    return core.std.BlankClip(format=vs.RGB24, width=64, height=48, length=3, color=color)


@pytest.mark.parametrize("family", ["rgb", "yuv"])
def test_a_color_clip_gives_its_original_color(family: str) -> None:
    clip = _rgb([200, 40, 30])
    if family == "yuv":  # as a video decodes: 4:2:0 with its matrix in the frame props
        clip = core.resize.Bicubic(clip, format=vs.YUV420P8, matrix_s="709")
    source = ClipSource(clip)
    assert source.has_color
    rgb = source.color(2)
    assert rgb.shape == (48, 64, 3) and rgb.dtype == np.uint8
    np.testing.assert_allclose(rgb[24, 32], [200, 40, 30], atol=2)


def test_gray_clips_have_no_color() -> None:
    gray = core.std.BlankClip(format=vs.GRAY8, width=64, height=48, length=3, color=[100])
    # a black-and-white film stored as YUV: flat chroma
    yuv = core.resize.Bicubic(_rgb([90, 90, 90]), format=vs.YUV420P8, matrix_s="709")
    for clip in (gray, yuv):
        assert not ClipSource(clip).has_color
    with pytest.raises(ValueError, match="gray"):
        ClipSource(gray).color(0)
