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
- colorfulness (Hasler and Suesstrunk) of all frames, as a multiple of the ground truth's;
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
from record import recorded

import vscolorize
from vscolorize.core.color import lab_to_srgb, srgb_to_lab
from vscolorize.core.hints import Color, Hints, Keyframe, Point
from vscolorize.core.metrics import colorfulness, psnr
from vscolorize.core.motion import warp

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
        out.append(
            cv2.warpAffine(rgb, m, (width, height), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT)
        )
    return np.stack(out)


def gray_clip(rgb: np.ndarray) -> vs.VideoNode:
    """A GRAY8 clip of the frames' lightness (as sRGB gray levels)."""
    lightness = srgb_to_lab(rgb)[..., :1]
    gray = lab_to_srgb(np.concatenate([lightness, np.zeros_like(lightness).repeat(2, -1)], -1))
    return gray_node(gray[..., 0])


def gray_node(gray: np.ndarray) -> vs.VideoNode:
    """A full-range GRAY8 clip (24 fps) of (N, H, W) gray levels in [0, 1]."""
    levels = np.round(np.clip(gray, 0, 1) * 255).astype(np.uint8)
    count, height, width = levels.shape
    blank = core.std.BlankClip(width=width, height=height, format=vs.GRAY8, length=count)

    def frame(n: int, f: vs.VideoFrame) -> vs.VideoFrame:
        out = f.copy()
        np.copyto(np.asarray(out[0]), levels[n])
        out.props["_Range"] = vs.ColorRange.RANGE_FULL
        return out

    return blank.std.ModifyFrame(clips=blank, selector=frame)


def frame_zero_hints(rgb: np.ndarray, count: int, rng: np.random.Generator | None = None) -> Hints:
    """``count`` points on frame 0 (sRGB ``rgb``), each the mean true a*b* of a 5x5 patch, at
    places ``rng`` draws (by default, the same places every time)."""
    lab = srgb_to_lab(rgb)
    height, width = rgb.shape[:2]
    rng = np.random.default_rng(0) if rng is None else rng
    points = []
    for _ in range(count):
        r, c = int(rng.integers(2, height - 2)), int(rng.integers(2, width - 2))
        a, b = lab[r - 2 : r + 3, c - 2 : c + 3, 1:].reshape(-1, 2).mean(0).tolist()
        points.append(
            Point(
                x=(c + 0.5) / width,
                y=(r + 0.5) / height,
                color=Color(ab=(a, b)),
                radius=2 / min(height, width),
            )
        )
    return Hints(keyframes=(Keyframe(frame=0, points=tuple(points)),))


def motion(truth: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per consecutive pair: flow t -> t+1 on the ground truth's L, and where it is reliable. The
    benchmark's own flow (OpenCV's DIS, medium preset, as it comes), never the product's: a change
    to how the product measures motion must not change the yardstick."""
    lightness = [np.clip(srgb_to_lab(f)[..., 0] * 2.55, 0, 255).astype(np.uint8) for f in truth]
    dis = cv2.DISOpticalFlow.create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    out = []
    for a, b in itertools.pairwise(lightness):
        forward, backward = dis.calc(a, b, None), dis.calc(b, a, None)
        error = np.linalg.norm(forward + warp(backward, forward), axis=-1)
        reliable = error <= 1.0 + 0.1 * np.linalg.norm(forward, axis=-1)
        out.append((forward, reliable))
    return out


def flicker_by_frame(ab: list[np.ndarray], flows: list[tuple[np.ndarray, np.ndarray]]) -> list[np.ndarray]:
    """Per consecutive pair t, t+1: |a*b*(t) - a*b*(t+1) warped back to t| at the reliably
    tracked pixels."""
    changes = []
    for t, (flow, reliable) in enumerate(flows):
        moved = warp(ab[t + 1], flow)
        changes.append(np.linalg.norm(ab[t] - moved, axis=-1)[reliable])
    return changes


def flicker(ab: list[np.ndarray], flows: list[tuple[np.ndarray, np.ndarray]]) -> float:
    """Mean |a*b*(t) - a*b*(t+1) warped back to t| over reliably tracked pixels."""
    return float(np.concatenate(flicker_by_frame(ab, flows)).mean())


def cdc(ab: list[np.ndarray]) -> float:
    """Mean Jensen-Shannon divergence of consecutive frames' a* and b* histograms."""

    def histogram(channel: np.ndarray) -> np.ndarray:
        h, _ = np.histogram(channel, bins=64, range=(-110, 110))
        return (h + 1e-9) / (h.sum() + 64e-9)

    def js(p: np.ndarray, q: np.ndarray) -> float:
        m = (p + q) / 2
        return float(0.5 * (p * np.log2(p / m)).sum() + 0.5 * (q * np.log2(q / m)).sum())

    return float(
        np.mean(
            [
                np.mean([js(histogram(a[..., c]), histogram(b[..., c])) for c in (0, 1)])
                for a, b in itertools.pairwise(ab)
            ]
        )
    )


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
        return (
            self.rest >= self.first - 1.5,
            self.rest >= self.off + 2,
            self.flicker <= 1.25,
            self.tracking <= 0.25,
        )


