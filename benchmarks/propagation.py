"""Benchmark of hint propagation (run by hand, not a test).

On a real color clip turned gray (opencv-doc's vtest.avi by default: people walking, static camera)
and on a synthetic pan and zoom over a held-out photo: 50 ground-truth point hints (5x5 patch
means, radius 2 px) on frame 0 only, then the next 59 frames colorized with propagation on and off.
Prints, per clip and method:

- PSNR of frame 0 and mean PSNR over frames 1-59;
- flicker: the mean a*b* change between consecutive frames after compensating motion with the
  ground truth's own optical flow (DIS), pixels failing the forward-backward check (occlusions)
  left out; beside the ground truth's own flicker, and the ratio;
- CDC: color distribution consistency, the mean Jensen-Shannon divergence between the a* and b*
  histograms of consecutive frames (Lei and Chen 2019 use frames 1, 2 and 4 apart; 1 here);
- seconds per frame with and without propagation (cold cache: tracking included).

    python benchmarks/propagation.py [--video data/video/vtest.avi] [--photo PICTURE ...]
        [--frames 60] [--hints 50] [--methods optimization model] [--model auto|FILE]
        [--temporal 2 0] [--postprocess segment_fill] [--ensemble N] [--size 854x480]
        [--skip-video]

tools/prepare_videos.sh puts vtest.avi in data/video/.
"""

from __future__ import annotations

import argparse
import itertools
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import vapoursynth as vs

import vscolorize
from vscolorize.core.color import lab_to_srgb, srgb_to_lab
from vscolorize.core.hints import Color, Hints, Keyframe, Point
from vscolorize.core.metrics import psnr
from vscolorize.core.motion import optical_flow, warp

core = vs.core


def read_video(path: Path, frames: int) -> np.ndarray:
    capture = cv2.VideoCapture(str(path))
    out = []
    while len(out) < frames:
        ok, bgr = capture.read()
        if not ok:
            break
        out.append(bgr[..., ::-1].astype(np.float32) / 255)
    return np.stack(out)


def synthetic_pan(photo: Path, frames: int, width: int = 854, height: int = 480) -> np.ndarray:
    """A pan right and a slow zoom in over a photo."""
    rgb = cv2.imread(str(photo), cv2.IMREAD_COLOR)[..., ::-1].astype(np.float32) / 255
    out = []
    for n in range(frames):
        zoom = 1.1 + 0.15 * n / frames
        scale = zoom * max(width / rgb.shape[1], height / rgb.shape[0])
        cx = rgb.shape[1] / 2 - 0.08 * rgb.shape[1] * (0.5 - n / frames)
        cy = rgb.shape[0] / 2
        m = np.array([[scale, 0, width / 2 - scale * cx], [0, scale, height / 2 - scale * cy]])
        out.append(cv2.warpAffine(rgb, m, (width, height), flags=cv2.INTER_CUBIC,
                                  borderMode=cv2.BORDER_REFLECT))  # fmt: skip
    return np.stack(out)


def gray_clip(rgb: np.ndarray) -> vs.VideoNode:
    """A GRAY8 clip of the frames' lightness (as sRGB gray levels)."""
    lightness = srgb_to_lab(rgb)[..., :1]
    gray = lab_to_srgb(np.concatenate([lightness, np.zeros_like(lightness).repeat(2, -1)], -1))
    levels = np.round(gray[..., 0] * 255).astype(np.uint8)
    count, height, width = levels.shape
    blank = core.std.BlankClip(width=width, height=height, format=vs.GRAY8, length=count)

    def frame(n: int, f: vs.VideoFrame) -> vs.VideoFrame:
        out = f.copy()
        np.copyto(np.asarray(out[0]), levels[n])
        out.props["_Range"] = vs.ColorRange.RANGE_FULL
        return out

    return blank.std.ModifyFrame(clips=blank, selector=frame)


def frame_zero_hints(rgb: np.ndarray, count: int) -> Hints:
    lab = srgb_to_lab(rgb)
    height, width = rgb.shape[:2]
    rng = np.random.default_rng(0)
    points = []
    for _ in range(count):
        r, c = int(rng.integers(2, height - 2)), int(rng.integers(2, width - 2))
        a, b = lab[r - 2 : r + 3, c - 2 : c + 3, 1:].reshape(-1, 2).mean(0).tolist()
        points.append(Point(x=(c + 0.5) / width, y=(r + 0.5) / height, color=Color(ab=(a, b)),
                            radius=2 / min(height, width)))  # fmt: skip
    return Hints(keyframes=(Keyframe(frame=0, points=tuple(points)),))


