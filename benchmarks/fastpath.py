"""What a colorist waits for through vspipe and a previewer (run by hand, not a test).

A film of ``--shots`` shots of ``--shot-frames`` frames (10 x 24 = 240 at 854x480 by default), each
a slow pan over another held-out photo (so there is a cut at every shot's start), each hinted on its
first frame with 20 points of the photo's own colors, encoded to H.264. The motion store is made
warm first by one render that is not timed (what a colorist has after the first preview). Then,
per package (this one, and ``--baseline DIR``'s, alternating):

- steady state per VapourSynth thread count: the film's frames after its first shot over the time
  they add, ``(frames - shot) / (T(all frames) - T(first shot))``, each T vspipe's own timing; and
  on one core (one VapourSynth thread, the process pinned to one CPU, torch on one thread): with
  one VapourSynth thread torch still runs the network on every core;
- the first frame: the wall time of ``vspipe --end 0`` from a fresh process (the least of
  ``--repeat``), Python's start, the imports, the model and the first window included, and the
  process's end, with vspipe's own times for the script (the imports above all) and for the frame
  (its window); and in a previewer's process, from its start to frame 0 in hand;
- a seek: in one process that holds the node, as a previewer does, frame 0 first, then the middle
  frame of every other shot, each timed from the request to the frame (median and the most).

    python benchmarks/fastpath.py [--shots 10] [--shot-frames 24] [--size 854x480] [--threads 1 2]
        [--repeat 3] [--rounds 1] [--only steady first seek] [--baseline DIR]
        [--record docs/results/fastpath.txt]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
from film import gray_h264
from record import recorded
from vspipe import SCRIPT, ground_truth_points

PARTS = ("steady", "first", "seek")

# frames of the middle of each shot after the first, asked for one at a time as a previewer seeks
SEEK = """
import json, sys, time
import vapoursynth as vs, vscolorize
src, hints, frames = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
clip = vscolorize.colorize(vs.core.bs.VideoSource(source=src), hints)
clip = clip.resize.Bicubic(format=vs.YUV420P8, matrix_s="709")
clip.get_frame(0)
shown = time.time()
times = []
for n in frames:
    began = time.perf_counter()
    clip.get_frame(n)
    times.append(time.perf_counter() - began)
