"""What the distributed render costs beside the plain one (run by hand, not a test).

(Not named distributed.py: the scripts here import each other, and that name would hide Dask's.)

Writes a gray H.264 film (shots of 100-300 frames of pans and zooms over photos, a keyframe of 20
points in each: ``film.py``'s clip) and renders it three ways with the same settings and chunks,
each with an empty motion store: ``render`` in this process (the plan run in-process), then
``render --cluster local:1`` and ``--cluster local:2`` (chunks of whole shots up to
``--chunk-frames``). For each: wall time, the stages (starting the cluster and checking its
workers, finding the shots, rendering the chunks, the join), and whether the output file equals
the plain render's, byte for byte.

And what the work costs in CPU: the render's total (this process and its children, the local
cluster's processes included: they are waited for when it closes), the chunks' (each measured on
its worker: its process and its encoder), the chunks' encoders alone (per frame), and this
process's during the join (the stream copy: ffmpeg included) as a share of the total, which is
what bounds the number of workers one coordinator can join for.

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


def file_digest(path: Path) -> str:
    """A hash of the file's bytes."""
    return hashlib.blake2b(path.read_bytes(), digest_size=8).hexdigest()


def frame_digest(path: Path) -> str:
    """A hash of every decoded frame of ``path``, in order."""
    import imageio_ffmpeg

    decode = [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-i", str(path)]
    framemd5 = [*decode, "-map", "0:v", "-f", "framemd5", "-"]
    md5 = subprocess.run(framemd5, capture_output=True, text=True, check=True).stdout
    lines = [line.split(",")[-1] for line in md5.splitlines() if not line.startswith("#")]
    return hashlib.blake2b("".join(lines).encode(), digest_size=8).hexdigest()


def _cpu() -> float:
    """CPU seconds of this process and of its children (and theirs) that were waited for."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def run(
    args: argparse.Namespace, film: Path, hints: Path, work: Path, cluster: str | None
) -> dict[str, object]:
    from vscolorize.core.pipeline import Settings
    from vscolorize.distributed import render_distributed, render_here
    from vscolorize.render import RenderSettings

    name = cluster.replace(":", "") if cluster else "plain"
    os.environ["VSCOLORIZE_CACHE"] = str(work / f"cache-{name}")  # an empty motion store each
    out = work / f"{name}.mp4"
    settings = RenderSettings(Settings(method=args.method))
    began, cpu = time.perf_counter(), _cpu()
    if cluster is None:
        result = render_here(film, out, hints=hints, settings=settings, chunk_frames=args.chunk_frames)
    else:
        result = render_distributed(
            film, out, cluster=cluster, hints=hints, settings=settings, chunk_frames=args.chunk_frames
        )
    seconds, cpu = time.perf_counter() - began, _cpu() - cpu
    stages = {**result.stages, **{f"in chunks: {k}": v for k, v in result.chunk_times.items()}}
    shutil.rmtree(os.environ["VSCOLORIZE_CACHE"], ignore_errors=True)  # runs alike: no GBs left
    digests = (file_digest(out), frame_digest(out))
    out.unlink()  # the next round writes it again
    return {
        "run": name,
        "seconds": seconds,
        "fps": args.frames / seconds,
        "stages": stages,
        "file": digests[0],
        "frames": digests[1],
        "cpu": cpu,
        "join_cpu": result.join_cpu,
        "chunks": result.chunks,
    }


def costs(r: dict[str, object], frames: int) -> str:
    """What the chunks' encoders and the join cost, in CPU, beside the render's total."""
    st: dict[str, float] = r["stages"]  # type: ignore[assignment]
    chunks = int(r["chunks"])  # type: ignore[call-overload]
    total, join_cpu = float(r["cpu"]), float(r["join_cpu"])  # type: ignore[arg-type]
    in_chunks, encode = st.get("in chunks: cpu", 0.0), st.get("in chunks: encode_cpu", 0.0)
    return (
        f"{r['run']}: CPU {total:.1f} s all told, {in_chunks:.1f} s in the {chunks} chunks; their encoders "
        f"{encode:.1f} s ({encode / chunks:.2f} s a chunk, {encode / frames * 1000:.1f} ms a frame, "
        f"{encode / max(in_chunks, 1e-9) * 100:.1f} % of the chunks'); the join {st['join']:.2f} s wall, "
        f"{join_cpu:.2f} s CPU on the coordinator = {join_cpu / total * 100:.2f} % of the render's CPU"
    )


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
                same = (
                    "same file"
                    if r["file"] == plain["file"]
                    else ("same frames, other file" if r["frames"] == plain["frames"] else "FRAMES DIFFER")
                )
                tag = f"{r['run']}" + (f" #{k + 1}" if args.rounds > 1 else "")
                lines.append(
                    f"{tag:>11}: {r['seconds']:7.1f} s  {r['fps']:5.2f} fps  "
                    f"{ratio:5.3f}x plain  {same}" + (f"  ({stages})" if stages else "")
                )
            lines += [costs(r, args.frames) for r in results.values()]
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