def run_clip(
    name: str,
    truth: np.ndarray,
    hints_count: int,
    methods: list[str],
    model: str,
    temporal: list[int],
    **options: object,
) -> list[Row]:
    clip = gray_clip(truth)
    hints = frame_zero_hints(truth[0], hints_count)
    truth_ab = [srgb_to_lab(f)[..., 1:] for f in truth]
    flows = motion(truth)
    own = flicker(truth_ab, flows)
    truth_colorfulness = sum(colorfulness(f) for f in truth)
    rows, results = [], {}
    print(
        f"{name}: {len(truth)} frames {truth.shape[2]}x{truth.shape[1]}, {hints_count} hints "
        f"on frame 0; ground truth flicker {own:.3f}, CDC {cdc(truth_ab):.4f}"
    )
    for method in methods:
        for propagate, radius in [(True, t) for t in temporal] + [(False, temporal[0])]:
            with tempfile.TemporaryDirectory() as cache:
                os.environ["VSCOLORIZE_CACHE"] = cache  # cold cache: tracking is timed apart
                start = time.perf_counter()
                if propagate:
                    vscolorize.propagated_hints(clip, hints)
                tracking = (time.perf_counter() - start) / len(truth)
                node = vscolorize.colorize(
                    clip, hints, method=method, model=model, propagate=propagate, temporal=radius, **options
                )  # type: ignore[arg-type]
                out = frames_of(node)
                seconds = (time.perf_counter() - start) / len(out)
                if propagate:  # again, on the warm store: what a render after an edit pays
                    start = time.perf_counter()
                    vscolorize.propagated_hints(clip, hints)
                    warm = (time.perf_counter() - start) / len(out)
            scores = [psnr(o, t) for o, t in zip(out, truth, strict=True)]
            ab = [srgb_to_lab(o)[..., 1:] for o in out]
            f = flicker(ab, flows)
            vivid = sum(colorfulness(o) for o in out) / max(truth_colorfulness, 1e-9)
            print(
                f"  {method:12s} propagate={propagate!s:5s} temporal={radius}  frame 0 "
                f"{scores[0]:5.2f} dB  frames 1-{len(out) - 1} {np.mean(scores[1:]):5.2f} dB  "
                f"flicker {f:.3f} ({f / own:.2f}x truth)  CDC {cdc(ab):.4f}  "
                f"colorfulness {vivid:.2f}x truth  "
                f"{seconds * 1000:5.0f} ms/frame, tracking {tracking * 1000:4.0f} of them"
                + (f", {warm * 1000:.1f} on a warm store" if propagate else ""),
                flush=True,
            )
            results[method, propagate, radius] = (scores, f / own, tracking / seconds)
        off = np.mean(results[method, False, temporal[0]][0][1:])
        for radius in temporal:
            scores, ratio, share = results[method, True, radius]
            rows.append(
                Row(name, method, radius, scores[0], float(np.mean(scores[1:])), float(off), ratio, share)
            )
    return rows


