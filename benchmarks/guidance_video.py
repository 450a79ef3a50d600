"""Benchmark of suggested keyframes on video (run by hand, not a test).

On real color clips turned gray, with ground-truth point hints on a regular grid (5x5 patch means
of the true colors) on frame 0: vtest.avi (static camera, people walking in and out) and a pan over a
held-out photo that a block cut from another photo enters a third of the way in and stays in. For
each candidate frame f the clip is colorized with a second keyframe at f (the same grid of
ground-truth points there) and its per-frame a*b* error measured against the truth; the gain of f is how much the
mean error over the clip falls against frame 0's hints alone. Prints, per clip:

- the truth's best frame (largest gain among the candidates) and its gain;
- the suggested frame (``vscolorize.suggest_keyframes`` with frame 0's hints) and its gain;
- the gains of the shot's middle frame and of a random candidate (their mean), and the
  suggested frame's share of the best gain.

    python benchmarks/guidance_video.py [--video data/video/vtest.avi] [--photo P --occluder Q]
        [--frames 60] [--size 192x144] [--every 6] [--hints 30] [--method optimization] [--smoke]

Candidates are every ``--every`` frames plus the suggested and the middle frame.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
from propagation import frames_of, gray_clip, read_video, synthetic_pan
from record import recorded

import vscolorize
from vscolorize.core.color import srgb_to_lab
from vscolorize.core.hints import Color, Hints, Keyframe, Point


def entering_block(photo: Path, occluder: Path | None, frames: int, width: int, height: int) -> np.ndarray:
    """The pan over ``photo`` that propagation.py makes, with a block (from ``occluder``, or the
    photo upside down) coming in from the right a third of the way in and resting once inside."""
    pan = synthetic_pan(photo, frames, width, height)
    bw, bh = max(width // 4, 4), max(height // 2, 4)
    source = cv2.imread(str(occluder if occluder else photo), cv2.IMREAD_COLOR)
    block = cv2.resize(source, (bw, bh), interpolation=cv2.INTER_AREA)[..., ::-1].astype(np.float32) / 255
    if occluder is None:
        block = block[::-1, ::-1]
    entry, top, speed = frames // 3, (height - bh) // 3, max(bw // 4, 1)
    rest = width - bw - width // 10
    for n in range(entry, frames):
        left = max(width - speed * (n - entry + 1), rest)
        right = min(left + bw, width)
        pan[n, top : top + bh, left:right] = block[:, : right - left]
    return pan


def error_by_frame(truth_ab: list[np.ndarray], clip: object, hints: Hints, method: str) -> np.ndarray:
    out = frames_of(vscolorize.colorize(clip, hints, method=method, temporal=0))  # type: ignore[arg-type]
    return np.array(
        [
            float(np.linalg.norm(srgb_to_lab(o)[..., 1:] - t, axis=-1).mean())
            for o, t in zip(out, truth_ab, strict=True)
        ]
    )


def grid_points(rgb: np.ndarray, count: int, frame: int) -> Keyframe:
    """About ``count`` points on a regular grid over the frame, each the true mean a*b* of the
    5x5 patch under it: every keyframe hinted alike, so that a keyframe's gain measures where it
    is, not where its points happened to fall."""
    lab = srgb_to_lab(rgb)
    height, width = rgb.shape[:2]
    columns = max(round(np.sqrt(count * width / height)), 1)
    rows = max(round(count / columns), 1)
    points = []
    for r in range(rows):
        for c in range(columns):
            y, x = round((r + 0.5) * height / rows), round((c + 0.5) * width / columns)
            y, x = min(max(y, 2), height - 3), min(max(x, 2), width - 3)
            a, b = lab[y - 2 : y + 3, x - 2 : x + 3, 1:].reshape(-1, 2).mean(0).tolist()
            points.append(
                Point(
                    x=(x + 0.5) / width,
                    y=(y + 0.5) / height,
                    color=Color(ab=(a, b)),
                    radius=2 / min(height, width),
                )
            )
    return Keyframe(frame=frame, points=tuple(points))


def run_clip(name: str, truth: np.ndarray, args: argparse.Namespace) -> dict[str, float]:
    clip = gray_clip(truth)
    truth_ab = [srgb_to_lab(f)[..., 1:] for f in truth]
    first = Hints(keyframes=(grid_points(truth[0], args.hints, 0),))
    start = time.perf_counter()
    suggestions = vscolorize.suggest_keyframes(clip, first)
    seconds = time.perf_counter() - start
    suggested = suggestions[0].frame if suggestions else None
    count = len(truth)
    middle = count // 2
    candidates = sorted({*range(args.every, count, args.every), middle, *([suggested] if suggested else [])})
    base = error_by_frame(truth_ab, clip, first, args.method)
    gains = {}
    for f in candidates:
        hints = Hints(keyframes=(first.keyframes[0], grid_points(truth[f], args.hints, f)))
        errors = error_by_frame(truth_ab, clip, hints, args.method)
        gains[f] = float(base.mean() - errors.mean())
    best = max(gains, key=gains.__getitem__)
    random = float(np.mean(list(gains.values())))
    got = gains[suggested] if suggested is not None else 0.0
    print(
        f"{name}: {count} frames {truth.shape[2]}x{truth.shape[1]}, {args.hints} hints on frame 0, "
        f"{args.method}; a*b* error with frame 0's hints alone {base.mean():.2f} (frame 0 "
        f"{base[0]:.2f}, last {base[-1]:.2f}); suggesting took {seconds:.1f} s"
    )
    print(
        "  gain of a second keyframe (mean a*b* error removed) by frame: "
        + ", ".join(f"{f}: {g:.2f}" for f, g in gains.items())
    )
    reason = suggestions[0].reason if suggestions else "none"
    print(
        f"  truth's best frame {best} (gain {gains[best]:.2f}); suggested {suggested} (gain {got:.2f}, "
        f"{got / gains[best] if gains[best] > 0 else float('nan'):.0%} of the best; {reason}); "
        f"middle {middle} (gain {gains[middle]:.2f}); random candidate (mean) {random:.2f}",
        flush=True,
    )
    return {"best": gains[best], "suggested": got, "middle": gains[middle], "random": random}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--video", type=Path, default=Path("data/video/vtest.avi"))
    parser.add_argument("--photo", type=Path, help="the photo to pan over (default: a held-out one)")
    parser.add_argument("--occluder", type=Path, help="the photo the entering block is cut from")
    parser.add_argument("--frames", type=int, default=60)
    parser.add_argument("--size", default="192x144", help="WxH the clips are colorized at")
    parser.add_argument("--every", type=int, default=6, help="candidate frames: every N frames")
    parser.add_argument("--hints", type=int, default=30, help="ground-truth points per keyframe")
    parser.add_argument("--method", default="optimization", choices=["optimization", "model"])
    parser.add_argument("--smoke", action="store_true", help="a tiny run: 9 frames at 96x64")
    parser.add_argument("--record", type=Path, help="also put the results at the top of this file")
    args = parser.parse_args()
    if args.smoke:
        args.frames, args.size, args.every, args.hints = 9, "96x64", 4, 5
    width, height = map(int, args.size.split("x"))
    with recorded(args.record), tempfile.TemporaryDirectory() as cache:
        os.environ["VSCOLORIZE_CACHE"] = cache
        video = read_video(args.video, args.frames)
        video = np.stack([cv2.resize(f, (width, height), interpolation=cv2.INTER_AREA) for f in video])
        photos = sorted(Path("data/heldout").glob("*.png"))
        photo = args.photo if args.photo else photos[1]
        occluder = args.occluder if args.occluder or args.photo else photos[2]
        rows = {
            args.video.name: run_clip(args.video.name, video, args),
            f"pan over {photo.name}, a block entering": run_clip(
                f"pan over {photo.name}, a block entering",
                entering_block(photo, occluder, args.frames, width, height),
                args,
            ),
        }
        print("\nsummary (gain: mean a*b* error removed by a second keyframe there)")
        print(f"  {'clip':48s} {'best':>6s} {'suggested':>9s} {'middle':>6s} {'random':>6s}")
        for name, row in rows.items():
            print(
                f"  {name:48s} {row['best']:6.2f} {row['suggested']:9.2f} {row['middle']:6.2f} "
                f"{row['random']:6.2f}"
            )


if __name__ == "__main__":
    main()
