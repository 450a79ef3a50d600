"""Every script in benchmarks/ runs to its end at a tiny size, so none rots between the times it is
run by hand. Each runs in a subprocess with a timeout, on small photos and a small clip made here.

A new benchmark needs an entry in ARGS (its arguments at a tiny size): without one its test fails.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import cv2
import pytest

BENCHMARKS = Path(__file__).parents[1] / "benchmarks"
SCRIPTS = sorted(p.name for p in BENCHMARKS.glob("*.py"))
TIMEOUT_S = 300

# Per script, its arguments at a tiny size: {photos} is a folder of two small photos, {photo} one
# of them, {video} a short small color clip, {weights} the shipped fast model's file. None: a
# module the scripts import, not a script.
ARGS: dict[str, list[str] | None] = {
    "guidance.py": ["photos", "{photos}", "--smoke"],  # its video part: guidance_video.py's
    "levin.py": ["{photos}", "--limit", "1", "--hints", "5"],
    "levin_reference.py": None,
    "models.py": [
        "{photos}",
        "--limit",
        "1",
        "--size",
        "96x64",
        "--weights",
        "{weights}",
        "--bases",
        "--ensemble",
        "2",
        "--chroma-gain",
        "1.2",
        "--scan",
    ],
    "paint.py": [
        "--photo",
        "{photo}",
        "--methods",
        "optimization",
        "model",
        "--size",
        "160x96",
        "--carry-shot",
        "30",
        "--carry-at",
        "5",
    ],
    "postprocess.py": [
        "{photos}",
        "--limit",
        "1",
        "--hints",
        "5",
        "--video",
        "{video}",
        "--photo",
        "{photo}",
        "--frames",
        "4",
        "--size",
        "96x64",
        "--runs",
        "1",
    ],
    "propagation.py": [
        "--video",
        "{video}",
        "--photo",
        "{photo}",
        "--frames",
        "4",
        "--hints",
        "5",
        "--temporal",
        "1",
        "--size",
        "96x64",
    ],
    "vspipe.py": [
        "--photo",
        "{photo}",
        "--frames",
        "6",
        "--sizes",
        "96x64",
        "--temporal",
        "1",
        "--postprocess",
        "segment_fill",
    ],
    "record.py": None,
    "backends.py": ["--size", "112x64", "--threads", "1", "--runs", "1"],
    "frame_cost.py": ["--photo", "{photo}", "--runs", "1", "--sizes", "96x64"],
    "film.py": [
        "--frames",
        "300",
        "600",
        "--size",
        "96x64",
        "--render",
        "8",
        "--temporal",
        "1",
        "--paint-shot",
        "30",
        "--carry-shot",
        "40",
        "--carry-at",
        "5",
        "20",
    ],
    "oldfilm.py": [
        "--vtest",
        "{video}",
        "--bikes",
        "{video}",
        "--frames",
        "8",
        "--size",
        "96x64",
        "--degradations",
        "none",
        "all",
        "--postprocess",
        "segment_fill",
        "--film-frames",
        "300",
    ],
    "scan.py": None,
    "guidance_video.py": ["--video", "{video}", "--photo", "{photo}", "--smoke"],
    "fastpath.py": [
        "--photos",
        "{photos}",
        "--shots",
        "2",
        "--shot-frames",
        "4",
        "--size",
        "96x64",
        "--repeat",
        "1",
    ],
    "cluster.py": ["--frames", "48", "--size", "96x64", "--chunk-frames", "24", "--rounds", "2"],
}
RECORDS = {name for name, args in ARGS.items() if args is not None}
SLOW = {"cluster.py", "fastpath.py", "postprocess.py", "vspipe.py"}  # over ~20 s on two cores


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory, make_video: Callable[..., Path]) -> dict[str, str]:
    from skimage import data as samples

    folder = tmp_path_factory.mktemp("bench")
    photos = folder / "photos"
    photos.mkdir()
    for name in ("astronaut", "coffee"):
        rgb = cv2.resize(getattr(samples, name)(), (128, 96), interpolation=cv2.INTER_AREA)
        cv2.imwrite(str(photos / f"{name}.png"), rgb[..., ::-1])
    video = make_video(folder / "clip.mp4", "-t", "0.5", size="96x64")
    import vscolorize.core

    weights = Path(vscolorize.core.__file__).parent / "weights" / "fast.safetensors"
    return {
        "photos": str(photos),
        "photo": str(photos / "coffee.png"),
        "video": str(video),
        "weights": str(weights),
    }


def _params() -> list[object]:
    return [pytest.param(name, marks=[pytest.mark.slow] if name in SLOW else [], id=name) for name in SCRIPTS]


@pytest.mark.parametrize("script", _params())
def test_benchmark_runs_at_a_tiny_size(script: str, data: dict[str, str], tmp_path: Path) -> None:
    assert script in ARGS, (
        f"benchmarks/{script} has no entry in ARGS in {Path(__file__).name}: add the arguments "
        "that run it at a tiny size (or None for a module the scripts only import)"
    )
    args = ARGS[script]
    if args is None:
        command = [sys.executable, "-c", f"import {Path(script).stem}"]
    else:  # each also records what it prints, as it does into docs/results/
        command = [sys.executable, str(BENCHMARKS / script), *(a.format(**data) for a in args)]
        if script in RECORDS:
            command += ["--record", "results.txt"]
    env = {
        **os.environ,
        "VSCOLORIZE_CACHE": str(tmp_path / "cache"),
        "QT_QPA_PLATFORM": "offscreen",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(BENCHMARKS), os.environ.get("PYTHONPATH")])),
    }
    result = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT_S, cwd=tmp_path, env=env)
    assert result.returncode == 0, f"{script} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    assert args is None or result.stdout.strip(), f"{script} printed no results"
    if script in RECORDS:  # what it printed, at the top of its results file
        recorded = (tmp_path / "results.txt").read_text()
        assert f"# python benchmarks/{script} " in recorded and "-core " in recorded
        assert result.stdout.strip() in recorded
