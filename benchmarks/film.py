"""A film, not a clip: what the node costs as a clip grows (run by hand, not a test).

Generates a long gray clip on the fly in VapourSynth (no disk): shots of 100-300 frames, each a
slow pan or zoom over one of a few photos, with a keyframe of 20 point hints 10 frames into every
shot. For each length (2,000 and 20,000 frames by default), in a fresh process each:

- building the node (``vscolorize.colorize``) in seconds;
- rendering ``--render`` frames from the middle of a hinted shot with an empty motion store, at
  one VapourSynth thread and at two (frames per second; the ratio is what parallel frames buy);
- peak memory of the process (building the node and rendering);
- after one keyframe's hints change: building the node again, and re-rendering that shot's
  frames, with the number of optical-flow measurements it needed (0: motion came from the store).

    python benchmarks/film.py [--frames 2000 20000] [--size 854x480] [--render 200]
        [--method optimization] [--temporal 8] [--paint-shot 500] [--carry-shot 3000]
        [--carry-at 10 100 1000]

Last, how long carried hints take to reach frames 10, 100 and 1,000 frames from the keyframe of a
3,000-frame shot: in the paint window and through ``vspipe -s N -e N``, on an empty motion store
and a warm one.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from record import recorded

PHOTOS = ("astronaut", "coffee", "rocket", "chelsea", "hubble_deep_field", "immunohistochemistry")


def shots(count: int, seed: int = 0, lengths: tuple[int, int] = (100, 300)) -> list[tuple[int, int]]:
    """Shots of ``lengths`` frames (both included) covering ``count`` frames."""
    rng = np.random.default_rng(seed)
    bounds, start = [], 0
    while start < count:
        end = min(start + int(rng.integers(lengths[0], lengths[1] + 1)), count)
        bounds.append((start, end))
        start = end
    return bounds


def make_clip(
    count: int, size: tuple[int, int], lengths: tuple[int, int] = (100, 300)
) -> tuple[object, list[tuple[int, int]], dict]:
    """The clip (a VapourSynth node), its shots and hints in the hints format."""
    import skimage.data
    import vapoursynth as vs

    width, height = size
    photos = []
    for name in PHOTOS:
        rgb = getattr(skimage.data, name)()
        gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY) if rgb.ndim == 3 else rgb
        scale = 1.6 * max(width / gray.shape[1], height / gray.shape[0])
        photos.append(cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA))
    bounds = shots(count, lengths=lengths)
    starts = np.array([a for a, _ in bounds])

    def fill(n: int, f: vs.VideoFrame) -> vs.VideoFrame:
        shot = int(np.searchsorted(starts, n, side="right")) - 1
        first, end = bounds[shot]
        photo = photos[shot % len(photos)]
        t = (n - first) / max(end - first - 1, 1)
        zoom = 1.0 + (0.15 * t if shot % 2 else 0.0)  # odd shots zoom in, even ones pan
        x = (photo.shape[1] - width * 1.2) * (t if shot % 2 == 0 else 0.5)
        y = (photo.shape[0] - height * 1.2) * 0.5
        matrix = np.array([[zoom, 0, -x * zoom], [0, zoom, -y * zoom]], np.float32)
        out = f.copy()
        cv2.warpAffine(
            photo,
            matrix,
            (width, height),
            dst=np.asarray(out[0]),
            flags=cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_REFLECT,
        )
        out.props["_Range"] = 0  # full range: gray levels as they are
        return out

    blank = vs.core.std.BlankClip(
        width=width, height=height, format=vs.GRAY8, length=count, fpsnum=24, fpsden=1
    )
    clip = blank.std.ModifyFrame(clips=blank, selector=fill)
    rng = np.random.default_rng(1)
    keyframes = []
    for first, end in bounds:
        if end - first > 20:
            points = [
                {"x": float(x), "y": float(y), "ab": [float(a), float(b)], "radius": 0.006}
                for x, y, a, b in zip(
                    rng.uniform(0.05, 0.95, 20),
                    rng.uniform(0.05, 0.95, 20),
                    rng.uniform(-40, 40, 20),
                    rng.uniform(-40, 40, 20),
                    strict=True,
                )
            ]
            keyframes.append({"frame": first + 10, "points": points})
    hints = {"format": "vscolorize.hints", "version": 1, "keyframes": keyframes}
    return clip, bounds, hints


def gray_h264(path: str | os.PathLike[str], size: tuple[int, int], crf: int = 18) -> subprocess.Popen[bytes]:
    """An ffmpeg that encodes the 8-bit gray frames written to its stdin into ``path``: H.264
    (4:2:0) at 24 fps."""
    import imageio_ffmpeg

    width, height = size
    return subprocess.Popen(
        [
            imageio_ffmpeg.get_ffmpeg_exe(),
            "-hide_banner",
            "-loglevel",
            "error",
            "-y",
            "-f",
            "rawvideo",
            "-pix_fmt",
            "gray",
            "-s",
            f"{width}x{height}",
            "-r",
            "24",
            "-i",
            "-",
            "-pix_fmt",
            "yuv420p",
            "-c:v",
            "libx264",
            "-crf",
            str(crf),
            str(path),
        ],
        stdin=subprocess.PIPE,
    )


def render(node: object, first: int, last: int) -> float:
    """Seconds to render frames ``first`` .. ``last`` - 1 (VapourSynth keeps its threads busy)."""
    began = time.perf_counter()
    for _ in node[first:last].frames(close=True):  # type: ignore[index]
        pass
    return time.perf_counter() - began


def child(args: argparse.Namespace) -> dict[str, object]:
    """One length, measured in this process."""
    import torch
    import vapoursynth as vs

    import vscolorize
    import vscolorize.core.motion as motion

    width, height = map(int, args.size.split("x"))
    calls = [0]
    measure = motion.optical_flow

    def counted(a: np.ndarray, b: np.ndarray, method: str = "dis") -> np.ndarray:
        calls[0] += 1
        return measure(a, b, method)

    motion.optical_flow = counted  # type: ignore[assignment]
    clip, bounds, hints = make_clip(args.frames, (width, height))
    # the hinted shot in the middle, and frames from its keyframe on
    shot = next(b for b in bounds if b[1] > args.frames // 2 and b[1] - b[0] > 20)
    key = shot[0] + 10
    last = min(key + args.render, shot[1])
    options = {"method": args.method, "temporal": args.temporal}
    result: dict[str, object] = {"frames": args.frames, "shots": len(bounds), "range": [key, last]}
    began = time.perf_counter()
    node = vscolorize.colorize(clip, hints, **options)
    result["build_s"] = time.perf_counter() - began
    # one thread (OpenCV and torch free to use more), one thread on one core (they use one
    # too, as they do when frames run in parallel), two threads; a cold store each time
    for name, threads in (("1", 1), ("1core", 1), ("2", 2)):
        os.environ["VSCOLORIZE_CACHE"] = tempfile.mkdtemp(prefix=f"film-{name}-")
        vs.core.num_threads = threads
        if name == "1core":
            cv2.setNumThreads(1)
            torch.set_num_threads(1)
        node = vscolorize.colorize(clip, hints, **options)
        calls[0] = 0
        result[f"fps_{name}"] = (last - key) / render(node, key, last)
        result[f"flows_{name}"] = calls[0]
    # one keyframe's hints change: the node is built again, the shot rendered again (warm store)
    edited = json.loads(json.dumps(hints))
    for keyframe in edited["keyframes"]:
        if keyframe["frame"] == key:
            keyframe["points"][0]["ab"] = [60.0, -20.0]
    calls[0] = 0
    began = time.perf_counter()
    node = vscolorize.colorize(clip, edited, **options)
    result["rebuild_s"] = time.perf_counter() - began
    result["rerender_fps"] = (last - key) / render(node, key, last)
    result["rerender_flows"] = calls[0]
    result["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return result


def paint_child(args: argparse.Namespace) -> dict[str, object]:
    """What the paint window waits for: carried hints on the last frame of a shot of
    ``--paint-shot`` frames after an edit, and opening the window on a 2-hour film."""
    import os

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ["VSCOLORIZE_CACHE"] = tempfile.mkdtemp(prefix="film-paint-")
    from vscolorize.core.propagation import HintCarrier
    from vscolorize.sources import ClipSource

    width, height = map(int, args.size.split("x"))
    length = args.paint_shot
    clip, _, hints = make_clip(length, (width, height), (length, length))
    edited = json.loads(json.dumps(hints))
    edited["keyframes"][0]["points"][0]["ab"] = [60.0, -20.0]
    from vscolorize.core.hints import resolve_hints

    first, second = resolve_hints(hints), resolve_hints(edited)
    assert first is not None and second is not None
    result: dict[str, object] = {"shot": length}
    carrier = HintCarrier(ClipSource(clip))
    for name, value, make in (
        ("first_s", first, False),
        ("edit_s", second, False),
        ("reopen_s", first, True),
    ):
        if make:  # a new window on the same film: the store is warm, the process is not
            carrier = HintCarrier(ClipSource(clip))
        began = time.perf_counter()
        carrier.keyframe(value, length - 1)
        result[name] = time.perf_counter() - began
    # opening the window on a 2-hour film (24 fps)
    from PySide6 import QtWidgets

    from vscolorize.core.pipeline import Settings
    from vscolorize.ui.window import PaintWindow

    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication([])
    long_clip, _, _ = make_clip(2 * 3600 * 24, (width, height))
    began = time.perf_counter()
    source = ClipSource(long_clip)
    window = PaintWindow(
        source, None, settings=Settings(method="optimization"), recover="no", propagated=HintCarrier(source)
    )
    window.show()
    window.wait_for_previews()
    app.processEvents()
    result["open_2h_s"] = time.perf_counter() - began
    window.close()
    return result


# a vspipe script: the film of one shot that film.py makes, colorized (its hints on frame 10)
CARRY_SCRIPT = """
import sys
sys.path.insert(0, {folder!r})
import film
import vscolorize
clip, _, hints = film.make_clip({length}, ({width}, {height}), ({length}, {length}))
vscolorize.colorize(clip, hints, method="model").set_output()
"""


def carry_child(args: argparse.Namespace) -> dict[str, object]:
    """How long carried hints take to reach a frame ``d`` frames from its keyframe (for each d of
    ``--carry-at``) in a shot of ``--carry-shot`` frames with one keyframe: in the paint window
    (:class:`HintCarrier`, each a new one; cold: an empty motion store; warm: the store that
    measurement filled) and through vspipe (``-s N -e N``, a new process each: imports, the
    model and the first frame's window included)."""
    from vscolorize.core.hints import resolve_hints
    from vscolorize.core.propagation import HintCarrier
    from vscolorize.sources import ClipSource

    width, height = map(int, args.size.split("x"))
    length = args.carry_shot
    clip, _, hints = make_clip(length, (width, height), (length, length))
    key = hints["keyframes"][0]["frame"]
    resolved = resolve_hints(hints)
    assert resolved is not None
    result: dict[str, object] = {"shot": length, "keyframe": key}
    for distance in args.carry_at:
        cache = tempfile.mkdtemp(prefix="film-carry-")
        os.environ["VSCOLORIZE_CACHE"] = cache
        for store in ("cold", "warm"):
            began = time.perf_counter()
            carried = HintCarrier(ClipSource(clip)).keyframe(resolved, key + distance)
            result[f"paint_{distance}_{store}_s"] = time.perf_counter() - began
            assert carried is not None and carried.points
    vspipe = Path(sys.executable).parent / "vspipe"
    with tempfile.TemporaryDirectory() as folder:
        script = Path(folder) / "carry.vpy"
        script.write_text(
            CARRY_SCRIPT.format(folder=str(Path(__file__).parent), length=length, width=width, height=height)
        )
        for distance in (0, *args.carry_at):
            cache = tempfile.mkdtemp(prefix="film-carry-vspipe-")
            n = key + distance
            for store in ("cold", "warm"):
                began = time.perf_counter()
                subprocess.run(
                    [str(vspipe), "-s", str(n), "-e", str(n), str(script), "."],
                    check=True,
                    capture_output=True,
                    env={**os.environ, "VSCOLORIZE_CACHE": cache},
                )
                result[f"vspipe_{distance}_{store}_s"] = time.perf_counter() - began
    return result


def in_child(kind: str, *options: str) -> dict[str, Any]:
    """This script run again as a ``kind`` child (a fresh process: its own memory peak, a cold
    start) with ``options``: what it printed last, as JSON."""
    done = subprocess.run(
        [sys.executable, __file__, "--child", kind, *options], capture_output=True, text=True
    )
    if done.returncode != 0:
        raise SystemExit(f"film.py --child {kind} {' '.join(options)} failed:\n{done.stderr}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--frames", type=int, nargs="+", default=[2000, 20000])
    parser.add_argument("--size", default="854x480")
    parser.add_argument("--render", type=int, default=200)
    parser.add_argument("--method", default="optimization")
    parser.add_argument("--temporal", type=int, default=8)
    parser.add_argument(
        "--paint-shot",
        type=int,
        default=500,
        help="shot length for the paint window's measurement (0: skip it)",
    )
    parser.add_argument(
        "--carry-shot",
        type=int,
        default=3000,
        help="shot length for the time carried hints take to arrive (0: skip it)",
    )
    parser.add_argument(
        "--carry-at", type=int, nargs="+", default=[10, 100, 1000], help="frames from the keyframe"
    )
    parser.add_argument("--child", choices=("render", "paint", "carry"), help=argparse.SUPPRESS)
    parser.add_argument(
        "--record", type=Path, help="also put the results at the top of this file (docs/results/)"
    )
    args = parser.parse_args()
    with recorded(args.record):
        if args.child:
            args.frames = args.frames[0]
            work = {"render": child, "paint": paint_child, "carry": carry_child}[args.child]
            print(json.dumps(work(args)))
            return
        rows = []
        for frames in args.frames:
            options = ["--frames", str(frames), "--size", args.size, "--render", str(args.render)]
            row = in_child("render", *options, "--method", args.method, "--temporal", str(args.temporal))
            rows.append(row)
            print(
                f"{frames} frames ({row['shots']} shots), {args.size}, {args.method}, temporal "
                f"{args.temporal}: build {row['build_s']:.2f} s; frames {row['range'][0]}-"
                f"{row['range'][1] - 1}: {row['fps_1']:.2f} fps on 1 thread ({row['fps_1core']:.2f} "
                f"on one core), {row['fps_2']:.2f} on 2 ({row['fps_2'] / row['fps_1']:.2f}x, "
                f"{row['fps_2'] / row['fps_1core']:.2f}x one core), {row['flows_2']} flows; peak "
                f"{row['peak_mb']:.0f} MB; after a hint edit: build {row['rebuild_s']:.2f} s, "
                f"re-render {row['rerender_fps']:.2f} fps with {row['rerender_flows']} flows",
                flush=True,
            )
        if len(rows) > 1:
            small, large = rows[0], rows[-1]
            print(
                f"{large['frames']} vs {small['frames']} frames: peak memory "
                f"{large['peak_mb'] / small['peak_mb']:.2f}x, build "
                f"{large['build_s']:.2f} vs {small['build_s']:.2f} s"
            )
        if args.paint_shot:
            paint = in_child("paint", "--size", args.size, "--paint-shot", str(args.paint_shot))
            print(
                f"paint window, {args.size}, the last frame of a {paint['shot']}-frame shot: carried "
                f"hints in {paint['first_s']:.2f} s the first time (frames read, motion measured), "
                f"{paint['edit_s']:.2f} s after an edit, {paint['reopen_s']:.2f} s in a new "
                f"window (store warm); opening a 2-hour film: {paint['open_2h_s']:.2f} s"
            )
            rows.append(paint)
        if args.carry_shot:
            at = [str(d) for d in args.carry_at]
            carry = in_child(
                "carry", "--size", args.size, "--carry-shot", str(args.carry_shot), "--carry-at", *at
            )
            for distance in args.carry_at:
                print(
                    f"carried hints {distance} frames from the keyframe of a {carry['shot']}-frame "
                    f"shot, {args.size}: paint window {carry[f'paint_{distance}_cold_s']:.2f} s (empty "
                    f"store), {carry[f'paint_{distance}_warm_s']:.2f} s (warm); vspipe -s {carry['keyframe'] + distance} "
                    f"-e {carry['keyframe'] + distance}: {carry[f'vspipe_{distance}_cold_s']:.2f} s "
                    f"({carry[f'vspipe_{distance}_warm_s']:.2f} warm), against "
                    f"{carry['vspipe_0_cold_s']:.2f} s ({carry['vspipe_0_warm_s']:.2f}) for the keyframe"
                )
            rows.append(carry)
        print(json.dumps(rows))


if __name__ == "__main__":
    main()
