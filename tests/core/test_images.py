from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from vscolorize.core.errors import ImageError
from vscolorize.core.images import read_image, write_image


def test_round_trip_png(tmp_path: Path) -> None:
    rgb = np.random.default_rng(0).integers(0, 256, (5, 7, 3)).astype(np.float32) / 255
    write_image(tmp_path / "a.png", rgb)
    np.testing.assert_array_equal(read_image(tmp_path / "a.png"), rgb)


def test_gray_and_16_bit_files(tmp_path: Path) -> None:
    cv2.imwrite(str(tmp_path / "g.png"), np.full((3, 4), 65535 // 2, np.uint16))
    rgb = read_image(tmp_path / "g.png")
    assert rgb.shape == (3, 4, 3)
    np.testing.assert_allclose(rgb, 0.5, atol=1e-4)


def test_errors(tmp_path: Path) -> None:
    with pytest.raises(ImageError, match="no such file"):
        read_image(tmp_path / "missing.png")
    (tmp_path / "junk.png").write_bytes(b"not a picture")
    with pytest.raises(ImageError, match="cannot be read as a picture"):
        read_image(tmp_path / "junk.png")
    with pytest.raises(ImageError, match=r"cannot write \.xyz"):
        write_image(tmp_path / "out.xyz", np.zeros((2, 2, 3)))
    with pytest.raises(ImageError, match="does not exist"):
        write_image(tmp_path / "no" / "out.png", np.zeros((2, 2, 3)))
