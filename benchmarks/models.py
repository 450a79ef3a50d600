"""Benchmark of the learned colorizer against the classical engine (run by hand, not a test).

On held-out color photos: mean RGB PSNR at 0/1/5/10/20/50/100 random point hints (each revealing
the 5x5 ground-truth patch mean, radius 2 px) for each model and for the classical engine on the
same hints, and their colorfulness (Hasler and Suesstrunk) as a multiple of the truth's; then
milliseconds per 854x480 picture through colorize_image on CPU (and CUDA).

    python benchmarks/models.py [FOLDER] [--weights FILE ...] [--bases] [--ensemble N]
        [--chroma-gain G ...] [--scan] [--every K] [--limit N] [--skip-levin] [--size 854x480]

Without --weights it measures the installed models; FOLDER defaults to data/heldout. ``--bases``
also measures each model's base alone (its correction at zero): what the network adds is the
difference, and on training pictures against pictures never trained on it shows how much of
that carries over. ``--ensemble N`` also measures each model as an ensemble of its first N
members (mirrored, second scale: see ``vscolorize.core.engines.members.plan_members``).
``--chroma-gain G`` also measures each model with its a*b* multiplied by G: what more saturated
colors would cost or gain in PSNR. ``--scan`` measures on the photos as worn prints' scans show
them (``vscolorize.core.training.scan.scanned``: each of exposure, grain, dust, a scratch, blur and
compression in half the photos, seeded per photo): every method sees the scan's L, and the truth
is the photo's colors under it, as benchmarks/oldfilm.py counts.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from record import recorded

from vscolorize.core import colorize_image
from vscolorize.core.color import gray_to_l, l_to_gray, lab_planes_to_srgb, srgb_to_lab
from vscolorize.core.engines.learned import Colorizer, installed_models
from vscolorize.core.hints import Hints, Keyframe
from vscolorize.core.images import image_lightness, read_image
from vscolorize.core.metrics import colorfulness, psnr
from vscolorize.core.models import ColorUNet, load_model
from vscolorize.core.pipeline import FramePipeline, Settings
from vscolorize.core.training import point_hints as random_hints
from vscolorize.core.training.scan import scanned

COUNTS = (0, 1, 5, 10, 20, 50, 100)


Predict = Callable[[np.ndarray, Keyframe | None], np.ndarray]


def model_rgb(predict: Predict, rgb: np.ndarray, hints: Hints) -> np.ndarray:
    lightness = image_lightness(rgb)
    return lab_planes_to_srgb(lightness, predict(lightness, hints.keyframes[0]))


def with_gain(predict: Predict, gain: float) -> Predict:
    """``predict`` with its a*b* multiplied by ``gain`` (hinted pixels too)."""
    return lambda lightness, keyframe: predict(lightness, keyframe) * np.float32(gain)


def worn(rgb: np.ndarray, seed: int) -> np.ndarray:
    """``rgb``'s colors over the L of a worn print's scan of it (strengths at its own lines)."""
    lab = srgb_to_lab(np.asarray(rgb, np.float32))
    gray = scanned(l_to_gray(lab[..., 0]), np.random.default_rng(seed), rgb.shape[0] / 480)
    out: np.ndarray = lab_planes_to_srgb(gray_to_l(gray), np.ascontiguousarray(lab[..., 1:]))
    return out


def network_alone(model: ColorUNet) -> Predict:
    """A network in memory, no file: the first variant as is."""
    colorizer = Colorizer(model, "cpu")
    return lambda lightness, keyframe: colorizer.predict([lightness], [keyframe])[0]


def base_alone(model: ColorUNet) -> ColorUNet:
    """The answer ``model`` starts from: an untrained network of its config (whose correction
    starts at zero)."""
    if model.config.base == "pull-push":
        raise SystemExit(f"--bases: the {model.config.name} model predicts a*b* itself, no base")
    return ColorUNet(model.config)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("folder", nargs="?", default="data/heldout", type=Path)
    parser.add_argument("--weights", nargs="*", type=Path, default=[])
    parser.add_argument("--bases", action="store_true", help="also each model's base alone")
    parser.add_argument("--ensemble", type=int, help="also each model as an N-member ensemble")
    parser.add_argument("--chroma-gain", nargs="*", type=float, default=[], help="also a*b* x G")
    parser.add_argument("--scan", action="store_true", help="the photos as worn prints' scans show them")
    parser.add_argument("--every", type=int, default=1, help="every K-th picture of FOLDER")
    parser.add_argument("--limit", type=int)
    parser.add_argument("--skip-levin", action="store_true")
    parser.add_argument("--size", default="854x480", help="the timed picture's size, WxH")
    parser.add_argument(
        "--record", type=Path, help="also put the results at the top of this file (docs/results/)"
    )
    args = parser.parse_args()
    with recorded(args.record):
        if args.every < 1:
            parser.error(f"--every must be 1 or more, not {args.every}")
        if args.ensemble is not None and (args.ensemble < 2 or not args.weights):
            parser.error(f"--ensemble takes 2 or more members and goes with --weights: {args.ensemble}")
        width, height = map(int, args.size.split("x"))

        def pipeline(model: str | Path, ensemble: int = 1) -> Predict:
            return FramePipeline(Settings(model=str(model), device="cpu", ensemble=ensemble)).ab

        colorizers = {p.stem: pipeline(p) for p in args.weights}
        if args.bases:
            colorizers |= {f"{p.stem} base": network_alone(base_alone(load_model(p))) for p in args.weights}
        if args.ensemble:
            colorizers |= {f"{p.stem} x{args.ensemble}": pipeline(p, args.ensemble) for p in args.weights}
        colorizers |= {f"installed {n}": pipeline(n) for n in installed_models() if not args.weights}
        colorizers |= {
            f"{name} a*b* x{gain:g}": with_gain(predict, gain)
            for gain in args.chroma_gain
            for name, predict in list(colorizers.items())
        }
        files = sorted(p for p in args.folder.iterdir() if p.suffix.lower() in {".png", ".jpg"})
        files = files[:: args.every][: args.limit]
        photos = [read_image(p) for p in files]
        if args.scan:
            photos = [worn(rgb, 7000 + i) for i, rgb in enumerate(photos)]
        names = [*colorizers, *([] if args.skip_levin else ["levin"]), "gray"]
        table: dict[str, dict[int, float]] = {name: {} for name in names}
        # colorfulness (Hasler and Suesstrunk) as a multiple of the truth's, over all photos
        vivid: dict[str, dict[int, float]] = {name: {} for name in names}
        truth_colorfulness = sum(colorfulness(rgb) for rgb in photos)
        for count in COUNTS:
            scores: dict[str, list[float]] = {name: [] for name in names}
            colors: dict[str, list[float]] = {name: [] for name in names}
            for i, rgb in enumerate(photos):
                hints = random_hints(rgb, count, seed=1000 * count + i)
                outs = {name: model_rgb(colorizer, rgb, hints) for name, colorizer in colorizers.items()}
                if not args.skip_levin:
                    outs["levin"] = colorize_image(rgb, hints, method="optimization")
                outs["gray"] = colorize_image(rgb, None, method="optimization")
                for name, out in outs.items():
                    scores[name].append(psnr(out, rgb))
                    colors[name].append(colorfulness(out))
            for name in names:
                table[name][count] = float(np.mean(scores[name]))
                vivid[name][count] = sum(colors[name]) / max(truth_colorfulness, 1e-9)
            print(
                f"{count:3d} hints: " + "  ".join(f"{n} {table[n][count]:.2f}" for n in names),
                flush=True,
            )

        scans = ", as worn prints' scans" if args.scan else ""
        print(f"\nmean RGB PSNR (dB) on {len(photos)} photos from {args.folder}{scans}")
        print(f"{'':24s}" + "".join(f"{c:>8d}" for c in COUNTS))
        for name in names:
            print(f"{name:24s}" + "".join(f"{table[name][c]:8.2f}" for c in COUNTS))
        print("\ncolorfulness (Hasler and Suesstrunk), x the truth's")
        for name in names:
            print(f"{name:24s}" + "".join(f"{vivid[name][c]:8.2f}" for c in COUNTS))
        if "levin" in table:  # to three decimals: small differences matter
            for name in colorizers:
                print(
                    f"{name} - levin:"
                    + "".join(f"{table[name][c] - table['levin'][c]:+8.3f}" for c in COUNTS)
                )

        picture = np.random.default_rng(0).random((height, width, 3)).astype(np.float32)
        hints = random_hints(picture, 20, 0)
        for name, colorizer in colorizers.items():
            for _ in range(3):
                model_rgb(colorizer, picture, hints)
            times = []
            for _ in range(10):
                start = time.perf_counter()
                model_rgb(colorizer, picture, hints)
                times.append(time.perf_counter() - start)
            print(
                f"{name}: {1000 * np.median(times):.0f} ms per {args.size} picture on CPU ({torch.get_num_threads()} threads), 20 hints"
            )
        if not args.skip_levin:
            start = time.perf_counter()
            colorize_image(picture, hints, method="optimization")
            print(f"levin: {1000 * (time.perf_counter() - start):.0f} ms per {args.size} picture on CPU")


if __name__ == "__main__":
    main()
