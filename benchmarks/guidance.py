"""Benchmark of hint suggestions (``vscolorize.core.suggest_points``): a simulated colorist.

``photos``: on each color photo, start from no hints, ask where the next hint pays most, put a
point of the true color there (the mean a*b* of the ground truth's 5x5 patch, default radius) and
repeat up to 20 hints. Mean RGB PSNR (as benchmarks/models.py measures it) at 1/2/5/10/20 hints
for the suggestions, for uniformly random places (mean over seeds), for a regular grid, and for an
oracle that knows the error map (each next hint at the maximum of the smoothed a*b* error); then
the share of the oracle's gain over random places that the suggestions get, and the time per
suggestion. ``video``: suggested keyframes on clips against the truth's best second keyframe
(``benchmarks/guidance_video.py``, whose options it takes).

    python benchmarks/guidance.py photos [FOLDER] [--every K] [--limit N] [--size WxH] [--seeds N]
        [--method model|optimization] [--smoke]
    python benchmarks/guidance.py video [--video FILE] [--frames N] [--size WxH] [--smoke] ...

FOLDER defaults to data/heldout; ``--size`` crops each photo to that aspect and scales it there;
``--smoke`` is a tiny run (one photo at 96x64, one seed) that only checks the script works.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import torch
from record import recorded

from vscolorize.core import suggest_points
from vscolorize.core.color import lab_planes_to_srgb, srgb_to_lab
from vscolorize.core.hints import Color, Hints, Keyframe, Point
from vscolorize.core.images import read_image
from vscolorize.core.metrics import psnr
from vscolorize.core.pipeline import FramePipeline, Settings

COUNTS = (1, 2, 5, 10, 20)
PATCH = 2  # a hint reveals the mean of the (2 * PATCH + 1)^2 patch around it
ORACLE_SIGMA = 0.03  # the oracle smooths the error map by this share of the short side

# (photo, current hints) -> the next place, (row, col) in pixels
Chooser = Callable[["Photo", Keyframe], tuple[int, int]]


class Photo:
    """A ground-truth photo and what every strategy needs of it."""

    def __init__(self, rgb: np.ndarray, pipeline: FramePipeline) -> None:
        self.rgb = rgb
        self.lab = srgb_to_lab(rgb)
        self.lightness = np.ascontiguousarray(self.lab[..., 0], np.float32)
        self.pipeline = pipeline
        self.height, self.width = rgb.shape[:2]

    def hint(self, keyframe: Keyframe, row: int, col: int) -> Keyframe:
        """``keyframe`` with a point of the true color at (row, col), kept where its patch fits."""
        row = min(max(row, PATCH), self.height - 1 - PATCH)
        col = min(max(col, PATCH), self.width - 1 - PATCH)
        patch = self.lab[row - PATCH : row + PATCH + 1, col - PATCH : col + PATCH + 1, 1:]
        a, b = patch.reshape(-1, 2).mean(0).tolist()
        point = Point(x=(col + 0.5) / self.width, y=(row + 0.5) / self.height, color=Color(ab=(a, b)))
        return Keyframe(frame=0, points=(*keyframe.points, point))

    def ab(self, keyframe: Keyframe) -> np.ndarray:
        return self.pipeline.ab(self.lightness, keyframe)

    def score(self, keyframe: Keyframe) -> float:
        return psnr(lab_planes_to_srgb(self.lightness, self.ab(keyframe)), self.rgb)


def colorist(photo: Photo, choose: Chooser, steps: int) -> tuple[dict[int, float], list[float]]:
    """Add ``steps`` hints one by one where ``choose`` says: PSNR at each of COUNTS, and the
    seconds each choice took."""
    keyframe = Keyframe(frame=0)
    scores, seconds = {}, []
    for n in range(1, steps + 1):
        start = time.perf_counter()
        row, col = choose(photo, keyframe)
        seconds.append(time.perf_counter() - start)
        keyframe = photo.hint(keyframe, row, col)
        if n in COUNTS:
            scores[n] = photo.score(keyframe)
    return scores, seconds


def suggested(settings: Settings) -> Chooser:
    def choose(photo: Photo, keyframe: Keyframe) -> tuple[int, int]:
        hints = Hints(keyframes=(keyframe,))
        [(x, y)] = suggest_points(photo.rgb, hints, settings=settings)
        return math.floor(y * photo.height), math.floor(x * photo.width)

    return choose


def oracle(photo: Photo, keyframe: Keyframe) -> tuple[int, int]:
    """The maximum of the current squared a*b* error, smoothed over a hint's neighborhood, away
    from the hints already there (where a hint's patch mean misses, the error stays, and the
    oracle would ask for the same place again)."""
    error = ((photo.ab(keyframe) - photo.lab[..., 1:]) ** 2).sum(-1)
    sigma = ORACLE_SIGMA * min(photo.height, photo.width)
    smooth = cv2.GaussianBlur(error, (0, 0), sigma)
    for point in keyframe.points:
        center = (int(point.x * photo.width), int(point.y * photo.height))
        cv2.circle(smooth, center, max(1, round(sigma)), -1.0, thickness=-1)
    inner = smooth[PATCH:-PATCH, PATCH:-PATCH]
    row, col = np.unravel_index(int(np.argmax(inner)), inner.shape)
    return int(row) + PATCH, int(col) + PATCH


def fixed(photo: Photo, places: list[tuple[int, int]]) -> dict[int, float]:
    """PSNR at each of COUNTS with the first places of a list."""
    scores = {}
    for n in COUNTS:
        keyframe = Keyframe(frame=0)
        for row, col in places[:n]:
            keyframe = photo.hint(keyframe, row, col)
        scores[n] = photo.score(keyframe)
    return scores


def random_places(photo: Photo, count: int, seed: int) -> list[tuple[int, int]]:
    rng = np.random.default_rng(seed)
    rows = rng.integers(PATCH, photo.height - PATCH, count)
    cols = rng.integers(PATCH, photo.width - PATCH, count)
    return list(zip(rows.tolist(), cols.tolist(), strict=True))


def grid_scores(photo: Photo) -> dict[int, float]:
    """PSNR at each of COUNTS with that many places on a regular grid of nearly square cells."""
    scores = {}
    for n in COUNTS:
        rows = max(1, round(math.sqrt(n * photo.height / photo.width)))
        cols = math.ceil(n / rows)
        cells = np.linspace(0, rows * cols - 1, n).round().astype(int)  # n of the cells, spread
        keyframe = Keyframe(frame=0)
        for cell in cells.tolist():
            r, c = divmod(cell, cols)
            keyframe = photo.hint(
                keyframe, int((r + 0.5) * photo.height / rows), int((c + 0.5) * photo.width / cols)
            )
        scores[n] = photo.score(keyframe)
    return scores


def fit(rgb: np.ndarray, size: tuple[int, int] | None) -> np.ndarray:
    """``rgb`` center-cropped to the aspect of ``size`` (width, height) and scaled to it."""
    if size is None:
        return rgb
    width, height = size
    h, w = rgb.shape[:2]
    scale = max(width / w, height / h)
    crop_w, crop_h = min(w, round(width / scale)), min(h, round(height / scale))
    top, left = (h - crop_h) // 2, (w - crop_w) // 2
    cropped = rgb[top : top + crop_h, left : left + crop_w]
    return cv2.resize(cropped, (width, height), interpolation=cv2.INTER_AREA)


def photos_benchmark(args: argparse.Namespace) -> None:
    settings = Settings(method=args.method, device="cpu")
    pipeline = FramePipeline(settings)
    files = sorted(p for p in args.folder.iterdir() if p.suffix.lower() in {".png", ".jpg", ".jpeg"})
    files = files[:: args.every][: args.limit]
    size = tuple(map(int, args.size.split("x"))) if args.size else None
    strategies = ("suggest", "random", "grid", "oracle")
    table: dict[str, dict[int, list[float]]] = {s: {n: [] for n in COUNTS} for s in strategies}
    seconds: list[float] = []
    steps = max(COUNTS)
    for i, path in enumerate(files):
        photo = Photo(fit(read_image(path), size), pipeline)  # type: ignore[arg-type]
        runs = {}
        runs["suggest"], took = colorist(photo, suggested(settings), steps)
        seconds += took
        runs |= {
            "oracle": colorist(photo, oracle, steps)[0],
            "grid": grid_scores(photo),
        }
        draws = [fixed(photo, random_places(photo, steps, 1000 * s + i)) for s in range(args.seeds)]
        runs["random"] = {n: float(np.mean([d[n] for d in draws])) for n in COUNTS}
        for name, scores in runs.items():
            for n in COUNTS:
                table[name][n].append(scores[n])
        print(
            f"{path.name}: "
            + "  ".join(f"{name} {runs[name][10]:.2f}" for name in strategies)
            + " (10 hints)",
            flush=True,
        )
    means = {name: {n: float(np.mean(table[name][n])) for n in COUNTS} for name in strategies}
    label = f"{photo.width}x{photo.height}"
    print(f"\nmean RGB PSNR (dB) on {len(files)} photos from {args.folder} at {label}, method {args.method}")
    print(f"{'hints':24s}" + "".join(f"{n:>8d}" for n in COUNTS))
    for name in strategies:
        print(f"{name:24s}" + "".join(f"{means[name][n]:8.2f}" for n in COUNTS))
    print(
        f"{'suggest - random':24s}"
        + "".join(f"{means['suggest'][n] - means['random'][n]:+8.2f}" for n in COUNTS)
    )
    shares = []
    for n in COUNTS:
        gain = means["oracle"][n] - means["random"][n]
        shares.append((means["suggest"][n] - means["random"][n]) / gain if gain > 0 else float("nan"))
    print(f"{'share of oracle gain':24s}" + "".join(f"{s:8.2f}" for s in shares))
    print(
        f"{1000 * float(np.median(seconds)):.0f} ms per suggestion at {label} on CPU "
        f"({torch.get_num_threads()} threads; random: mean of {args.seeds} seeds)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    photos = commands.add_parser("photos", help="a simulated colorist on still photos")
    photos.add_argument("folder", nargs="?", default="data/heldout", type=Path)
    photos.add_argument("--every", type=int, default=1, help="every K-th photo of FOLDER")
    photos.add_argument("--limit", type=int)
    photos.add_argument("--size", help="crop and scale each photo to WxH (default: as they are)")
    photos.add_argument("--seeds", type=int, default=3, help="random places: the mean over this many")
    photos.add_argument("--method", default="model")
    photos.add_argument("--smoke", action="store_true", help="one photo at 96x64, one seed")
    photos.add_argument("--record", type=Path, help="also put the results at the top of this file")
    commands.add_parser(
        "video", add_help=False, help="suggested keyframes on clips (guidance_video.py's options)"
    )
    args, rest = parser.parse_known_args()
    if args.command == "video":
        import guidance_video

        sys.argv = [guidance_video.__file__, *rest]
        guidance_video.main()
        return
    if rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    if args.smoke:
        args.limit, args.size, args.seeds = 1, "96x64", 1
    with recorded(args.record):
        photos_benchmark(args)


if __name__ == "__main__":
    main()