print(json.dumps({"shown": shown, "seeks": times}))
"""


def make_film(
    photos: list[Path], size: tuple[int, int], shots: int, shot_frames: int, folder: Path
) -> tuple[Path, Path]:
    """The film and its hints file: shot s pans over ``photos[s % len(photos)]``."""
    from vscolorize.core.color import srgb_to_lab
    from vscolorize.core.hints import Hints, Keyframe, save_hints

    width, height = size
    rng = np.random.default_rng(0)
    video, keyframes = folder / f"film-{width}x{height}.mp4", []
    encoder = gray_h264(video, size)
    assert encoder.stdin is not None
    for shot in range(shots):
        bgr = cv2.imread(str(photos[shot % len(photos)]), cv2.IMREAD_COLOR)
        scale = 1.3 * max(width / bgr.shape[1], height / bgr.shape[0])
        big = cv2.resize(bgr, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
        for k in range(shot_frames):
            x = round((big.shape[1] - width) * k / max(shot_frames - 1, 1) / 4)
            crop = np.ascontiguousarray(big[:height, x : x + width, ::-1])
            encoder.stdin.write(cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY).tobytes())
            if k == 0:
                lab = srgb_to_lab(crop.astype(np.float32) / 255)
                points = ground_truth_points(lab, rng, 20)
                keyframes.append(Keyframe(frame=shot * shot_frames, points=tuple(points)))
    encoder.stdin.close()
    encoder.wait()
    hints = folder / f"film-{width}x{height}.hints.json"
    save_hints(Hints(keyframes=tuple(keyframes)), hints)
    return video, hints


def vspipe(
    script: Path, env: dict[str, str], args: dict[str, str], end: int | None = None, one_core: bool = False
) -> tuple[float, float, float]:
    """(vspipe's own seconds for the frames, the process's wall seconds, vspipe's seconds for
    the script: its imports, the clip and the node) of one render; ``one_core``: pinned to one
    CPU, torch on one thread."""
    command = [str(Path(sys.executable).parent / "vspipe"), "-p"]
    if one_core:
        command = ["taskset", "-c", "0", *command]
        env = {**env, "OMP_NUM_THREADS": "1"}
    command += [part for key, value in args.items() for part in ("-a", f"{key}={value}")]
    if end is not None:
        command += ["--end", str(end)]
    began = time.perf_counter()
    result = subprocess.run([*command, str(script), "."], capture_output=True, text=True, env=env)
    wall = time.perf_counter() - began
    if result.returncode != 0:
        raise SystemExit(f"vspipe failed: {result.stderr.strip().splitlines()[-1]}")
    # vspipe's words: "Script evaluation done in S seconds", last "Output N frames in S seconds"
    script_s = float(result.stderr.split("Script evaluation done in ", 1)[1].split()[0])
    return float(result.stderr.rsplit(" in ", 1)[1].split()[0]), wall, script_s


def measure(
    script: Path,
    env: dict[str, str],
    common: dict[str, str],
    threads: list[int],
    frames: int,
    shot: int,
    repeat: int,
    parts: list[str],
) -> dict[str, object]:
    """The figures of one package that ``parts`` names (``steady``, ``first``, ``seek``), its
    motion store already warm."""
    result: dict[str, object] = {}
    runs = [(str(count), count, False) for count in threads] if "steady" in parts else []
    if runs and shutil.which("taskset"):
        runs.append(("1core", 1, True))
    for name, count, one_core in runs:
        args = {**common, "threads": str(count)}
        everything = vspipe(script, env, args, one_core=one_core)[0]
        first_shot = vspipe(script, env, args, end=shot - 1, one_core=one_core)[0]
        result[f"steady_fps_{name}"] = (frames - shot) / (everything - first_shot)
        result[f"all_fps_{name}"] = frames / everything
    if "first" in parts:
        # the quickest of the fresh processes, and where its time went: the script (Python's
        # imports above all), the frame (its window's predictions), the rest (start and end)
        frame_s, wall, script_s = min(
            (vspipe(script, env, {**common, "threads": "0"}, end=0) for _ in range(repeat)),
            key=lambda r: r[1],
        )
        result["first_frame_s"] = wall
        result["first_frame_script_s"], result["first_frame_frame_s"] = script_s, frame_s
    if "seek" not in parts:
        return result
    seeks = [s * shot + shot // 2 for s in range(1, frames // shot)]
    began = time.time()
    out = subprocess.run(
        [sys.executable, "-c", SEEK, common["src"], common["hints"], json.dumps(seeks)],
        capture_output=True,
        text=True,
        env=env,
    )
    if out.returncode != 0:
        raise SystemExit(f"seek failed: {out.stderr.strip().splitlines()[-1]}")
    report = json.loads(out.stdout.strip().splitlines()[-1])
    result["first_frame_in_hand_s"] = report["shown"] - began
    times = report["seeks"]
    result["seek_median_s"], result["seek_max_s"] = statistics.median(times), max(times)
    return result


def describe(result: dict[str, object], threads: list[int]) -> str:
    lines = []
    if f"steady_fps_{threads[0]}" in result:
        steady = ", ".join(
            f"{result[f'steady_fps_{t}']:.2f} fps on {t} thread{'s' * (t > 1)}" for t in threads
        )
        line = f"steady state {steady}"
        if len(threads) > 1:
            line += f" ({result[f'steady_fps_{threads[-1]}'] / result[f'steady_fps_{threads[0]}']:.2f}x)"  # type: ignore[operator]
        if "steady_fps_1core" in result:
            most = result[f"steady_fps_{threads[-1]}"]
            line += (
                f", {result['steady_fps_1core']:.2f} on one core ({most / result['steady_fps_1core']:.2f}x)"  # type: ignore[operator]
            )
        lines.append(line)
    if "first_frame_s" in result:
        lines.append(
            f"first frame {result['first_frame_s']:.2f} s (script {result['first_frame_script_s']:.2f}, "
            f"frame {result['first_frame_frame_s']:.2f})"
        )
    if "seek_median_s" in result:
        lines.append(
            f"in hand in a previewer {result['first_frame_in_hand_s']:.2f} s; "
            f"seek median {result['seek_median_s']:.2f} s, most {result['seek_max_s']:.2f} s"
        )
    return "; ".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--photos", type=Path, default=Path("data/heldout"), help="a folder of photos")
    parser.add_argument("--shots", type=int, default=10)
    parser.add_argument("--shot-frames", type=int, default=24)
    parser.add_argument("--size", default="854x480")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--repeat", type=int, default=3, help="fresh processes timed for the first frame")
    parser.add_argument("--rounds", type=int, default=1, help="times to measure each package, alternating")
    parser.add_argument(
        "--baseline", type=Path, help="a folder holding another vscolorize package to time beside"
    )
    parser.add_argument(
        "--only",
        nargs="+",
        choices=PARTS,
        default=list(PARTS),
        help="measure only these: the steady state, the first frame (vspipe --end 0), seeks",
    )
    parser.add_argument("--record", type=Path, help="also put the results at the top of this file")
    args = parser.parse_args()
    width, height = map(int, args.size.split("x"))
    photos = sorted(args.photos.glob("*.png"))
    frames = args.shots * args.shot_frames
    packages: dict[str, Path | None] = {"this": None}
    if args.baseline is not None:
        packages["baseline"] = args.baseline.resolve()
    with recorded(args.record), tempfile.TemporaryDirectory() as work:
        folder = Path(work)
        video, hints = make_film(photos, (width, height), args.shots, args.shot_frames, folder)
        print(
            f"{frames} frames at {args.size}, a cut every {args.shot_frames}, hinted on each shot's first frame"
        )
        script = folder / "film.vpy"
        script.write_text(SCRIPT)
        common = {"src": str(video), "hints": str(hints), "method": "model", "model": "auto"}
        common |= {"device": "cpu", "backend": "torch", "temporal": "8"}
        envs = {}
        for name, package in packages.items():
            env = {**os.environ, "VSCOLORIZE_CACHE": str(folder / f"cache-{name}")}
            if package is not None:
                env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(package), env.get("PYTHONPATH")]))
            vspipe(script, env, {**common, "threads": "0"})  # the motion store, warm from here on
            envs[name] = env
        results: dict[str, list[dict[str, object]]] = {name: [] for name in packages}
        for round_ in range(args.rounds):
            for name in packages:
                result = measure(
                    script, envs[name], common, args.threads, frames, args.shot_frames, args.repeat, args.only
                )
                results[name].append(result)
                print(f"{name}, round {round_ + 1}: {describe(result, args.threads)}", flush=True)
        if args.baseline is not None:
            ratios = []
            for key in [key for key in results["this"][0] if key.startswith("steady_fps_")]:
                this = statistics.median(r[key] for r in results["this"])  # type: ignore[misc]
                base = statistics.median(r[key] for r in results["baseline"])  # type: ignore[misc]
                ratios.append(f"{key} {this / base:.2f}x")
            for key in [
                k
                for k in ("first_frame_s", "first_frame_in_hand_s", "seek_median_s")
                if k in results["this"][0]
            ]:
                this = statistics.median(r[key] for r in results["this"])  # type: ignore[misc]
                base = statistics.median(r[key] for r in results["baseline"])  # type: ignore[misc]
                ratios.append(f"{key} {base / this:.2f}x faster")
            print("# this / baseline (medians over rounds): " + ", ".join(ratios))
        print(json.dumps(results))


if __name__ == "__main__":
    main()
