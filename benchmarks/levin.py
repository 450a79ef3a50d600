"""Benchmark of the classical engine (run by hand, not a test).

For each held-out color photo: 20 random point hints, each revealing the 5x5 ground-truth patch
mean (radius 2 px). Prints RGB PSNR and time of

- ``engine``: what ``vscolorize image --method optimization`` runs (colorize_image): the cascade
  at a working resolution (short side 320), a*b* upsampled guided by the full-resolution L;
- ``cascade``: the same solver at full resolution;
- ``direct``: the same Levin system in L*a*b*, solved exactly (sparse LU);
- ``reference``: an independent transcription of Levin's MATLAB code (YIQ, spsolve).

    python benchmarks/levin.py [FOLDER] [--limit N] [--hints 20]

FOLDER defaults to data/heldout (made by tools/prepare_heldout.sh from packages never used for
training or tuning).

Notes from building the fast solver: true multigrid on Levin's operator (Galerkin coarse operators
with bilinear, matrix-dependent (pyamg direct/classical) or 2x2 aggregation interpolation, as GMRES
preconditioners; pyamg's smoothed aggregation and AIR) needed 2-15 s per 854x480 frame to converge,
no faster than SuperLU. The cascade trades exactness for speed instead.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from record import recorded

sys.path.insert(0, str(Path(__file__).parent))

import levin_reference

from vscolorize.core import colorize_image
from vscolorize.core.color import lab_to_srgb, srgb_to_lab
from vscolorize.core.hints import Color, Hints, Keyframe, Point, rasterize
from vscolorize.core.images import read_image
from vscolorize.core.metrics import psnr
from vscolorize.core.optimization import levin_colorize

PATCH = 2  # 5x5 patches
RADIUS_PX = 2


def hint_locations(rng: np.random.Generator, height: int, width: int, count: int) -> np.ndarray:
    rows = rng.integers(PATCH, height - PATCH, count)
    cols = rng.integers(PATCH, width - PATCH, count)
    return np.stack([rows, cols], 1)


def patch_mean(channels: np.ndarray, r: int, c: int) -> np.ndarray:
    return channels[r - PATCH : r + PATCH + 1, c - PATCH : c + PATCH + 1].reshape(-1, 2).mean(0)


def run(folder: Path, limit: int | None, count: int) -> None:
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in {".png", ".jpg", ".jpeg"})
    files = files[:limit] if limit else files
    rows = []
    print(
        f"{'photo':32s} {'gray':>6s} {'engine':>7s} {'cascade':>8s} {'direct':>8s} {'reference':>9s}   seconds (engine/cascade/direct/reference)"
    )
    for i, path in enumerate(files):
        rgb = read_image(path)
        height, width = rgb.shape[:2]
        lab = srgb_to_lab(rgb)
        yiq = levin_reference.rgb_to_yiq(rgb.astype(np.float64))
        where = hint_locations(np.random.default_rng(i), height, width, count)
        radius = RADIUS_PX / min(height, width)
        points = tuple(
            Point(
                x=(c + 0.5) / width,
                y=(r + 0.5) / height,
                radius=radius,
                color=Color(ab=tuple(patch_mean(lab[..., 1:], r, c).tolist())),
            )  # type: ignore[arg-type]
            for r, c in where
        )
        hints = Hints(keyframes=(Keyframe(frame=0, points=points),))

        te = time.perf_counter()
        engine = colorize_image(rgb, hints, method="optimization")
        t0 = time.perf_counter()
        ab_hint, mask = rasterize(hints.keyframes[0], height, width)
        ab = levin_colorize(lab[..., 0] / 100, ab_hint, mask)
        cascade = lab_to_srgb(np.concatenate([lab[..., :1], ab], -1), gamut="chroma")
        t1 = time.perf_counter()
        ab = levin_colorize(lab[..., 0] / 100, ab_hint, mask, method="direct")
        direct = lab_to_srgb(np.concatenate([lab[..., :1], ab], -1), gamut="chroma")
        t2 = time.perf_counter()
        iq_marks = np.zeros((height, width, 2))
        for r, c in where:
            iq_marks[mask & _disc(height, width, r, c)] = patch_mean(yiq[..., 1:], r, c)
        iq = levin_reference.colorize(yiq[..., 0], iq_marks, mask)
        reference = levin_reference.yiq_to_rgb(np.concatenate([yiq[..., :1], iq], -1))
        t3 = time.perf_counter()
        gray = lab_to_srgb(np.concatenate([lab[..., :1], np.zeros_like(lab[..., 1:])], -1))
        row = [psnr(x, rgb) for x in (gray, cascade, direct, reference, engine)] + [
            t1 - t0,
            t2 - t1,
            t3 - t2,
            t0 - te,
        ]
        rows.append(row)
        print(
            f"{path.stem[:32]:32s} {row[0]:6.2f} {row[4]:7.2f} {row[1]:8.2f} {row[2]:8.2f} "
            f"{row[3]:9.2f}   {row[8]:.2f} / {row[5]:.2f} / {row[6]:.2f} / {row[7]:.2f}",
            flush=True,
        )
    r = np.array(rows)
    mean = r.mean(0)
    print(
        f"{'MEAN':32s} {mean[0]:6.2f} {mean[4]:7.2f} {mean[1]:8.2f} {mean[2]:8.2f} "
        f"{mean[3]:9.2f}   {mean[8]:.2f} / {mean[5]:.2f} / {mean[6]:.2f} / {mean[7]:.2f}"
    )
    print(
        f"engine - cascade:    {mean[4] - mean[1]:+.2f} dB mean, per photo {np.min(r[:, 4] - r[:, 1]):+.2f} .. {np.max(r[:, 4] - r[:, 1]):+.2f}; "
        f"speed-up {r[:, 5].sum() / r[:, 8].sum():.1f}x"
    )
    print(
        f"cascade - direct:    {mean[1] - mean[2]:+.2f} dB mean, per photo {np.min(r[:, 1] - r[:, 2]):+.2f} .. {np.max(r[:, 1] - r[:, 2]):+.2f}"
    )
    print(
        f"cascade - reference: {mean[1] - mean[3]:+.2f} dB mean, per photo {np.min(r[:, 1] - r[:, 3]):+.2f} .. {np.max(r[:, 1] - r[:, 3]):+.2f}"
    )
    print(f"direct - reference:  {mean[2] - mean[3]:+.2f} dB mean")
    print(f"speed-up of the cascade over the direct solve (same run): {r[:, 6].sum() / r[:, 5].sum():.1f}x")


def _disc(height: int, width: int, r: int, c: int) -> np.ndarray:
    rows, cols = np.ogrid[:height, :width]
    return (rows - r) ** 2 + (cols - c) ** 2 <= RADIUS_PX**2


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("folder", nargs="?", default="data/heldout", type=Path)
    parser.add_argument("--limit", type=int)
    parser.add_argument("--hints", type=int, default=20)
    parser.add_argument(
        "--record", type=Path, help="also put the results at the top of this file (docs/results/)"
    )
    args = parser.parse_args()
    with recorded(args.record):
        run(args.folder, args.limit, args.hints)