def motion(truth: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per consecutive pair: flow t -> t+1 on the ground truth's L, and where it is reliable."""
    lightness = [np.clip(srgb_to_lab(f)[..., 0] * 2.55, 0, 255).astype(np.uint8) for f in truth]
    out = []
    for a, b in itertools.pairwise(lightness):
        forward, backward = optical_flow(a, b), optical_flow(b, a)
        error = np.linalg.norm(forward + warp(backward, forward), axis=-1)
        reliable = error <= 1.0 + 0.1 * np.linalg.norm(forward, axis=-1)
        out.append((forward, reliable))
    return out


def flicker(ab: list[np.ndarray], flows: list[tuple[np.ndarray, np.ndarray]]) -> float:
    """Mean |a*b*(t) - a*b*(t+1) warped back to t| over reliably tracked pixels."""
    changes = []
    for t, (flow, reliable) in enumerate(flows):
        moved = warp(ab[t + 1], flow)
        changes.append(np.linalg.norm(ab[t] - moved, axis=-1)[reliable])
    return float(np.concatenate(changes).mean())


def cdc(ab: list[np.ndarray]) -> float:
    """Mean Jensen-Shannon divergence of consecutive frames' a* and b* histograms."""

    def histogram(channel: np.ndarray) -> np.ndarray:
        h, _ = np.histogram(channel, bins=64, range=(-110, 110))
        return (h + 1e-9) / (h.sum() + 64e-9)

    def js(p: np.ndarray, q: np.ndarray) -> float:
        m = (p + q) / 2
        return float(0.5 * (p * np.log2(p / m)).sum() + 0.5 * (q * np.log2(q / m)).sum())

    return float(np.mean([np.mean([js(histogram(a[..., c]), histogram(b[..., c])) for c in (0, 1)])
                          for a, b in itertools.pairwise(ab)]))  # fmt: skip


def frames_of(node: vs.VideoNode) -> list[np.ndarray]:
    return [np.stack([np.asarray(f[i]) for i in range(3)], -1) for f in node.frames(close=True)]


@dataclass
class Row:
    """One clip, method and temporal radius, with propagation on, against propagation off."""

    clip: str
    method: str
    temporal: int
    first: float  # PSNR of frame 0
    rest: float  # mean PSNR of frames 1..
    off: float  # mean PSNR of frames 1.. with propagation off
    flicker: float  # relative to the ground truth's own
    tracking: float  # share of the time per frame spent tracking (cold cache)

    def passes(self) -> tuple[bool, bool, bool, bool]:
        """The acceptance: >= frame 0 - 1.5 dB, >= off + 2 dB, flicker <= 1.25x, tracking <= 25 %."""
        return (self.rest >= self.first - 1.5, self.rest >= self.off + 2, self.flicker <= 1.25,
                self.tracking <= 0.25)  # fmt: skip


def run_clip(name: str, truth: np.ndarray, hints_count: int, methods: list[str], model: str,
             temporal: list[int], **options: object) -> list[Row]:  # fmt: skip
    clip = gray_clip(truth)
    hints = frame_zero_hints(truth[0], hints_count)
    truth_ab = [srgb_to_lab(f)[..., 1:] for f in truth]
    flows = motion(truth)
    own = flicker(truth_ab, flows)
    rows, results = [], {}
    print(f"{name}: {len(truth)} frames {truth.shape[2]}x{truth.shape[1]}, {hints_count} hints "
          f"on frame 0; ground truth flicker {own:.3f}, CDC {cdc(truth_ab):.4f}")  # fmt: skip
    for method in methods:
        for propagate, radius in [(True, t) for t in temporal] + [(False, temporal[0])]:
            with tempfile.TemporaryDirectory() as cache:
                os.environ["VSCOLORIZE_CACHE"] = cache  # cold cache: tracking is timed apart
                start = time.perf_counter()
                if propagate:
                    vscolorize.propagated_hints(clip, hints)
                tracking = (time.perf_counter() - start) / len(truth)
                node = vscolorize.colorize(clip, hints, method=method, model=model,
                                           propagate=propagate, temporal=radius,
                                           **options)  # type: ignore[arg-type]  # fmt: skip
                out = frames_of(node)
                seconds = (time.perf_counter() - start) / len(out)
            scores = [psnr(o, t) for o, t in zip(out, truth, strict=True)]
            ab = [srgb_to_lab(o)[..., 1:] for o in out]
            f = flicker(ab, flows)
            print(f"  {method:12s} propagate={propagate!s:5s} temporal={radius}  frame 0 "
                  f"{scores[0]:5.2f} dB  frames 1-{len(out) - 1} {np.mean(scores[1:]):5.2f} dB  "
                  f"flicker {f:.3f} ({f / own:.2f}x truth)  CDC {cdc(ab):.4f}  "
                  f"{seconds * 1000:5.0f} ms/frame, tracking {tracking * 1000:4.0f} of them",
                  flush=True)  # fmt: skip
            results[method, propagate, radius] = (scores, f / own, tracking / seconds)
        off = np.mean(results[method, False, temporal[0]][0][1:])
        for radius in temporal:
            scores, ratio, share = results[method, True, radius]
            rows.append(Row(name, method, radius, scores[0], float(np.mean(scores[1:])), float(off),
                            ratio, share))  # fmt: skip
    return rows


def summary(rows: list[Row]) -> None:
    """Per method and radius: the means over clips, and how many clips pass each criterion."""
    print("\nsummary (means over clips; passing clips: >= frame 0 - 1.5 dB, >= off + 2 dB, "
          "flicker <= 1.25x, tracking <= 25 %)")  # fmt: skip
    for method, radius in sorted({(r.method, r.temporal) for r in rows}):
        group = [r for r in rows if r.method == method and r.temporal == radius]
        passing = np.sum([r.passes() for r in group], axis=0)
        print(f"  {method:12s} temporal={radius}  {len(group)} clips  frame 0 "
              f"{np.mean([r.first for r in group]):5.2f}  frames 1.. "
              f"{np.mean([r.rest for r in group]):5.2f}  off {np.mean([r.off for r in group]):5.2f}"
              f"  flicker {np.mean([r.flicker for r in group]):.2f}x (median "
              f"{np.median([r.flicker for r in group]):.2f}x)  tracking "
              f"{np.mean([r.tracking for r in group]) * 100:.0f} %  passing "
              f"{'/'.join(str(int(p)) for p in passing)} of {len(group)}"
              f"  all four: {sum(all(r.passes()) for r in group)}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--video", type=Path, default=Path("data/video/vtest.avi"))
    parser.add_argument("--photo", type=Path, nargs="+", help="photos to pan over (default: one)")
    parser.add_argument("--frames", type=int, default=60)
    parser.add_argument("--hints", type=int, default=50)
    parser.add_argument("--methods", nargs="+", default=["optimization"])
    parser.add_argument("--model", default="auto")
    parser.add_argument(
        "--temporal",
        nargs="+",
        type=int,
        default=[2, 0],
        help="temporal filter radii to compare (with propagation)",
    )
    parser.add_argument("--postprocess", nargs="*", default=[], help="as colorize() takes it")
    parser.add_argument("--ensemble", type=int, default=1)
    parser.add_argument("--size", default="854x480", help="the pans' size, WxH")
    parser.add_argument("--skip-video", action="store_true")
    args = parser.parse_args()
    width, height = map(int, args.size.split("x"))
    options = {"postprocess": tuple(args.postprocess), "ensemble": args.ensemble}
    photos = args.photo if args.photo else sorted(Path("data/heldout").glob("*.png"))[1:2]
    rows = []
    if not args.skip_video:
        rows += run_clip(args.video.name, read_video(args.video, args.frames), args.hints, args.methods,
                 args.model, args.temporal, **options)  # fmt: skip
    for photo in photos:
        pan = synthetic_pan(photo, args.frames, width, height)
        rows += run_clip(f"pan over {photo.name}", pan, args.hints, args.methods, args.model,
                         args.temporal, **options)  # fmt: skip
    summary(rows)


if __name__ == "__main__":
    main()
