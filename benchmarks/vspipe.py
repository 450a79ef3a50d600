"""Frames per second of the colorize node through vspipe (run by hand, not a test).

Makes gray H.264 test clips (a slow pan over a held-out photo) at 854x480 and 1920x1080, with
20 ground-truth point hints on every 24th frame, then times with vspipe, decoding included:
decoding alone, and the full script (decode, colorize, convert to YUV) per method and device.
Then, in one process, where a frame's time goes: decoding, lightness (frame -> L*), the model (at
its working size, hints painted), guided upsampling, and L*a*b* -> sRGB (gamut mapping included).

    python benchmarks/vspipe.py [--photo PICTURE] [--frames N] [--model auto|FILE]
        [--methods model optimization] [--sizes 854x480 1920x1080] [--temporal 8]
        [--threads 2 1] [--backends torch ort ov] [--postprocess segment_fill] [--baseline DIR]
        [--record docs/results/vspipe.txt]

Each render starts with an empty motion store (what a first render costs). ``--threads``: the
VapourSynth thread counts to time (0: VapourSynth's default, one per CPU). ``--backends``: what runs the network of
``method="model"`` (torch, or vs-mlrt's plugins), each timed through the whole frame path, the ONNX
exported before the timed render. ``--baseline DIR``:
also time the ``vscolorize`` package found in DIR (e.g. a folder holding another commit's installed
plugin/, core/, ui/), in the same run, and print the ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
import torch
from film import gray_h264
from record import recorded

SCRIPT = """
import vapoursynth as vs, vscolorize
a = globals()
if int(a.get("threads", 0)):
    vs.core.num_threads = int(a["threads"])
clip = vs.core.bs.VideoSource(source=a["src"])
if a["method"] != "decode":
    device = None if a["device"] == "auto" else a["device"]
    # only a backend other than torch is named: a baseline from before backends runs too
    chosen = {} if a["backend"] == "torch" else {"backend": a["backend"]}
    if a.get("postprocess"):
        chosen["postprocess"] = tuple(a["postprocess"].split(","))
    clip = vscolorize.colorize(clip, a["hints"], method=a["method"], model=a["model"],
                               device=device, temporal=int(a["temporal"]), **chosen)
    clip = clip.resize.Bicubic(format=vs.YUV420P8, matrix_s="709")
