from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import imageio_ffmpeg
import numpy as np
import pytest
import vapoursynth as vs

from vscolorize.core.pipeline import Settings
from vscolorize.render import RenderError, open_video, render

from .conftest import HINTS

OPTIMIZATION = Settings(method="optimization")


def cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "vscolorize.cli", *map(str, args)]
    return subprocess.run(command, capture_output=True, text=True, timeout=300)


@pytest.fixture
def hints(tmp_path: Path) -> Path:
    path = tmp_path / "film.hints.json"
    path.write_text(json.dumps(HINTS))
    return path


def streams(path: Path) -> str:
    probe = subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-i", str(path)], capture_output=True, text=True
    )
    return probe.stderr


@pytest.mark.parametrize(("codec", "suffix"), [("h264", ".mp4"), ("ffv1", ".mkv")])
def test_render_writes_a_playable_colored_video(
    film: Path, hints: Path, tmp_path: Path, codec: str, suffix: str
) -> None:
    out = tmp_path / f"colored{suffix}"
    result = cli("render", film, "-o", out, "--hints", hints, "--method", "optimization", "--codec", codec)
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
    assert result.stderr == f"vscolorize: error: {out}: already exists (use --force to replace it)\n"
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
        render(film, out, settings=OPTIMIZATION, progress=interrupt_midway)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["missing.mp4", "-o", "{tmp}/o.mp4"], "missing.mp4: no such file"),
        (["{film}", "-o", "{tmp}/o.webm"], "h264 goes in .mkv, .mp4, .mov files, not '.webm'"),
        (["{film}", "-o", "{tmp}/o.mp4", "--codec", "ffv1"], "ffv1 goes in .mkv, .avi files"),
        (["{film}", "-o", "{tmp}/nowhere/o.mp4"], "folder"),
        (["{film}", "-o", "{tmp}/o.mp4", "--hints", "{tmp}/none.json"], "none.json"),
        (
            ["{film}", "-o", "{tmp}/o.mp4", "--method", "model", "--model", "x.safetensors"],
            "colorize: model: 'x.safetensors' is neither",
        ),
        (["{film}", "-o", "{film}", "--force"], "the output would overwrite the input video"),
        (["{tmp}/notvideo.mp4", "-o", "{tmp}/o.mp4"], "cannot be read as video"),
    ],
)
def test_render_errors_are_one_line(film: Path, tmp_path: Path, args: list[str], message: str) -> None:
    (tmp_path / "notvideo.mp4").write_text("not a video")
    filled = [a.format(tmp=tmp_path, film=film) for a in args]
    result = cli("render", *filled, *(["--method", "optimization"] if "--method" not in args else []))
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("vscolorize: error: ") and result.stderr.count("\n") == 1
    assert message in result.stderr
    assert not (tmp_path / "o.mp4").exists()


def test_render_api_refuses_bad_codec(film: Path, tmp_path: Path) -> None:
    with pytest.raises(RenderError, match="--codec must be one of"):
        render(film, tmp_path / "o.mkv", codec="vp9")


def _planes(path: Path) -> np.ndarray:
    clip = open_video(path)
    return np.stack([np.stack([np.asarray(f[i]) for i in range(3)]) for f in clip.frames()])


def _audio_samples(path: Path) -> int:
    """How many samples the first audio track holds (decoded, mono, at 44.1 kHz)."""
    pcm = subprocess.run(
        [
            imageio_ffmpeg.get_ffmpeg_exe(),
            "-hide_banner",
            "-loglevel",
            "error",
            "-i",
            str(path),
            "-map",
            "0:a:0",
            "-ac",
            "1",
            "-ar",
            "44100",
            "-f",
            "s16le",
            "-",
        ],
        capture_output=True,
        check=True,
    ).stdout
    return len(pcm) // 2


def test_a_range_is_the_whole_render_cut(film: Path, hints: Path, tmp_path: Path) -> None:
    whole, part = tmp_path / "whole.mkv", tmp_path / "part.mkv"
    assert render(film, whole, hints=hints, settings=OPTIMIZATION, codec="ffv1").frames == 12
    result = cli(
        "render",
        film,
        "-o",
        part,
        "--hints",
        hints,
        "--method",
        "optimization",
        "--codec",
        "ffv1",
        "--start",
        "3",
        "--end",
        "7",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"wrote {part}: 5 frames")
    # frames 3-7 of the whole render, bit for bit: hint frames 1 and 3 kept the clip's numbering
    assert np.array_equal(_planes(part), _planes(whole)[3:8])
    assert "Audio: flac" in streams(part)  # cut, so re-encoded losslessly rather than copied
    # 5 frames at 12 fps: 5/12 s of the 44.1 kHz tone, to within a few samples
    assert abs(_audio_samples(part) - 44100 * 5 / 12) < 64


def test_a_range_to_the_end_and_the_whole_clip(film: Path, tmp_path: Path) -> None:
    tail, everything = tmp_path / "tail.mp4", tmp_path / "all.mp4"
    assert render(film, tail, settings=OPTIMIZATION, start=10).frames == 2
    assert render(film, everything, settings=OPTIMIZATION, start=0, end=11).frames == 12
    assert abs(_audio_samples(tail) - 44100 * 2 / 12) < 2048  # AAC: whole 1024-sample frames
    assert abs(_audio_samples(everything) - 44100) < 2048


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        (-1, None, "--start -1: frames are numbered from 0"),
        (0, -2, "--end -2: frames are numbered from 0"),
        (0, 12, "--end 12: past the clip's last frame (11; it has 12 frames)"),
        (12, None, "--start 12: past the clip's last frame"),
        (5, 3, "--start 5 is after --end 3"),
    ],
)
def test_bad_ranges_are_refused_before_any_work(
    film: Path, tmp_path: Path, start: int, end: int | None, message: str
) -> None:
    with pytest.raises(RenderError, match=re.escape(message)):
        render(film, tmp_path / "o.mp4", settings=OPTIMIZATION, start=start, end=end)
    assert list(tmp_path.iterdir()) == []


def test_h264_is_tagged_bt709_limited_420(film: Path, tmp_path: Path) -> None:
    """What browsers and players need to show the colors right: 4:2:0, limited range, and BT.709
    matrix, primaries and transfer, in the container and in the stream's own VUI."""
    out = tmp_path / "colored.mp4"
    render(film, out, settings=OPTIMIZATION)
    assert "Video: h264 (High)" in streams(out) and "yuv420p(tv, bt709, progressive)" in streams(out)
    trace = subprocess.run(
        [
            imageio_ffmpeg.get_ffmpeg_exe(),
            "-hide_banner",
            "-i",
            str(out),
            "-c",
            "copy",
            "-bsf:v",
            "trace_headers",
            "-f",
            "null",
            "-",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stderr
    vui = {}
    for line in trace.splitlines():
        name = next(
            (
                k
                for k in (
                    "chroma_format_idc",
                    "video_full_range_flag",
                    "colour_primaries",
                    "transfer_characteristics",
                    "matrix_coefficients",
                )
                if f" {k} " in line
            ),
            None,
        )
        if name is not None:
            vui.setdefault(name, int(line.rsplit("=", 1)[1]))
    assert vui == {
        "chroma_format_idc": 1,
        "video_full_range_flag": 0,
        "colour_primaries": 1,
        "transfer_characteristics": 1,
        "matrix_coefficients": 1,
    }
