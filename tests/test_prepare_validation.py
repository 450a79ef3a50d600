"""tools/prepare_validation.py: fixed crops of the validation pictures, none of a frame whose
clip was trained on."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np

TOOL = Path(__file__).resolve().parents[1] / "tools" / "prepare_validation.py"


def picture(path: Path, height: int, width: int, seed: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), np.random.default_rng(seed).integers(0, 255, (height, width, 3), np.uint8))


def test_crops_are_fixed_and_leave_out_frames_of_trained_clips(tmp_path: Path) -> None:
    val, train = tmp_path / "val", tmp_path / "train"
    picture(val / "mate-backgrounds-0019-LadyBird.jpg", 384, 683, 1)
    picture(val / "gnome-backgrounds-0009-small.jpg", 150, 200, 2)
    picture(val / "wheel-0329-bikes-110.jpg", 272, 640, 3)  # its clip's frames were trained on
    picture(train / "wheel-0328-bikes-100.jpg", 272, 640, 4)
    picture(train / "opencv-doc-0108-lena.jpg", 384, 384, 5)

    def run(out: Path) -> list[Path]:
        done = subprocess.run(
            [sys.executable, str(TOOL), "--val", str(val), "--train", str(train), "--out", str(out)],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        assert "wheel-0329-bikes-110.jpg" in done.stdout
        return sorted(out.iterdir())

    first = run(tmp_path / "a")
    names = [p.name for p in first]
    assert not any("bikes" in n for n in names)
    wide = [n for n in names if n.startswith("mate-backgrounds")]
    assert len(wide) == 11  # every framing but 2.39:1 at half height (142 px) fits 384x683
    # a 150x200 picture holds only the framings whose short side stays at 144 px or more
    assert 0 < sum(n.startswith("gnome-backgrounds") for n in names) < 12
    shapes = {cv2.imread(str(p)).shape[:2] for p in first}
    assert min(min(s) for s in shapes) >= 144 and len(shapes) > 6  # many framings
    # the same crops every run
    second = run(tmp_path / "b")
    assert [p.read_bytes() for p in first] == [p.read_bytes() for p in second]
    assert not list((tmp_path / "a").glob("*.part.jpg"))