clip.set_output()
"""


def make_clip(photo: Path, size: tuple[int, int], frames: int, folder: Path) -> tuple[Path, Path]:
    """A gray pan over ``photo`` and hints with ground-truth colors on every 24th frame."""
    from vscolorize.core.color import srgb_to_lab
    from vscolorize.core.hints import Hints, Keyframe, save_hints

    width, height = size
    bgr = cv2.imread(str(photo), cv2.IMREAD_COLOR)
    scale = 1.3 * max(width / bgr.shape[1], height / bgr.shape[0])
    big = cv2.resize(bgr, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
    rng = np.random.default_rng(0)
    keyframes, video = [], folder / f"pan-{width}x{height}.mp4"
    encoder = gray_h264(video, size)
    assert encoder.stdin is not None
    for n in range(frames):
        x = round((big.shape[1] - width) * n / max(frames - 1, 1))
        y = round((big.shape[0] - height) * n / max(frames - 1, 1) / 2)
        crop = np.ascontiguousarray(big[y : y + height, x : x + width, ::-1])
        lab = srgb_to_lab(crop.astype(np.float32) / 255)
        gray = cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY)
        encoder.stdin.write(gray.tobytes())
        if n % 24 == 0:
            keyframes.append(Keyframe(frame=n, points=tuple(ground_truth_points(lab, rng, 20))))
    encoder.stdin.close()
    encoder.wait()
    hints = folder / f"pan-{width}x{height}.hints.json"
    save_hints(Hints(keyframes=tuple(keyframes)), hints)
    return video, hints


def ground_truth_points(lab: np.ndarray, rng: np.random.Generator, count: int) -> list[object]:
    """``count`` point hints at random places of an (H, W, 3) L*a*b* picture, each with the mean
    a*b* of the 5x5 pixels around it."""
    from vscolorize.core.hints import Color, Point

    height, width = lab.shape[:2]
    points: list[object] = []
    for _ in range(count):
        r, c = int(rng.integers(2, height - 2)), int(rng.integers(2, width - 2))
        a, b = lab[r - 2 : r + 3, c - 2 : c + 3, 1:].reshape(-1, 2).mean(0).tolist()
        points.append(
            Point(x=(c + 0.5) / width, y=(r + 0.5) / height, color=Color(ab=(a, b)), radius=2 / height)
        )
    return points


# where export_graphs puts the ONNX graphs that each timed render finds in its cache folder
GRAPHS = Path(tempfile.gettempdir()) / f"vscolorize-bench-graphs-{os.getpid()}" / "onnx"


def export_graphs(model: str, size: tuple[int, int]) -> None:
    """The graph the vs-mlrt backends run for ``size`` (width, height) frames, into GRAPHS."""
    from vscolorize.core.engines.learned import load_network, working_size
    from vscolorize.core.models.export import cached_onnx

    os.environ["VSCOLORIZE_CACHE"] = str(GRAPHS.parent)
    network = load_network(model, "cpu").models[0]
    cached_onnx(network, working_size(size[1], size[0], network.config.working_short_side))


def vspipe_fps(script: Path, package: Path | None = None, **args: str) -> float:
    """Frames per second of ``script`` through vspipe, with an empty motion store; ``package``:
    a folder whose ``vscolorize`` is imported instead of the installed one."""
    vspipe = Path(sys.executable).parent / "vspipe"
    pairs = [part for key, value in args.items() for part in ("-a", f"{key}={value}")]
    command = [str(vspipe), "-p", *pairs, str(script), "."]
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "VSCOLORIZE_CACHE": cache}
        if GRAPHS.is_dir():  # the backends' graphs, exported beforehand: not timed
            shutil.copytree(GRAPHS, Path(cache) / "onnx")
        if package is not None:
            env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(package), env.get("PYTHONPATH")]))
        result = subprocess.run(command, capture_output=True, text=True, env=env)
    if result.returncode != 0:
        raise SystemExit(f"vspipe failed: {result.stderr.strip().splitlines()[-1]}")
    # vspipe's last words: "Output N frames in S seconds (F fps)"
    return float(result.stderr.rsplit("(", 1)[1].split()[0])


def stage_breakdown(video: Path, hints_path: Path, model: str, device: str, frames: int) -> dict[str, float]:
    """Milliseconds per frame in each stage of the model path, in one process, one thread
    (the model's stage includes shrinking L to its working size and painting the hints)."""
    import vapoursynth as vs

    from vscolorize.core.color import lab_planes_to_srgb
    from vscolorize.core.hints import load_hints
    from vscolorize.core.pipeline import FramePipeline, Settings
    from vscolorize.frames import frame_lightness

    clip = vs.core.bs.VideoSource(source=str(video))
    pipeline = FramePipeline(Settings(method="model", model=model, device=device))
    hints = load_hints(hints_path)
    sync = torch.cuda.synchronize if device.startswith("cuda") else (lambda: None)
    totals = dict.fromkeys(("decode", "lightness", "model", "upsampling", "to sRGB"), 0.0)
    count = min(frames, clip.num_frames)
    for n in range(-2, count):  # two warm-up frames
        i = max(n, 0)
        keyframe = hints.keyframe(i)
        marks = [time.perf_counter()]
        frame = clip.get_frame(i)
        marks.append(time.perf_counter())
        lightness = frame_lightness(frame)
        marks.append(time.perf_counter())
        # the model's stage: shrinking L, painting the hints and the network, as the node runs it
        ab_small = pipeline.ab_small(lightness, keyframe)
        sync()
        marks.append(time.perf_counter())
        ab = pipeline.upsample(ab_small, lightness, keyframe)
        marks.append(time.perf_counter())
        lab_planes_to_srgb(lightness, ab)
        marks.append(time.perf_counter())
        if n >= 0:
            for key, start, end in zip(totals, marks, marks[1:], strict=False):
                totals[key] += (end - start) * 1000
    return {k: v / count for k, v in totals.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--photo", type=Path, help="default: the first of data/heldout")
    parser.add_argument("--frames", type=int, default=96)
    parser.add_argument("--model", default="auto")
    parser.add_argument("--methods", nargs="+", default=["model", "optimization"])
    parser.add_argument("--sizes", nargs="+", default=["854x480", "1920x1080"])
    parser.add_argument("--temporal", type=int, default=8, help="the node's temporal radius")
    parser.add_argument(
        "--record", type=Path, help="also put the results at the top of this file (docs/results/vspipe.txt)"
    )
    parser.add_argument(
        "--threads",
        type=int,
        nargs="+",
        default=[0],
        help="VapourSynth thread counts to time (0: one per CPU)",
    )
    parser.add_argument(
        "--backends",
        nargs="+",
        default=["torch"],
        help="what runs the network of method model: torch, ort, ov, trt, ncnn (default: torch)",
    )
    parser.add_argument("--postprocess", nargs="+", default=[], help="the node's clean-ups (postprocess=)")
    parser.add_argument(
        "--baseline", type=Path, help="a folder holding another vscolorize package to time beside"
    )
    args = parser.parse_args()
    photo = args.photo or sorted(Path("data/heldout").glob("*.png"))[0]
    if Path(args.model).is_file():  # vspipe runs the script in its own folder
        args.model = str(Path(args.model).resolve())
    with recorded(args.record):
        devices = ["cpu", "cuda"] if torch.cuda.is_available() else ["cpu"]
        print(
            f"photo {photo}, {args.frames} frames, {os.cpu_count()} CPUs, "
            f"torch threads {torch.get_num_threads()}, devices {devices}"
        )
        with tempfile.TemporaryDirectory() as work:
            folder = Path(work)
            script = folder / "bench.vpy"
            script.write_text(SCRIPT)
            results = []
            for size in args.sizes:
                width, height = map(int, size.split("x"))
                video, hints = make_clip(photo, (width, height), args.frames, folder)
                common = {
                    "src": str(video),
                    "hints": str(hints),
                    "model": args.model,
                    "temporal": str(args.temporal),
                }
                if args.postprocess:
                    common["postprocess"] = ",".join(args.postprocess)
                decode = vspipe_fps(script, method="decode", device="cpu", backend="torch", **common)
                if set(args.backends) - {"torch"}:
                    export_graphs(args.model, (width, height))
                print(f"{size}: decoding alone {decode:.1f} fps")
                runs = [
                    (method, device, backend)
                    for method in args.methods
                    for device in (devices if method == "model" else ["cpu"])
                    for backend in (args.backends if method == "model" else ["torch"])
                ]
                for method, device, backend in runs:
                    for threads in args.threads:
                        run = {
                            "method": method,
                            "device": device,
                            "backend": backend,
                            "threads": str(threads),
                            **common,
                        }
                        fps = vspipe_fps(script, **run)
                        line = (
                            f"{size}: {method:12s} {backend:5s} on {device:4s} threads {threads or 'all'}: "
                            f"{fps:7.2f} fps through vspipe"
                        )
                        result = {
                            "size": size,
                            "method": method,
                            "backend": backend,
                            "device": device,
                            "threads": threads,
                            "fps": fps,
                        }
                        if args.baseline is not None:
                            base = vspipe_fps(script, args.baseline.resolve(), **run)
                            line += f"; baseline {base:.2f} fps, {fps / base:.2f}x"
                            result["baseline_fps"] = base
                        print(line, flush=True)
                        results.append(result)
                if "model" in args.methods:
                    for device in devices:
                        stages = stage_breakdown(video, hints, args.model, device, args.frames)
                        total = sum(stages.values())
                        shares = "  ".join(
                            f"{k} {v:.1f} ms ({100 * v / total:.0f}%)" for k, v in stages.items()
                        )
                        print(f"{size}: model on {device}, one frame at a time: {total:.1f} ms = {shares}")
            print(json.dumps(results))
            shutil.rmtree(GRAPHS.parent, ignore_errors=True)


if __name__ == "__main__":
    main()
