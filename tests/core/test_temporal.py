from __future__ import annotations

import itertools
import threading

import numpy as np
import skimage.data

from vscolorize.core.color import srgb_to_lab
from vscolorize.core.footage import Footage, MemoryStore, SourceFrame
from vscolorize.core.hints import Keyframe
from vscolorize.core.motion import MotionSettings
from vscolorize.core.propagation import _Lightness
from vscolorize.core.temporal import Link, TemporalWindow, temporal_filter

LIGHTNESS = srgb_to_lab(skimage.data.astronaut() / 255.0)[..., 0].astype(np.float32)


def window(n: int, speed: int = 2) -> np.ndarray:
    """uint8 lightness of frame n of a pan: content moves left ``speed`` px per frame."""
    x = 100 + speed * n
    return np.clip(LIGHTNESS[150:246, x : x + 160] * 2.55, 0, 255).astype(np.uint8)


def colors(n: int, speed: int = 2) -> np.ndarray:
    """a*b* glued to the picture: a ramp across the texture, moving with it."""
    x = np.arange(100 + speed * n, 100 + speed * n + 160, dtype=np.float32)
    ab = np.stack([np.broadcast_to(x / 5, (96, 160)), np.broadcast_to(-x / 10, (96, 160))], -1)
    return np.ascontiguousarray(ab)


def links(pictures: list[np.ndarray | None]) -> list[Link | None]:
    return [
        Link.between(a, b) if a is not None and b is not None else None
        for a, b in itertools.pairwise(pictures)
    ]


def test_colors_that_follow_the_picture_are_kept() -> None:
    pictures = [window(n) for n in range(5)]
    out = temporal_filter([colors(n) for n in range(5)], links(pictures))
    inner = (slice(10, -10), slice(10, -10))
    np.testing.assert_allclose(out[inner], colors(2)[inner], atol=0.6)


def test_flicker_is_averaged_out() -> None:
    rng = np.random.default_rng(0)
    noisy = [colors(n) + rng.normal(0, 3, 2).astype(np.float32) for n in range(5)]  # per-frame shift
    out = temporal_filter(noisy, links([window(n) for n in range(5)]), sigma=2.0)
    inner = (slice(10, -10), slice(10, -10))
    before = np.abs(noisy[2][inner] - colors(2)[inner]).mean()
    after = np.abs(out[inner] - colors(2)[inner]).mean()
    assert after < 0.7 * before


def test_missing_neighbors_and_unmatched_pixels_keep_their_own_color() -> None:
    pictures = [window(n) for n in range(3)]
    alone = temporal_filter([None, colors(1), None], [None, None])
    np.testing.assert_array_equal(alone, colors(1))
    # a neighbor that shows something else entirely (another shot) is never matched
    other = np.ascontiguousarray(np.rot90(pictures[0], 2))
    mixed = temporal_filter(
        [np.full_like(colors(0), 100.0), colors(1), None], links([other, pictures[1], None])
    )
    # blending it in everywhere would be off by ~25 a*b* units; the check rejects nearly all of it
    assert np.abs(mixed - colors(1)).mean() < 5.0


def test_a_window_is_predicted_while_its_hints_are_still_carried() -> None:
    # a first frame or a seek fills a whole window at once: the helper must start on the first
    # entry as soon as its hints are known, not once the last entry's are (they are carried one
    # frame after another from a keyframe, about 10 ms a frame at 854x480)
    started = threading.Event()
    waited: list[bool] = []

    class Pipeline:
        def prediction(self, lightness: np.ndarray, keyframe: Keyframe | None) -> np.ndarray:
            started.set()
            return np.zeros((24, 40, 2), np.float32)

    def hints_of(k: int) -> Keyframe | None:
        if k == 4 and not waited:  # the last entry's hints, found while the first is predicted
            waited.append(started.wait(10))
        return None

    source = _Lightness(5, lambda n: window(n).astype(np.float32) / 2.55, None)

    class Frames:
        def lightness(self, k: int) -> np.ndarray:
            return source.lightness(k)

        def frame(self, k: int) -> SourceFrame:
            return source.read(k)

    footage = Footage(source, MotionSettings(), MemoryStore())
    filtered = TemporalWindow(Pipeline(), footage, hints_of, 2, workers=2).filtered(2, Frames())  # type: ignore[arg-type]
    assert waited == [True]
    assert filtered.shape == (24, 40, 2)
