"""Per-frame cost of the engine's stages (run by hand, not a test).

One held-out photo (or skimage's astronaut) resized to each size, 20 ground-truth point hints,
then the stages of the per-frame pipeline one after the other: ``ab_small`` (the engine at its
working size), ``upsample`` (guided upsampling, hints put back) and ``lab_planes_to_srgb`` (gamut
mapping and L*a*b* -> sRGB). Median milliseconds of N runs, with
torch and OpenCV at 1 thread (frames run two at a time on two cores) and at their defaults.

    python benchmarks/frame_cost.py [--photo PICTURE] [--runs 5] [--sizes 854x480 1920x1080]
"""

from __future__ import annotations

import argparse
import time
from functools import partial
from pathlib import Path

import cv2
import numpy as np
import torch
from record import recorded

from vscolorize.core.color import lab_planes_to_srgb, srgb_to_lab
from vscolorize.core.hints import Color, Keyframe, Point
from vscolorize.core.pipeline import FramePipeline, Settings


def picture(path: Path | None, width: int, height: int) -> np.ndarray:
    if path is None:
        from skimage import data

        rgb = data.astronaut()
    else:
        rgb = cv2.imread(str(path), cv2.IMREAD_COLOR)[..., ::-1]
    return cv2.resize(rgb, (width, height), interpolation=cv2.INTER_AREA).astype(np.float32) / 255


def hints(lab: np.ndarray, count: int = 20) -> Keyframe:
    height, width = lab.shape[:2]
    rng = np.random.default_rng(0)
    points = []
    for _ in range(count):
        r, c = int(rng.integers(2, height - 2)), int(rng.integers(2, width - 2))
        a, b = lab[r - 2 : r + 3, c - 2 : c + 3, 1:].reshape(-1, 2).mean(0).tolist()
        points.append(
            Point(x=(c + 0.5) / width, y=(r + 0.5) / height, color=Color(ab=(a, b)), radius=2 / height)
        )
    return Keyframe(frame=0, points=tuple(points))


def timed(fn, runs: int):  # type: ignore[no-untyped-def]
    out, times = None, []
    for _ in range(runs + 1):  # one warm-up
        start = time.perf_counter()
        out = fn()
        times.append((time.perf_counter() - start) * 1000)
    return out, float(np.median(times[1:]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--photo", type=Path)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--sizes", nargs="+", default=["854x480", "1920x1080"])
    parser.add_argument("--methods", nargs="+", default=["optimization", "model"])
    parser.add_argument("--threads", nargs="+", type=int, default=[1, 0])
    parser.add_argument(
        "--record", type=Path, help="also put the results at the top of this file (docs/results/)"
    )
    args = parser.parse_args()
    with recorded(args.record):
        default_torch, default_cv = torch.get_num_threads(), cv2.getNumThreads()
        engines = {m: FramePipeline(Settings(method=m, device="cpu")) for m in args.methods}
        for threads in args.threads:
            torch.set_num_threads(threads or default_torch)
            cv2.setNumThreads(threads or default_cv)
            label = f"{threads} thread" if threads else f"default threads ({default_torch})"
            for size in args.sizes:
                width, height = map(int, size.split("x"))
                rgb = picture(args.photo, width, height)
                lab = srgb_to_lab(rgb)
                lightness = np.ascontiguousarray(lab[..., 0])
                keyframe = hints(lab)
                for method, engine in engines.items():
                    small, t_small = timed(partial(engine.ab_small, lightness, keyframe), args.runs)
                    ab, t_finish = timed(partial(engine.upsample, small, lightness, keyframe), args.runs)
                    _, t_rgb = timed(partial(lab_planes_to_srgb, lightness, ab), args.runs)
                    total = t_small + t_finish + t_rgb
                    print(
                        f"{label:20s} {size:>9s} {method:12s} ab_small {t_small:7.1f}  "
                        f"upsample {t_finish:6.1f}  to_srgb {t_rgb:6.1f}  total {total:7.1f} ms "
                        f"({1000 / total:.2f} fps)",
                        flush=True,
                    )


if __name__ == "__main__":
    main()
