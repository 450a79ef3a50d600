"""``vscolorize.suggest_keyframes`` on a clip: the core's suggestions, read from VapourSynth."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import skimage.data
import vapoursynth as vs

import vscolorize
from vscolorize.core.color import srgb_to_lab
from vscolorize.core.errors import HintError, SettingError
from vscolorize.core.footage import Footage, MemoryStore
from vscolorize.core.hints import Color, Hints, Keyframe, Point
from vscolorize.core.keyframes import suggest_keyframes
from vscolorize.core.motion import MotionSettings
from vscolorize.core.propagation import _Lightness

WIDTH, HEIGHT = 96, 64
BACKGROUND = srgb_to_lab(skimage.data.astronaut()[::4, ::4] / 255.0)[..., 0].astype(np.float32)
THING = srgb_to_lab(skimage.data.chelsea()[::2, ::2] / 255.0)[..., 0].astype(np.float32)
ENTRY, COUNT = 12, 30


def entering(n: int) -> np.ndarray:
    """A slow pan that a textured disc (radius 9) enters from the right at frame ENTRY, 6 px a
    frame, coming to rest once inside (as in the core's tests)."""
    glide = np.float32([[1, 0, -10 - 0.1 * n], [0, 1, -20]])
    picture = cv2.warpAffine(BACKGROUND, glide, (WIDTH, HEIGHT), flags=cv2.INTER_LINEAR)
    if n < ENTRY:
        return picture
    x = max(WIDTH + 9 - 6 * (n - ENTRY), WIDTH - 11)
    yy, xx = np.mgrid[:HEIGHT, :WIDTH]
    inside = (xx - x) ** 2 + (yy - HEIGHT / 2) ** 2 <= 81
    moved = WIDTH + 9 - x
    picture[inside] = THING[30 : 30 + HEIGHT, 20 + moved : 20 + moved + WIDTH][inside]
    return picture


def clip_of(count: int) -> vs.VideoNode:
    """A GRAY8 clip of the core test's disc entering a slow pan at frame ENTRY."""
    blank = vs.core.std.BlankClip(width=WIDTH, height=HEIGHT, format=vs.GRAY8, length=count)

    def fill(n: int, f: vs.VideoFrame) -> vs.VideoFrame:
        out = f.copy()
        np.copyto(np.asarray(out[0]), np.round(entering(n) * 2.55).astype(np.uint8))
        out.props["_Range"] = vs.ColorRange.RANGE_FULL
        return out

    return blank.std.ModifyFrame(clips=blank, selector=fill)


HINTS = Hints(keyframes=(Keyframe(frame=0, points=(Point(x=0.3, y=0.4, color=Color(ab=(20, -20))),)),))


def test_a_clip_gets_the_cores_suggestions_and_fills_the_motion_store(private_cache: Path) -> None:
    clip = clip_of(COUNT)
    (suggestion,) = vscolorize.suggest_keyframes(clip, HINTS)
    assert ENTRY <= suggestion.frame <= ENTRY + 5 and suggestion.shot == range(COUNT)
    assert len(list((private_cache / "motion").rglob("*.motion"))) == COUNT - 1
    # the same frame as the core finds on the same pictures, as a VapourSynth clip gives them
    frames = {n: np.asarray(f[0]).astype(np.float32) / 2.55 for n, f in enumerate(clip.frames())}
    footage = Footage(_Lightness(COUNT, frames.__getitem__, None), MotionSettings(), MemoryStore())
    assert [s.frame for s in suggest_keyframes(footage, HINTS)] == [suggestion.frame]
    unkeyed = vscolorize.suggest_keyframes(clip, None, per_shot=2)
    assert 1 <= len(unkeyed) <= 2 and not unkeyed[0].keyed


def test_bad_arguments_name_suggest_keyframes() -> None:
    clip = clip_of(4)
    late = {"format": "vscolorize.hints", "version": 1, "keyframes": [{"frame": 9, "points": []}]}
    with pytest.raises(HintError, match=r"^suggest_keyframes: hints: keyframe 9 is past"):
        vscolorize.suggest_keyframes(clip, late)
    with pytest.raises(SettingError, match=r"^suggest_keyframes: per_shot"):
        vscolorize.suggest_keyframes(clip, None, per_shot=0)