def summary(rows: list[Row]) -> None:
    """Per method and radius: the means over clips, and how many clips pass each criterion."""
    print(
        "\nsummary (means over clips; passing clips: >= frame 0 - 1.5 dB, >= off + 2 dB, "
        "flicker <= 1.25x, tracking <= 25 %)"
    )
    for method, radius in sorted({(r.method, r.temporal) for r in rows}):
        group = [r for r in rows if r.method == method and r.temporal == radius]
        passing = np.sum([r.passes() for r in group], axis=0)
        print(
            f"  {method:12s} temporal={radius}  {len(group)} clips  frame 0 "
            f"{np.mean([r.first for r in group]):5.2f}  frames 1.. "
            f"{np.mean([r.rest for r in group]):5.2f}  off {np.mean([r.off for r in group]):5.2f}"
            f"  flicker {np.mean([r.flicker for r in group]):.2f}x (median "
            f"{np.median([r.flicker for r in group]):.2f}x)  tracking "
            f"{np.mean([r.tracking for r in group]) * 100:.0f} %  passing "
            f"{'/'.join(str(int(p)) for p in passing)} of {len(group)}"
            f"  all four: {sum(all(r.passes()) for r in group)}"
        )


# --- occlusion cases -------------------------------------------------------------------------

# vtest.avi, the occlusion case: five hints on frame 0, as (what, x, y, radius), fractions
# of the width, the height and the short side; a walker crosses the road hint from frame 5 to 15
VTEST_HINTS = (
    ("grass", 0.25, 0.80, 0.015),
    ("grass", 0.62, 0.90, 0.015),
    ("brick", 0.50, 0.165, 0.01),
    ("road", 0.73, 0.50, 0.012),
    ("cone", 0.388, 0.34, 0.006),
)
# the regions whose mean a*b* is followed, (left, top, right, bottom) as fractions; pixels that a
# moving person covers (their L* more than 6 from frame 0's) are left out frame by frame
VTEST_REGIONS = {"road": (0.60, 0.40, 0.82, 0.57), "grass": (0.20, 0.62, 0.40, 0.97)}


def ground_truth_hints(rgb: np.ndarray, spots: list[tuple[float, float, float]]) -> Hints:
    """A point on frame 0 at each (x, y, radius), colored with the ground truth's mean a*b* under
    it."""
    lab = srgb_to_lab(rgb)
    height, width = rgb.shape[:2]
    points = []
    for x, y, radius in spots:
        yy, xx = np.mgrid[:height, :width]
        disc = (xx + 0.5 - x * width) ** 2 + (yy + 0.5 - y * height) ** 2 <= (
            radius * min(height, width)
        ) ** 2
        a, b = lab[disc, 1:].mean(0).tolist()
        points.append(Point(x=x, y=y, color=Color(ab=(a, b)), radius=radius))
    return Hints(keyframes=(Keyframe(frame=0, points=tuple(points)),))


def region_ab(
    ab: np.ndarray, lightness: np.ndarray, first: np.ndarray, box: tuple[float, float, float, float]
) -> np.ndarray:
    """Mean a*b* over ``box`` where the frame's L* is within 6 of frame 0's (nobody in the way)."""
    height, width = ab.shape[:2]
    left, top, right, bottom = box
    window = (
        slice(round(top * height), round(bottom * height)),
        slice(round(left * width), round(right * width)),
    )
    still = np.abs(lightness[window] - first[window]) <= 6
    if not still.any():
        return np.full(2, np.nan)
    mean: np.ndarray = ab[window][still].mean(0)
    return mean


def warm_carrying(truth: np.ndarray, hints: Hints) -> float:
    """Seconds per frame to carry ``hints`` through the clip once its motion is stored (what a
    render after a hint edit pays), the best of two runs."""
    clip = gray_clip(truth)
    times = []
    for _ in range(2):
        start = time.perf_counter()
        vscolorize.propagated_hints(clip, hints)
        times.append((time.perf_counter() - start) / len(truth))
    return min(times)


