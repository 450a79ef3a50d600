"""Benchmark of the post-processing (run by hand, not a test).

On color photos (by default the validation crops: post-processing is tuned there, the held-out
photos are measured once per shipped model) with random ground-truth point hints (5x5 patch means, radius 2 px):
mean RGB PSNR, the perceivable-artifacts share PA (pixels whose 4-neighborhood is consistent in
the ground truth, every neighbor within 2 in a*b*, but not in the result; lower is better),
colorfulness (Hasler and Suesstrunk) and milliseconds per picture (at --size, CPU), for the
plain model, segment fill (the colors flattened, and per superpixel segmentation), ensembles (mean / median / saturated) and both.
Then on video (vtest.avi and a pan over a validation picture, as benchmarks/propagation.py): PSNR
and flicker with and without the post-processing.

    python benchmarks/postprocess.py [FOLDER] [--hints 20] [--every K] [--limit N] [--method model]
        [--video data/video/vtest.avi] [--photo PICTURE ...] [--frames 60] [--size 854x480]
        [--runs 9] [--only NAME ...] [--skip-video] [--skip-photos]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from models import random_hints
from propagation import flicker as flow_flicker
from propagation import frame_zero_hints, frames_of, gray_clip, motion, read_video, synthetic_pan
from record import recorded

import vscolorize
from vscolorize.core import colorize_image
from vscolorize.core.color import srgb_to_lab
from vscolorize.core.engines.learned import variant_paths
from vscolorize.core.images import read_image
from vscolorize.core.metrics import colorfulness, perceivable_artifacts, psnr
from vscolorize.core.postprocess import SEGMENTATIONS
from vscolorize.core.temporal import DEFAULT_TEMPORAL

# the video pan's default picture: a validation picture (tools/prepare_training_data.py)
PAN_PHOTO = Path("data/val/gcompris-0279-explore_monuments-chateaudeChambord.jpg")


def configurations(method: str, variants: int) -> dict[str, dict[str, Any]]:
    """Every configuration measured, by name; ``segment_fill`` alone is the default, the colors
    flattened (``vscolorize.core.cleanup``)."""
    fill = {"segment_fill": {"postprocess": ("segment_fill",)}}
    fill |= {f"segment_fill:{s}": {"postprocess": (f"segment_fill:{s}",)} for s in SEGMENTATIONS}
    if method != "model":
        return {"plain": {}, **fill}
    biggest = 4 * variants
    return {
        "plain": {},
        **fill,
        "ensemble 3 mean": {"ensemble": 3},
        "ensemble 3 median": {"ensemble": 3, "ensemble_mode": "median"},
        "ensemble 3 saturated": {"ensemble": 3, "ensemble_mode": "saturated"},
        f"ensemble {biggest} mean": {"ensemble": biggest},
        f"ensemble {biggest} median": {"ensemble": biggest, "ensemble_mode": "median"},
        "ensemble 3 + segment_fill": {"ensemble": 3, "postprocess": ("segment_fill",)},
        f"ensemble {biggest} + segment_fill": {
            "ensemble": biggest,
            "postprocess": ("segment_fill",),
        },
    }


def photos(args: argparse.Namespace, method: str) -> None:
    files = sorted(p for p in args.folder.iterdir() if p.suffix.lower() in {".png", ".jpg"})
    files = files[:: args.every][: args.limit]
    pictures = [read_image(p) for p in files]
    configs = chosen(configurations(method, len(variant_paths("fast"))), args.only)
    rows: dict[str, list[tuple[float, float, float]]] = {name: [] for name in configs}
    for i, rgb in enumerate(pictures):
        truth = srgb_to_lab(rgb)[..., 1:]
        hints = random_hints(rgb, args.hints, seed=20_000 + i)
        for name, kwargs in configs.items():
            out = colorize_image(rgb, hints, method=method, **kwargs)
            rows[name].append(
                (psnr(out, rgb), perceivable_artifacts(srgb_to_lab(out)[..., 1:], truth), colorfulness(out))
            )
    # timed on a frame of --size cut from the first photo, whatever the photos' own sizes
    width, height = map(int, args.size.split("x"))
    frame = synthetic_pan(files[0], 1, width, height)[0].clip(0, 1)  # cubic overshoots
    times = timing(frame, random_hints(frame, args.hints, seed=20_000), method, configs, args.runs)
    plain = np.mean(rows["plain"], 0)
    print(
        f"\n{len(pictures)} photos from {args.folder}, {args.hints} hints, "
        f"method={method}, CPU {torch.get_num_threads()} threads; truth colorfulness "
        f"{np.mean([colorfulness(p) for p in pictures]):.1f}; ms: median of {args.runs} runs "
        f"taken in turns, on a {args.size} frame of the first photo"
    )
    print(
        f"{'':28s}{'PSNR':>8s}{'vs plain':>9s}{'PA %':>8s}{'vs plain':>9s}{'colorful':>9s}"
        f"{'ms':>7s}{'x plain':>8s}"
    )
    for name, values in rows.items():
        p, pa, c = np.mean(values, 0)
        ms = times[name]
        print(
            f"{name:28s}{p:8.2f}{p - plain[0]:+9.2f}{100 * pa:8.2f}"
            f"{100 * (pa / plain[1] - 1):+8.0f}%{c:9.1f}{ms:7.0f}{ms / times['plain']:8.2f}"
        )


_RUNS = 9  # --runs


def timing(
    rgb: np.ndarray, hints: Any, method: str, configs: dict[str, dict[str, Any]], repeats: int = _RUNS
) -> dict[str, float]:
    """Median milliseconds per picture for each configuration, the runs taken in turns (one of
    each, then again) so that a slower moment of a shared machine hits them all alike."""
    for kwargs in configs.values():
        colorize_image(rgb, hints, method=method, **kwargs)  # warm-up, models loaded
    runs: dict[str, list[float]] = {name: [] for name in configs}
    for _ in range(repeats):
        for name, kwargs in configs.items():
            start = time.perf_counter()
            colorize_image(rgb, hints, method=method, **kwargs)
            runs[name].append(1000 * (time.perf_counter() - start))
    return {name: float(np.median(values)) for name, values in runs.items()}


def chosen(configs: dict[str, dict[str, Any]], names: Sequence[str] | None) -> dict[str, dict[str, Any]]:
    """``configs`` limited to ``names`` (--only), always with the plain one to compare against."""
    if not names:
        return configs
    unknown = sorted(set(names) - set(configs))
    if unknown:
        raise SystemExit(f"--only: unknown configuration(s) {unknown}; known: {list(configs)}")
    return {name: kwargs for name, kwargs in configs.items() if name == "plain" or name in names}


def video(args: argparse.Namespace, method: str) -> None:
    photos = args.photo if args.photo else [PAN_PHOTO]
    clips = {args.video.name: read_video(args.video, args.frames)}
    width, height = map(int, args.size.split("x"))
    clips |= {f"pan over {p.name}": synthetic_pan(p, args.frames, width, height) for p in photos}
    configs = chosen(configurations(method, len(variant_paths("fast"))), args.only)
    if not args.only:  # the video's rows, where --only does not say
        shown = (
            "plain",
            "segment_fill",
            "segment_fill:seeds",
            "segment_fill:felzenszwalb",
            "ensemble 3 mean",
        )
        configs = {name: kwargs for name, kwargs in configs.items() if name in shown}
    for name, truth in clips.items():
        clip = gray_clip(truth)
        hints = frame_zero_hints(truth[0], 50)
        truth_ab = [srgb_to_lab(f)[..., 1:] for f in truth]
        flows = motion(truth)
        own = flow_flicker(truth_ab, flows)
        print(
            f"\n{name}: {len(truth)} frames, 50 hints on frame 0, propagation on, "
            f"method={method}; ground truth flicker {own:.3f}"
        )
        for temporal in (DEFAULT_TEMPORAL, 0):
            for label, kwargs in configs.items():
                node = vscolorize.colorize(clip, hints, method=method, temporal=temporal, **kwargs)
                start = time.perf_counter()
                out = frames_of(node)
                ms = 1000 * (time.perf_counter() - start) / len(out)
                ab = [srgb_to_lab(o)[..., 1:] for o in out]
                f = flow_flicker(ab, flows)
                score = np.mean([psnr(o, t) for o, t in zip(out, truth, strict=True)])
                pa = np.mean([perceivable_artifacts(a, t) for a, t in zip(ab, truth_ab, strict=True)])
                print(
                    f"  temporal={temporal} {label:28s} PSNR {score:5.2f}  PA {100 * pa:5.2f} %  "
                    f"flicker {f:.3f} ({f / own:.2f}x truth)  {ms:4.0f} ms/frame",
                    flush=True,
                )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("folder", nargs="?", default=Path("data/valcrops"), type=Path)
    parser.add_argument("--hints", type=int, default=20)
    parser.add_argument("--every", type=int, default=1, help="every K-th picture of FOLDER")
    parser.add_argument("--limit", type=int)
    parser.add_argument("--method", nargs="+", default=["model"])
    parser.add_argument("--video", type=Path, default=Path("data/video/vtest.avi"))
    parser.add_argument("--photo", type=Path, nargs="+", help=f"photos to pan over (default: {PAN_PHOTO})")
    parser.add_argument("--frames", type=int, default=60)
    parser.add_argument("--size", default="854x480", help="the pans' and the timed frame's size, WxH")
    parser.add_argument("--runs", type=int, default=_RUNS, help="timed runs per configuration")
    parser.add_argument("--only", nargs="+", help="only these configurations (and plain), by name")
    parser.add_argument("--skip-video", action="store_true")
    parser.add_argument("--skip-photos", action="store_true")
    parser.add_argument(
        "--record", type=Path, help="also put the results at the top of this file (docs/results/)"
    )
    args = parser.parse_args()
    with recorded(args.record):
        for method in args.method:
            if not args.skip_photos:
                photos(args, method)
            if not args.skip_video:
                video(args, method)


if __name__ == "__main__":
    main()
