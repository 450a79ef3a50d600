"""Checksums of what the colorizer makes, to show a change keeps the bits: the node's frames on the
demo clip and ``colorize_image`` on the demo picture, under several settings.

    python tools/frame_digest.py -o new.json [--frames 24] [--threads 2] [--compare old.json]
        [--arrays DIR]

Run it with two versions of the package (e.g. another commit installed in a second venv) and
compare: every line says ``same`` or ``DIFFERS``; the exit status is 1 when any differs. With
``--arrays``, each version also keeps its outputs there (``DIR/<json name's stem>.npz``), and a line that
differs says by how much: the largest and the mean difference over all pixels, in 8-bit steps.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

import numpy as np
import vapoursynth as vs

import vscolorize
from vscolorize.core import colorize_image
from vscolorize.demo import sample_clip, sample_hints, sample_picture

NODE = {
    "model": {},
    "optimization": {"method": "optimization"},
    "model, temporal 0": {"temporal": 0},
    "model, no propagation": {"propagate": False},
    "model, segment_fill": {"postprocess": ("segment_fill",)},
    "model, RGBH": {"output": "RGBH"},
}
PICTURE = {
    "model": {},
    "optimization": {"method": "optimization"},
    "model, segment_fill": {"postprocess": ("segment_fill",)},
    "model, ensemble 3": {"ensemble": 3},
}


def clip_pixels(clip: vs.VideoNode) -> np.ndarray:
    """(frames, planes, H, W): every plane of every frame (of one size and type)."""
    return np.stack(
        [
            np.stack([np.asarray(frame[p]) for p in range(frame.format.num_planes)])
            for frame in (clip.get_frame(n) for n in range(clip.num_frames))
        ]
    )


def outputs(frames: int) -> dict[str, np.ndarray]:
    """What the colorizer makes under each setting."""
    gray, _, hints = sample_clip(frames=frames)
    out = {f"node {name}": clip_pixels(vscolorize.colorize(gray, hints, **kw)) for name, kw in NODE.items()}
    out["node model, no hints"] = clip_pixels(vscolorize.colorize(gray, None))
    picture, picture_hints = sample_picture(), sample_hints()
    for name, kw in PICTURE.items():
        out[f"picture {name}"] = colorize_image(picture, picture_hints, **kw)  # type: ignore[arg-type]
    return out


def difference(ours: np.ndarray, theirs: np.ndarray) -> str:
    """The largest and the mean difference, in 8-bit steps (float outputs are in [0, 1])."""
    steps = 255.0 if ours.dtype.kind == "f" else 1.0
    gap = np.abs(ours.astype(np.float64) - theirs.astype(np.float64)) * steps
    return f"max {gap.max():.3g}, mean {gap.mean():.2g} 8-bit steps"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-o", "--output", type=Path, required=True, help="where to write the digests (JSON)")
    parser.add_argument("--frames", type=int, default=24, help="length of the demo clip")
    parser.add_argument("--threads", type=int, default=2, help="VapourSynth's core.num_threads")
    parser.add_argument("--compare", type=Path, help="digests another version wrote")
    parser.add_argument("--arrays", type=Path, help="a folder to keep the outputs in, for --compare")
    args = parser.parse_args(argv)
    vs.core.num_threads = args.threads
    made = outputs(args.frames)
    ours = {name: hashlib.sha256(pixels.tobytes()).hexdigest() for name, pixels in made.items()}
    args.output.write_text(json.dumps(ours, indent=1) + "\n")
    if args.arrays is not None:
        np.savez_compressed(args.arrays / f"{args.output.stem}.npz", **made)
    if args.compare is None:
        print("\n".join(f"{name}: {value[:16]}" for name, value in ours.items()))
        return 0
    theirs = json.loads(args.compare.read_text())
    kept = args.arrays / f"{args.compare.stem}.npz" if args.arrays is not None else None
    their_pixels = np.load(kept) if kept is not None and kept.exists() else None
    differ = [name for name in ours if ours[name] != theirs.get(name)]
    for name in ours:
        how = "same"
        if name in differ:
            how = "DIFFERS"
            if their_pixels is not None and name in their_pixels:
                how += f" ({difference(made[name], their_pixels[name])})"
        print(f"{name}: {how}")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
