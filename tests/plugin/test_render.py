from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import imageio_ffmpeg
import numpy as np
import pytest
import vapoursynth as vs

from vscolorize.render import RenderError, open_video, render

from .conftest import HINTS


def cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "vscolorize.cli", *map(str, args)]
    return subprocess.run(command, capture_output=True, text=True, timeout=300)


@pytest.fixture
def hints(tmp_path: Path) -> Path:
    path = tmp_path / "film.hints.json"
    path.write_text(json.dumps(HINTS))
    return path


def streams(path: Path) -> str:
    probe = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-i", str(path)],
                           capture_output=True, text=True)  # fmt: skip
    return probe.stderr


@pytest.mark.parametrize(("codec", "suffix"), [("h264", ".mp4"), ("ffv1", ".mkv")])
def test_render_writes_a_playable_colored_video(
    film: Path, hints: Path, tmp_path: Path, codec: str, suffix: str
) -> None:
    out = tmp_path / f"colored{suffix}"
    result = cli("render", film, "-o", out, "--hints", hints, "--method", "optimization",
                 "--codec", codec)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"wrote {out}: 12 frames")
    assert "frame/s" in result.stderr  # the progress bar
    info = streams(out)
    assert f"Video: {codec}" in info and "Audio:" in info
    clip = open_video(out)
    assert (clip.width, clip.height, clip.num_frames) == (160, 96, 12)
    rgb = clip.resize.Bicubic(format=vs.RGB24, matrix_in_s="709")
    keyframe = np.stack([np.asarray(rgb.get_frame(1)[i]) for i in range(3)], -1).astype(int)
    red, green = keyframe[48, 48, 0], keyframe[48, 48, 1]
    assert red > green + 25  # the (40, 30) hint at x=0.3 of frame 1 came through the encoder
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_render_refuses_to_overwrite_without_force(film: Path, tmp_path: Path) -> None:
    out = tmp_path / "colored.mp4"
    out.write_bytes(b"precious")
    result = cli("render", film, "-o", out, "--method", "optimization")
    assert result.returncode == 2
    assert (
        result.stderr == f"vscolorize: error: {out}: already exists (use --force to replace it)\n"
    )
    assert out.read_bytes() == b"precious"
    assert cli("render", film, "-o", out, "--method", "optimization", "--force").returncode == 0
    assert out.stat().st_size > 1000


def test_interrupted_render_leaves_no_file(film: Path, tmp_path: Path) -> None:
    out = tmp_path / "colored.mkv"

    def interrupt_midway(frames: Iterator[vs.VideoFrame], total: int) -> Iterator[vs.VideoFrame]:
        for i, frame in enumerate(frames):
            if i == total // 2:
                raise KeyboardInterrupt
            yield frame

    with pytest.raises(KeyboardInterrupt):
        render(film, out, method="optimization", progress=interrupt_midway)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["missing.mp4", "-o", "{tmp}/o.mp4"], "missing.mp4: no such file"),
        (["{film}", "-o", "{tmp}/o.webm"], "h264 goes in .mkv, .mp4, .mov files, not '.webm'"),
        (["{film}", "-o", "{tmp}/o.mp4", "--codec", "ffv1"], "ffv1 goes in .mkv, .avi files"),
        (["{film}", "-o", "{tmp}/nowhere/o.mp4"], "folder"),
        (["{film}", "-o", "{tmp}/o.mp4", "--hints", "{tmp}/none.json"], "none.json"),
        (["{film}", "-o", "{tmp}/o.mp4", "--method", "model", "--model", "x.safetensors"],
         "colorize: model: 'x.safetensors' is neither"),
        (["{film}", "-o", "{film}", "--force"], "the output would overwrite the input video"),
        (["{tmp}/notvideo.mp4", "-o", "{tmp}/o.mp4"], "cannot be read as video"),
    ],
)  # fmt: skip
def test_render_errors_are_one_line(
    film: Path, tmp_path: Path, args: list[str], message: str
) -> None:
    (tmp_path / "notvideo.mp4").write_text("not a video")
    filled = [a.format(tmp=tmp_path, film=film) for a in args]
    result = cli(
        "render", *filled, *(["--method", "optimization"] if "--method" not in args else [])
    )
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("vscolorize: error: ") and result.stderr.count("\n") == 1
    assert message in result.stderr
    assert not (tmp_path / "o.mp4").exists()


def test_render_api_refuses_bad_codec(film: Path, tmp_path: Path) -> None:
    with pytest.raises(RenderError, match="--codec must be one of"):
        render(film, tmp_path / "o.mkv", codec="vp9")
