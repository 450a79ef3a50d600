"""Suggested keyframes: where the keyframes reach least, from the motion alone."""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np
import pytest
import skimage.data

from vscolorize.core.color import srgb_to_lab
from vscolorize.core.errors import SettingError
from vscolorize.core.footage import Footage, MemoryStore
from vscolorize.core.hints import Color, Hints, Keyframe, Point
from vscolorize.core.keyframes import ShotMotion, suggest_in_shot, suggest_keyframes
from vscolorize.core.motion import MotionSettings
from vscolorize.core.propagation import _Lightness

WIDTH, HEIGHT = 96, 64
BACKGROUND = srgb_to_lab(skimage.data.astronaut()[::4, ::4] / 255.0)[..., 0].astype(np.float32)  # 128x128
THING = srgb_to_lab(skimage.data.chelsea()[::2, ::2] / 255.0)[..., 0].astype(np.float32)  # 150x226
OTHER = srgb_to_lab(skimage.data.coffee()[::4, ::4] / 255.0)[..., 0].astype(np.float32)  # 100x150
RADIUS, SPEED = 9, 6  # the disc comes in whole within 3 frames


def entering(n: int, entry: int | None) -> np.ndarray:
    """Frame n of a slow pan (0.1 px a frame) that a textured disc enters from the right at frame
    ``entry``, coming to rest once inside (None: no disc)."""
    shift = np.float32([[1, 0, -10 - 0.1 * n], [0, 1, -20]])  # subpixel: a camera glides
    picture = cv2.warpAffine(BACKGROUND, shift, (WIDTH, HEIGHT), flags=cv2.INTER_LINEAR)
    if entry is None or n < entry:
        return picture
    x = max(WIDTH + RADIUS - SPEED * (n - entry), WIDTH - RADIUS - 2)
    yy, xx = np.mgrid[:HEIGHT, :WIDTH]
    inside = (xx - x) ** 2 + (yy - HEIGHT / 2) ** 2 <= RADIUS**2
    moved = WIDTH + RADIUS - x  # the disc's texture moves with it
    picture[inside] = THING[30 : 30 + HEIGHT, 20 + moved : 20 + moved + WIDTH][inside]
    return picture


def other_shot(n: int) -> np.ndarray:
    return np.ascontiguousarray(OTHER[10 : 10 + HEIGHT, 20 + n : 20 + n + WIDTH])


def footage(count: int, frame: Callable[[int], np.ndarray]) -> Footage:
    return Footage(_Lightness(count, frame, None), MotionSettings(), MemoryStore())


def keyed(*frames: int) -> Hints:
    point = Point(x=0.3, y=0.4, color=Color(ab=(20, -20)))
    return Hints(keyframes=tuple(Keyframe(frame=f, points=(point,)) for f in frames))


@pytest.mark.parametrize("entry", [6, 17, 27])
def test_the_suggestion_lands_where_something_new_comes_in(entry: int) -> None:
    clip = footage(40, lambda n: entering(n, entry))
    (suggestion,) = suggest_keyframes(clip, keyed(0))
    assert entry <= suggestion.frame <= entry + 5, suggestion
    assert suggestion.shot == range(40) and suggestion.keyed
    assert suggestion.uncovered > 0.05 and "out of the keyframes' reach" in suggestion.reason


def test_nothing_new_nothing_suggested() -> None:
    clip = footage(30, lambda n: entering(n, None))
    assert suggest_keyframes(clip, keyed(0)) == []
    # the same shot with nothing keyed gets a frame that represents it
    (suggestion,) = suggest_keyframes(clip, None)
    assert not suggestion.keyed and 0 <= suggestion.frame < 30 and "no keyframe" in suggestion.reason


def test_suggestions_stay_in_their_shots_and_per_shot_limits_them() -> None:
    cut = 24  # a second shot, with no keyframe, from frame 24

    def film(n: int) -> np.ndarray:
        return entering(n, 8) if n < cut else other_shot(n - cut)

    clip = footage(40, film)
    first, second = suggest_keyframes(clip, keyed(0))
    assert first.shot == range(cut) and 8 <= first.frame <= 13
    assert second.shot == range(cut, 40) and second.frame in second.shot and not second.keyed
    many = suggest_keyframes(clip, None, per_shot=3)
    assert 2 <= len(many) <= 6
    for shot in (range(cut), range(cut, 40)):
        frames = [s.frame for s in many if s.shot == shot]
        assert 1 <= len(frames) <= 3 and set(frames) <= set(shot) and len(set(frames)) == len(frames)
        gains = [s.gain for s in many if s.shot == shot]
        assert gains == sorted(gains, reverse=True)  # best first
    assert [s.shot.start for s in many] == sorted(s.shot.start for s in many)  # shots in order


def test_a_keyframe_where_it_was_suggested_leaves_nothing_to_suggest() -> None:
    motion = ShotMotion.read(footage(40, lambda n: entering(n, 10)), range(40))
    gain, uncovered = motion.gains([0])
    assert uncovered[20] > 0.05 and gain.max() > 1
    (suggestion,) = suggest_in_shot(motion, [0])
    after, left = motion.gains([0, suggestion.frame])
    assert left[20] < uncovered[20] / 4 and after.max() < gain.max() / 4
    assert suggest_in_shot(motion, [0, suggestion.frame]) == []
    # one frame too early, the disc is not all in yet: the next suggestion follows at once
    (late,) = suggest_in_shot(motion, [0, suggestion.frame - 2])
    assert suggestion.frame - 2 < late.frame <= suggestion.frame + 2


@pytest.mark.parametrize("per_shot", [0, -1, 1.5, True])
def test_bad_per_shot(per_shot: object) -> None:
    with pytest.raises(SettingError, match="per_shot"):
        suggest_keyframes(footage(4, lambda n: entering(n, None)), None, per_shot=per_shot)  # type: ignore[arg-type]