def run_vtest(truth: np.ndarray, method: str, model: str, temporal: int, **options: object) -> float:
    """The road's and the grass's a*b* over time with the five hints; returns the largest
    distance of the road's a*b* from frame 0's over frames 30-59."""
    hints = ground_truth_hints(truth[0], [spot[1:] for spot in VTEST_HINTS])
    lab = [srgb_to_lab(f) for f in truth]
    with tempfile.TemporaryDirectory() as cache:
        os.environ["VSCOLORIZE_CACHE"] = cache
        start = time.perf_counter()
        node = vscolorize.colorize(
            gray_clip(truth), hints, method=method, model=model, temporal=temporal, **options
        )  # type: ignore[arg-type]
        out = [srgb_to_lab(o) for o in frames_of(node)]
        seconds = (time.perf_counter() - start) / len(out)
        warm = warm_carrying(truth, hints)
    tracks = {
        name: np.array(
            [region_ab(o[..., 1:], t[..., 0], lab[0][..., 0], box) for o, t in zip(out, lab, strict=True)]
        )
        for name, box in VTEST_REGIONS.items()
    }
    hinted = {what: p.color.ab for (what, *_), p in zip(VTEST_HINTS, hints.keyframes[0].points, strict=True)}
    print(
        f"vtest.avi occlusion: {len(out)} frames, five hints on frame 0 (road hinted "
        f"{hinted['road'][0]:+.1f} {hinted['road'][1]:+.1f}), {method}, temporal={temporal}, "
        f"{seconds * 1000:.0f} ms/frame, carrying the hints on a warm store {warm * 1000:.1f} "
        f"of them"
    )
    for n in range(0, len(out), 5):
        print(
            f"  frame {n:3d}  road a*b* {tracks['road'][n][0]:+6.1f} {tracks['road'][n][1]:+6.1f}"
            f"  grass a*b* {tracks['grass'][n][0]:+6.1f} {tracks['grass'][n][1]:+6.1f}"
        )
    late = slice(min(30, len(out) - 1), len(out))
    drift = {
        name: float(np.linalg.norm(track[late] - track[0], axis=1).max()) for name, track in tracks.items()
    }
    print(
        f"  frames {late.start}-{len(out) - 1}: road a*b* at most {drift['road']:.1f} from "
        f"frame 0's (acceptance <= 5), grass at most {drift['grass']:.1f}"
    )
    return drift["road"]


