"""Checksums of what the colorizer makes, to show a change keeps the bits: the node's frames on the
demo clip and ``colorize_image`` on the demo picture, under several settings.

    python tools/frame_digest.py -o new.json [--frames 24] [--threads 2] [--compare old.json]

Run it with two versions of the package (e.g. another commit installed in a second venv) and
compare: every line says ``same`` or ``DIFFERS``; the exit status is 1 when any differs.
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


def clip_digest(clip: vs.VideoNode) -> str:
    digest = hashlib.sha256()
    for n in range(clip.num_frames):
        frame = clip.get_frame(n)
        for plane in range(frame.format.num_planes):
            digest.update(np.asarray(frame[plane]).tobytes())
    return digest.hexdigest()


def digests(frames: int) -> dict[str, str]:
    gray, _, hints = sample_clip(frames=frames)
    out = {f"node {name}": clip_digest(vscolorize.colorize(gray, hints, **kw)) for name, kw in NODE.items()}
    out["node model, no hints"] = clip_digest(vscolorize.colorize(gray, None))
    picture, picture_hints = sample_picture(), sample_hints()
    for name, kw in PICTURE.items():
        rgb = colorize_image(picture, picture_hints, **kw)  # type: ignore[arg-type]
        out[f"picture {name}"] = hashlib.sha256(rgb.tobytes()).hexdigest()
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-o", "--output", type=Path, required=True, help="where to write the digests (JSON)")
    parser.add_argument("--frames", type=int, default=24, help="length of the demo clip")
    parser.add_argument("--threads", type=int, default=2, help="VapourSynth's core.num_threads")
    parser.add_argument("--compare", type=Path, help="digests another version wrote")
    args = parser.parse_args(argv)
    vs.core.num_threads = args.threads
    ours = digests(args.frames)
    args.output.write_text(json.dumps(ours, indent=1) + "\n")
    if args.compare is None:
        print("\n".join(f"{name}: {value[:16]}" for name, value in ours.items()))
        return 0
    theirs = json.loads(args.compare.read_text())
    differ = [name for name in ours if ours[name] != theirs.get(name)]
    for name in ours:
        print(f"{name}: {'DIFFERS' if name in differ else 'same'}")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
