from __future__ import annotations

import cv2
import numpy as np
import pytest

from vscolorize.core.images import scaled_size, shrink, shrink_factor


@pytest.mark.parametrize(
    ("height", "width", "short_side", "expected"),
    [
        (480, 854, 360, (360, 640)),  # 640.5 rounds to even
        (1080, 1920, 256, (256, 455)),
        (1920, 1080, 256, (455, 256)),  # portrait: the short side is the width
        (300, 200, 360, (300, 200)),  # never enlarged
        (3, 4000, 1, (1, 1333)),
        (2, 900, 1, (1, 450)),
    ],
)
def test_scaled_size(height: int, width: int, short_side: int, expected: tuple[int, int]) -> None:
    assert scaled_size(height, width, short_side) == expected
    scale = shrink_factor(height, width, short_side)
    assert scale <= 1
    assert expected == (max(round(height * scale), 1), max(round(width * scale), 1))


def test_scaled_size_minimum() -> None:
    assert scaled_size(100, 2000, 4) == (4, 80)
    assert scaled_size(100, 2000, 4, minimum=16) == (16, 80)
    assert scaled_size(10, 10, 256, minimum=16) == (16, 16)


def test_shrink() -> None:
    rng = np.random.default_rng(0)
    picture = rng.random((90, 160), dtype=np.float32)
    assert shrink(picture, 90) is picture and shrink(picture, 200) is picture
    small = shrink(picture, 45)
    np.testing.assert_array_equal(small, cv2.resize(picture, (80, 45), interpolation=cv2.INTER_AREA))
    color = rng.random((160, 90, 3), dtype=np.float32)
    assert shrink(color, 30).shape == (53, 30, 3)
    tiny = shrink(picture, 4, minimum=16)
    np.testing.assert_array_equal(tiny, cv2.resize(picture, (16, 16), interpolation=cv2.INTER_AREA))
    # OpenCV copies a picture resized to its own size: handing the picture back is the same bits
    np.testing.assert_array_equal(
        shrink(picture, 90), cv2.resize(picture, (160, 90), interpolation=cv2.INTER_AREA)
    )