def synthetic_occluder(
    photo: Path, occluder: Path | None, frames: int, width: int = 854, height: int = 480
) -> tuple[np.ndarray, np.ndarray]:
    """A still photo that a block cut from another photo crosses from left to right between
    frames 5 and two thirds of the clip, then leaves (``occluder`` None: the photo itself upside
    down). Returns the frames and, per frame, where the block is."""

    def read(path: Path, size: tuple[int, int]) -> np.ndarray:
        bgr = cv2.resize(cv2.imread(str(path), cv2.IMREAD_COLOR), size, interpolation=cv2.INTER_AREA)
        return bgr[..., ::-1].astype(np.float32) / 255

    background = read(photo, (width, height))
    bw, bh = max(width // 5, 4), max(height * 3 // 5, 4)
    block = read(occluder, (bw, bh)) if occluder else read(photo, (bw, bh))[::-1, ::-1]
    top = (height - bh) // 2
    first, gone = 5, max(frames * 2 // 3, 6)
    out, covered = [], []
    for n in range(frames):
        frame, mask = background.copy(), np.zeros((height, width), bool)
        if first <= n < gone:
            left = round(-bw + (width + bw) * (n - first + 1) / (gone - first))
            a, b = max(left, 0), min(left + bw, width)
            if a < b:
                frame[top : top + bh, a:b] = block[:, a - left : b - left]
                mask[top : top + bh, a:b] = True
        out.append(frame)
        covered.append(mask)
    return np.stack(out), np.stack(covered)


def masked_psnr(result: np.ndarray, truth: np.ndarray, keep: np.ndarray) -> float:
    mse = float(np.mean((result[keep] - truth[keep]) ** 2))
    return 10 * np.log10(1 / max(mse, 1e-12))


def run_occluder(
    name: str,
    truth: np.ndarray,
    covered: np.ndarray,
    hints_count: int,
    method: str,
    model: str,
    temporal: int,
    **options: object,
) -> float:
    """Background PSNR over time while the block crosses; returns how far the background's mean
    PSNR after the block has left falls below frame 0's."""
    hints = frame_zero_hints(truth[0], hints_count)
    with tempfile.TemporaryDirectory() as cache:
        os.environ["VSCOLORIZE_CACHE"] = cache
        start = time.perf_counter()
        node = vscolorize.colorize(
            gray_clip(truth), hints, method=method, model=model, temporal=temporal, **options
        )  # type: ignore[arg-type]
        out = frames_of(node)
        seconds = (time.perf_counter() - start) / len(out)
        warm = warm_carrying(truth, hints)
    scores = [masked_psnr(o, t, ~c) for o, t, c in zip(out, truth, covered, strict=True)]
    ab = [srgb_to_lab(o)[..., 1:] for o in out]
    flows = motion(truth)
    own = flicker([srgb_to_lab(f)[..., 1:] for f in truth], flows)
    gone = int(np.flatnonzero(covered.any((1, 2)))[-1]) + 1 if covered.any() else 1
    after = float(np.mean(scores[gone:])) if gone < len(scores) else scores[-1]
    print(
        f"{name}: {len(out)} frames, a block crosses frames 5-{gone - 1}, {hints_count} hints "
        f"on frame 0, {method}, temporal={temporal}, {seconds * 1000:.0f} ms/frame (carrying "
        f"the hints on a warm store {warm * 1000:.1f} of them), flicker {flicker(ab, flows):.3f} "
        f"(the truth's {own:.3f})"
    )
    means = np.array([a[~c].mean(0) for a, c in zip(ab, covered, strict=True)])
    jumps = np.linalg.norm(np.diff(means, axis=0), axis=1)
    print(
        f"  the background's mean a*b* moves at most {jumps.max():.2f} from one frame to the "
        f"next (median {np.median(jumps):.2f})"
    )
    by_frame = [float(c.mean()) if c.size else 0.0 for c in flicker_by_frame(ab, flows)]
    print(
        "  flicker by frame (from each to the next): "
        + " ".join(f"{n}:{by_frame[n]:.3f}" for n in range(0, len(by_frame), 5))
    )
    print("  background PSNR by frame: " + " ".join(f"{n}:{scores[n]:.2f}" for n in range(0, len(out), 5)))
    print(
        f"  after the block left (frames {gone}-{len(out) - 1}): {after:.2f} dB, frame 0 "
        f"{scores[0]:.2f} dB, {scores[0] - after:+.2f} dB below (acceptance <= 0.5)"
    )
    return scores[0] - after


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
    parser.add_argument(
        "--only",
        choices=["pans", "occlusion"],
        help="run only the propagation cases (video and pans) or the occlusion "
        "cases (vtest.avi's five hints, a block crossing each photo)",
    )
    parser.add_argument(
        "--occluder",
        type=Path,
        help="the photo the crossing block is cut from (default: the next "
        "--photo, or the photo itself upside down)",
    )
    parser.add_argument(
        "--record", type=Path, help="also put the results at the top of this file (docs/results/)"
    )
    args = parser.parse_args()
    with recorded(args.record):
        width, height = map(int, args.size.split("x"))
        options = {"postprocess": tuple(args.postprocess), "ensemble": args.ensemble}
        photos = args.photo if args.photo else sorted(Path("data/heldout").glob("*.png"))[1:2]
        rows = []
        if args.only != "occlusion":
            run_pans(args, photos, rows, width, height, options)
        if args.only != "pans":
            run_occlusion(args, photos, width, height, options)
        if rows:
            summary(rows)


def run_pans(
    args: argparse.Namespace,
    photos: list[Path],
    rows: list[Row],
    width: int,
    height: int,
    options: dict[str, object],
) -> None:
    if not args.skip_video:
        rows += run_clip(
            args.video.name,
            read_video(args.video, args.frames),
            args.hints,
            args.methods,
            args.model,
            args.temporal,
            **options,
        )
    for photo in photos:
        pan = synthetic_pan(photo, args.frames, width, height)
        rows += run_clip(
            f"pan over {photo.name}", pan, args.hints, args.methods, args.model, args.temporal, **options
        )


def run_occlusion(
    args: argparse.Namespace, photos: list[Path], width: int, height: int, options: dict[str, object]
) -> None:
    """The occlusion cases, per method and temporal radius: the acceptance figures at the end."""
    results = []
    for method in args.methods:
        for radius in args.temporal:
            if not args.skip_video:
                road = run_vtest(read_video(args.video, args.frames), method, args.model, radius, **options)
                results.append(f"{method} temporal={radius}: vtest road drift {road:.1f}")
            for i, photo in enumerate(photos):
                occluder = args.occluder
                if occluder is None and len(photos) > 1:
                    occluder = photos[(i + 1) % len(photos)]
                truth, covered = synthetic_occluder(photo, occluder, args.frames, width, height)
                below = run_occluder(
                    f"block over {photo.name}",
                    truth,
                    covered,
                    args.hints,
                    method,
                    args.model,
                    radius,
                    **options,
                )
                results.append(f"{method} temporal={radius}: {photo.name} {below:+.2f} dB")
    print(
        "\nocclusion summary (vtest road drift <= 5, background after the block <= 0.5 dB "
        "below frame 0):\n  " + "\n  ".join(results)
    )


if __name__ == "__main__":
    main()
