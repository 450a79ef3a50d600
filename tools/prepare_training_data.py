"""Turn the Debian packages DESIGN.md names into a compact training set (run by hand, once).

Downloads the packages with apt-get, keeps each distinct color picture once (the largest file of a
wallpaper shipped at several sizes; gray pictures and documentation icons are skipped), adds
scikit-image's color samples, scales each to a short side of 384 px and writes JPEGs (quality 92)
into data/train/ and every tenth into data/val/. About 20 MB: it travels to a GPU machine.

    python tools/prepare_training_data.py [--out data] [--short-side 384]
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
from pathlib import Path

import cv2
import numpy as np

PACKAGES = [
    "gnome-backgrounds",
    "mate-backgrounds",
    "plasma-workspace-wallpapers",
    "ukui-wallpapers",
    "opencv-doc",
]
SKIMAGE_SAMPLES = ["astronaut", "chelsea", "coffee", "rocket", "immunohistochemistry", "retina"]
SUFFIXES = {".jpg", ".jpeg", ".png", ".webp"}
MIN_BYTES = 20_000
MIN_SIDE = 160
MIN_CHROMA = 4.0  # mean |ab| below this: a gray or nearly gray picture teaches nothing


def _pictures(root: Path) -> list[Path]:
    files = [
        p
        for p in root.rglob("*")
        if p.suffix.lower() in SUFFIXES and "/html/" not in str(p) and p.stat().st_size >= MIN_BYTES
    ]
    # a wallpaper shipped at several sizes (contents/images/WxH.png): keep its largest file
    largest: dict[Path, Path] = {}
    for p in files:
        key = p.parent if p.parent.name == "images" else p
        if key not in largest or p.stat().st_size > largest[key].stat().st_size:
            largest[key] = p
    return sorted(largest.values())


def _chroma(bgr: np.ndarray) -> float:
    lab = cv2.cvtColor(bgr, cv2.COLOR_BGR2Lab).astype(np.float32)
    return float(np.abs(lab[..., 1:] - 128).mean())


def _save(bgr: np.ndarray, path: Path, short_side: int) -> bool:
    h, w = bgr.shape[:2]
    if min(h, w) < MIN_SIDE or _chroma(bgr) < MIN_CHROMA:
        return False
    scale = short_side / min(h, w)
    if scale < 1:
        bgr = cv2.resize(bgr, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)
    cv2.imwrite(str(path), bgr, [cv2.IMWRITE_JPEG_QUALITY, 92])
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=Path("data"))
    parser.add_argument("--short-side", type=int, default=384)
    args = parser.parse_args()
    train, val = args.out / "train", args.out / "val"
    train.mkdir(parents=True, exist_ok=True)
    val.mkdir(parents=True, exist_ok=True)
    kept = 0
    with tempfile.TemporaryDirectory() as work:
        subprocess.run(["apt-get", "download", *PACKAGES], cwd=work, check=True)
        for deb in sorted(Path(work).glob("*.deb")):
            package = deb.name.split("_")[0]
            subprocess.run(["dpkg", "-x", str(deb), str(Path(work) / package)], check=True)
            for picture in _pictures(Path(work) / package):
                bgr = cv2.imread(str(picture), cv2.IMREAD_COLOR)
                if bgr is None:
                    continue
                stem = (
                    picture.parent.parent.name if picture.parent.name == "images" else picture.stem
                )
                name = f"{package}-{kept:04d}-{stem}.jpg"
                folder = val if kept % 10 == 9 else train
                kept += _save(bgr, folder / name, args.short_side)
    import skimage.data

    for sample in SKIMAGE_SAMPLES:
        rgb = getattr(skimage.data, sample)()
        folder = val if kept % 10 == 9 else train
        kept += _save(
            np.ascontiguousarray(rgb[..., ::-1]), folder / f"skimage-{sample}.jpg", args.short_side
        )
    size = sum(p.stat().st_size for p in args.out.rglob("*.jpg")) / 1e6
    print(f"{kept} pictures, {size:.1f} MB: {train} and {val}")


if __name__ == "__main__":
    main()
