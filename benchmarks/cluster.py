"""What the distributed render costs beside the plain one (run by hand, not a test).

(Not named distributed.py: the scripts here import each other, and that name would hide Dask's.)

Writes a gray H.264 film (shots of 100-300 frames of pans and zooms over photos, a keyframe of 20
points in each: ``film.py``'s clip) and renders it three ways with the same settings, each with an
empty motion store: ``render`` in this process, then ``render --cluster local:1`` and
``--cluster local:2`` (chunks of whole shots up to ``--chunk-frames``). For each: wall time, the
stages of the distributed ones (starting the cluster and checking its workers, finding the shots,
rendering the chunks, the join), and whether the output's frames equal the plain render's.
The overhead of the distributed path is local:1's time beside the plain render's; the estimate
for N machines follows from the stages (see the printed model).

    python benchmarks/cluster.py [--frames 2000] [--size 854x480] [--chunk-frames 1000]
        [--method optimization] [--rounds 1] [--out results.txt]

With ``--rounds R`` every way renders R times, in turn and in alternating order (plain, local:1,
local:1, plain, ...): on a shared machine whose speed drifts by 10 % or more over minutes, one
render after the other measures the drift as much as the overhead.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from film import gray_h264, make_clip
from record import recorded


def write_film(path: Path, frames: int, size: tuple[int, int]) -> dict:
    """The film as H.264 (CRF 16, gray in 4:2:0), and its hints."""
    clip, _, hints = make_clip(frames, size)
    encoder = gray_h264(path, size, crf=16)
    assert encoder.stdin is not None
    for frame in clip.frames():  # type: ignore[attr-defined]
        encoder.stdin.write(memoryview(frame[0]).tobytes())
    encoder.stdin.close()
    if encoder.wait() != 0:
        raise SystemExit("ffmpeg failed to write the film")
    return hints


def frame_digest(path: Path) -> str:
    """A hash of every decoded frame of ``path``, in order."""
    import imageio_ffmpeg

    decode = [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-i", str(path)]
    framemd5 = [*decode, "-map", "0:v", "-f", "framemd5", "-"]
    md5 = subprocess.run(framemd5, capture_output=True, text=True, check=True).stdout
    lines = [line.split(",")[-1] for line in md5.splitlines() if not line.startswith("#")]
    return hashlib.blake2b("".join(lines).encode(), digest_size=8).hexdigest()


def run(
    args: argparse.Namespace, film: Path, hints: Path, work: Path, cluster: str | None
) -> dict[str, object]:
    from vscolorize.core.pipeline import Settings
    from vscolorize.distributed import render_distributed
    from vscolorize.render import RenderSettings, render

    name = cluster.replace(":", "") if cluster else "plain"
    os.environ["VSCOLORIZE_CACHE"] = str(work / f"cache-{name}")  # an empty motion store each
    out = work / f"{name}.mkv"
    began = time.perf_counter()
    if cluster is None:
        render(film, out, hints=hints, settings=Settings(method=args.method))
        stages: dict[str, float] = {}
    else:
        result = render_distributed(
            film,
            out,
            cluster=cluster,
            hints=hints,
            settings=RenderSettings(Settings(method=args.method)),
            chunk_frames=args.chunk_frames,
        )
        stages = {**result.stages, **{f"in chunks: {k}": v for k, v in result.chunk_times.items()}}
    seconds = time.perf_counter() - began
    shutil.rmtree(os.environ["VSCOLORIZE_CACHE"], ignore_errors=True)  # runs alike: no GBs left
    frames = frame_digest(out)
    out.unlink()  # the next round writes it again
    return {"run": name, "seconds": seconds, "fps": args.frames / seconds, "stages": stages, "frames": frames}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=int, default=2000)
    parser.add_argument("--size", default="854x480")
    parser.add_argument("--chunk-frames", type=int, default=1000)
    parser.add_argument("--method", default="optimization")
    parser.add_argument("--clusters", nargs="+", default=["local:1", "local:2"])
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="render every way this many times, in turn (plain first, then last)",
    )
    parser.add_argument("--out", help="append the results to this file")
    parser.add_argument(
        "--record", type=Path, help="also put the results at the top of this file (docs/results/)"
    )
    args = parser.parse_args()
    with recorded(args.record):
        width, height = (int(v) for v in args.size.split("x"))
        ways: list[str | None] = [None, *args.clusters]
        rounds: list[dict[str, dict[str, object]]] = []
        load = os.getloadavg()[0]
        with tempfile.TemporaryDirectory() as folder:
            work = Path(folder)
            film, hints = work / "film.mp4", work / "film.hints.json"
            hints.write_text(json.dumps(write_film(film, args.frames, (width, height))))
            for k in range(args.rounds):
                # in turn, so that a machine that slows down (or speeds up) weighs on every way alike
                order = ways if k % 2 == 0 else ways[::-1]
                done = [run(args, film, hints, work, cluster) for cluster in order]
                rounds.append({str(r["run"]): r for r in sorted(done, key=lambda r: r["run"] != "plain")})
        lines = [
            f"# {args.frames} frames at {args.size}, method {args.method}, chunks of up to "
            f"{args.chunk_frames} frames, {os.cpu_count()} cores, {args.rounds} round(s); load "
            f"before: {load:.2f}"
        ]
        for k, results in enumerate(rounds):
            plain = results["plain"]
            for r in results.values():
                stages = ", ".join(f"{name} {v:.1f} s" for name, v in r["stages"].items())  # type: ignore[attr-defined]
                ratio = float(r["seconds"]) / float(plain["seconds"])  # type: ignore[arg-type]
                same = "same frames" if r["frames"] == plain["frames"] else "FRAMES DIFFER"
                tag = f"{r['run']}" + (f" #{k + 1}" if args.rounds > 1 else "")
                lines.append(
                    f"{tag:>11}: {r['seconds']:7.1f} s  {r['fps']:5.2f} fps  "
                    f"{ratio:5.3f}x plain  {same}" + (f"  ({stages})" if stages else "")
                )
            for r in results.values():
                if r["run"] == "plain":
                    continue
                st: dict[str, float] = r["stages"]  # type: ignore[assignment]
                fixed = st["cluster"] + st["plan"] + st["join"]
                inside = {n.removeprefix("in chunks: "): v for n, v in st.items() if n.startswith("in ")}
                side = inside.get("setup", 0) + inside.get("write", 0) + inside.get("finish", 0)
                total, base = float(r["seconds"]), float(plain["seconds"])  # type: ignore[arg-type]
                lines.append(
                    f"{r['run']}: {total - base:+.1f} s beside the plain render ({(total / base - 1) * 100:+.1f} "
                    f"%); fixed: cluster + plan + join tail {fixed:.1f} s ({fixed / base * 100:.1f} %); in "
                    f"chunks, setup + writing {side:.1f} s beside {inside.get('frames', 0):.1f} s waiting "
                    f"for frames ({side / max(inside.get('frames', 1), 1e-9) * 100:.1f} %)"
                )
        if args.rounds > 1:
            for way in args.clusters:
                name = way.replace(":", "")
                shares = [
                    float(r[name]["seconds"]) / float(r["plain"]["seconds"]) - 1  # type: ignore[arg-type]
                    for r in rounds
                ]
                lines.append(
                    f"{name}: beside the plain render, round by round: "
                    + ", ".join(f"{x * 100:+.1f} %" for x in shares)
                    + f"; mean {sum(shares) / len(shares) * 100:+.1f} %"
                )
        text = "\n".join(lines)
        print(text)
        if args.out:
            with open(args.out, "a") as f:
                f.write(text + "\n")


if __name__ == "__main__":
    main()
