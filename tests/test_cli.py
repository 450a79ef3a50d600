from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest

from vscolorize.cli import main
from vscolorize.core.color import srgb_to_lab
from vscolorize.core.engines.learned import installed_models

GOOD_HINTS = {
    "format": "vscolorize.hints",
    "version": 1,
    "keyframes": [{"frame": 0, "points": [{"x": 0.25, "y": 0.5, "rgb": "#2050d0", "radius": 0.1}]}],
}


def run(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "vscolorize.cli", *map(str, args)]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=cwd)


@pytest.fixture
def photo(tmp_path: Path) -> Path:
    gray = np.where(np.arange(64)[None, :] < 32, 80, 200).astype(np.uint8) * np.ones((48, 1), np.uint8)
    path = tmp_path / "photo.png"
    cv2.imwrite(str(path), gray)
    return path


def hints_file(tmp_path: Path, doc: object) -> Path:
    path = tmp_path / "h.hints.json"
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc))
    return path


def test_image_command(tmp_path: Path, photo: Path) -> None:
    out = tmp_path / "out.png"
    result = run("image", photo, "-o", out, "--hints", hints_file(tmp_path, GOOD_HINTS))
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    rgb = cv2.imread(str(out))[..., ::-1]
    assert rgb.shape == (48, 64, 3)
    left = rgb[:, :28].reshape(-1, 3).mean(0)
    assert left[2] > left[0] + 20  # the blue hint filled the left region
    lightness = srgb_to_lab(rgb.astype(np.float32) / 255)[..., 0]
    expected = srgb_to_lab(np.repeat(cv2.imread(str(photo), 0)[..., None], 3, -1) / 255.0)[..., 0]
    assert np.abs(lightness - expected).max() < 1.0


def test_image_command_post_processing(tmp_path: Path, photo: Path) -> None:
    hints = hints_file(tmp_path, GOOD_HINTS)
    outs = {}
    for name, extra in {
        "plain": [],
        "filled": ["--postprocess", "segment_fill"],
        "ensemble": ["--ensemble", "2", "--ensemble-mode", "median"],
    }.items():
        outs[name] = tmp_path / f"{name}.png"
        result = run("image", photo, "-o", outs[name], "--hints", hints, "--method", "model", *extra)
        assert result.returncode == 0, result.stderr
    plain, filled, ensemble = (cv2.imread(str(outs[n])).astype(int) for n in outs)
    assert np.abs(filled - plain).max() > 2 and np.abs(ensemble - plain).max() > 2


def _with_point(**changes: object) -> dict[str, object]:
    doc = json.loads(json.dumps(GOOD_HINTS))
    doc["keyframes"][0]["points"][0].update(changes)
    return doc


BAD = {
    "missing input": (None, None, "nope.png: no such file"),
    "invalid json": ('{"format": ', None, "h.hints.json: invalid JSON at line 1"),
    "wrong format tag": ({**GOOD_HINTS, "format": "other"}, None, 'format: "other" is not'),
    "coordinate outside": (_with_point(x=1.7), None, "keyframes[0].points[0].x: 1.7 is outside [0, 1]"),
    "bad rgb": (_with_point(rgb="#12345g"), None, "points[0].rgb: \"#12345g\" is not a '#rrggbb'"),
    "negative radius": (_with_point(radius=-0.1), None, "points[0].radius: -0.1 is outside (0, 1]"),
    "non-integer frame": ({**GOOD_HINTS, "keyframes": [{"frame": 0.5}]}, None, "frame: must be an integer"),
    "point without color": (
        {**GOOD_HINTS, "keyframes": [{"frame": 0, "points": [{"x": 0, "y": 0}]}]},
        None,
        "points[0]: has no color",
    ),
    "missing hints file": ("MISSING", None, "missing.hints.json: no such file"),
    "bad method": (GOOD_HINTS, ["--method", "magic"], "argument --method: invalid choice"),
    "bad device": (GOOD_HINTS, ["--device", "tpu"], "device: expected 'auto', 'cpu'"),
    "bad model": (
        GOOD_HINTS,
        ["--method", "model", "--model", "huge"],
        "colorize_image: model: 'huge' is neither 'auto', 'fast', 'large' nor a weights file",
    ),
    "bad output format": (GOOD_HINTS, ["-o", "out.xyz"], "out.xyz: cannot write .xyz"),
    "bad postprocess": (GOOD_HINTS, ["--postprocess", "sharpen"], "postprocess: unknown step 'sharpen'"),
    "ensemble without model": (
        GOOD_HINTS,
        ["--ensemble", "3", "--method", "optimization"],
        "ensemble=3 needs method='model'",
    ),
    "ensemble too big": (
        GOOD_HINTS,
        ["--method", "model", "--ensemble", "99"],
        "ensemble must be a whole number from 1 to",
    ),
    "ensemble not a number": (GOOD_HINTS, ["--ensemble", "many"], "argument --ensemble: invalid int value"),
}


@pytest.mark.parametrize("case", BAD)
def test_bad_input_exits_2_with_one_line(tmp_path: Path, photo: Path, case: str) -> None:
    doc, extra, message = BAD[case]
    args: list[str | Path] = ["image", tmp_path / "nope.png" if case == "missing input" else photo]
    if doc == "MISSING":
        args += ["--hints", tmp_path / "missing.hints.json"]
    elif doc is not None:
        args += ["--hints", hints_file(tmp_path, doc)]
    extra = extra or []
    if "-o" not in extra:
        args += ["-o", tmp_path / "out.png"]
    result = run(*args, *extra, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("vscolorize: error: ")
    assert message in lines[0]
    assert "Traceback" not in result.stderr and result.stdout == ""


@pytest.mark.parametrize(
    ("option", "message"),
    [
        (["--base", "magic"], "--base must be one of pull-push, smoother, levin, not 'magic'"),
        (["--no-hints", "1.5"], "--no-hints is a share from 0 to 1, not 1.5"),
        (["--most-hints", "0"], "--most-hints must be at least 1"),
        (["--recolor", "-0.1"], "--recolor is a share from 0 to 1, not -0.1"),
        (["--scan", "2"], "--scan is a share from 0 to 1, not 2.0"),
        (["--smallest-crop", "0"], "--smallest-crop is a share above 0, at most 1, not 0.0"),
    ],
)
def test_train_names_a_bad_option_before_reading_anything(
    tmp_path: Path, option: list[str], message: str
) -> None:
    result = run("train", "--images", tmp_path, "--out", tmp_path / "m.safetensors", *option)
    assert result.returncode == 2, result.stderr
    assert result.stderr == f"vscolorize: error: train: {message}\n"


def test_output_never_overwrites_the_input(photo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = photo.read_bytes()
    assert main(["image", str(photo), "-o", str(photo.parent / "." / photo.name)]) == 2
    assert "would overwrite the input picture" in capsys.readouterr().err
    assert photo.read_bytes() == before


def test_no_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert capsys.readouterr().err.startswith("vscolorize: error: the following arguments")


def test_internal_errors_exit_1(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], photo: Path, tmp_path: Path
) -> None:
    import vscolorize.core.pipeline as pipeline

    def broken(*args: object, **kwargs: object) -> None:
        raise ZeroDivisionError("boom")

    monkeypatch.setattr(pipeline, "colorize_image", broken)
    assert main(["image", str(photo), "-o", str(tmp_path / "o.png")]) == 1
    assert "vscolorize: internal error: ZeroDivisionError: boom" in capsys.readouterr().err


def test_demo(tmp_path: Path) -> None:
    result = run("demo", "-o", tmp_path / "demo")
    assert result.returncode == 0, result.stderr
    methods = ["model", "optimization"] if installed_models() else ["optimization"]
    for name in ["gray", *methods, "strip"]:
        assert str(tmp_path / "demo" / f"astronaut-{name}.png") in result.stdout
    strip = cv2.imread(str(tmp_path / "demo" / "astronaut-strip.png"))
    assert strip.shape == (512, (3 + len(methods)) * 512, 3)
    psnr = {m: float(v) for m, v in re.findall(r"^  (\w+) .*PSNR +([\d.]+) dB$", result.stdout, re.M)}
    for method in methods:
        assert psnr[method] > psnr["gray"] + 3  # the hints bring the colors much closer
    # the video part: a rendered H.264 clip, a strip of three frames, fps and PSNR printed
    clip = tmp_path / "demo" / "astronaut-pan.mp4"
    assert str(clip) in result.stdout and clip.stat().st_size > 10_000
    capture = cv2.VideoCapture(str(clip))
    assert int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) == 48
    ok, frame = capture.read()
    assert ok and frame.shape == (272, 480, 3)
    clip_strip = cv2.imread(str(tmp_path / "demo" / "astronaut-pan-strip.png"))
    assert clip_strip.shape == (3 * 272, 3 * 480, 3)
    fps, colored, gray = re.search(
        r"clip, method \w+: ([\d.]+) fps rendered, PSNR ([\d.]+) dB \(gray ([\d.]+) dB\)",
        result.stdout,
    ).groups()  # type: ignore[union-attr]
    assert float(fps) > 0 and float(colored) > float(gray) + 3


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--start", "5", "--end", "3"], "vscolorize: error: --start 5 is after --end 3\n"),
        (["--end", "40"], "vscolorize: error: --end 40: past the clip's last frame (11; it has 12 frames)\n"),
        (["--start", "-3"], "vscolorize: error: --start -3: frames are numbered from 0\n"),
        (
            ["--start", "two"],
            "vscolorize: error: argument --start: invalid int value: 'two' "
            "(see 'vscolorize render --help')\n",
        ),
    ],
)
def test_render_range_errors(
    film: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    out = tmp_path / "o.mp4"
    assert main(["render", str(film), "-o", str(out), "--method", "optimization", *args]) == 2
    captured = capsys.readouterr()
    assert captured.err == message and captured.out == ""
    assert not out.exists()


def test_render_help_says_what_the_range_means() -> None:
    result = run("render", "--help")
    text = " ".join(result.stdout.split())
    assert "--start N" in text and "--end N" in text
    assert "last frame to write, included, as in vspipe" in text
    assert "audio is cut to the same frames" in text and "loses its audio, with a warning" in text


def test_analyze_fills_the_store_and_prints_shots(
    film: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("VSCOLORIZE_CACHE", str(tmp_path / "cache"))
    assert main(["analyze", str(film)]) == 0
    out = capsys.readouterr().out
    assert "shot 1: frames 0-11 (12 frames)" in out and "11 pairs of frames measured" in out
    assert len(list((tmp_path / "cache" / "motion").rglob("*.motion"))) == 11
    assert main(["analyze", str(film)]) == 0  # all there now: nothing measured again
    assert "0 pairs of frames measured" in capsys.readouterr().out
    assert main(["analyze", str(film), "--start", "5", "--end", "40"]) == 2
    assert "frames must lie within 0-11" in capsys.readouterr().err


def test_a_bug_inside_the_node_is_an_internal_error_not_a_user_error(
    film: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import vscolorize.node

    def broken(*args: object) -> None:
        raise TypeError("a bug")

    monkeypatch.setattr(vscolorize.node, "write_rgb", broken)
    code = main(["render", str(film), "-o", str(tmp_path / "out.mkv"), "--temporal", "0"])
    err = capsys.readouterr().err
    assert code == 1 and "internal error" in err and "TypeError: a bug" in err, err
    assert not (tmp_path / "out.mkv").exists()


def test_analyze_with_hints_suggests_keyframes_per_shot(
    make_video: Callable[..., Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # two shots: FFmpeg's test pattern, then a Mandelbrot zoom; a keyframe in the first only
    two = ["-f", "lavfi", "-i", "mandelbrot=size=160x96:rate=12", "-filter_complex"]
    two += [
        "[0:v]trim=duration=1,format=yuv420p[a];[1:v]trim=duration=1,setpts=PTS-STARTPTS,"
        "format=yuv420p[b];[a][b]concat=n=2:v=1[v]",
        "-map",
        "[v]",
    ]
    video = make_video(tmp_path / "two.mp4", *two)
    hints = hints_file(tmp_path, GOOD_HINTS)
    assert main(["analyze", str(video), "--hints", str(hints), "--per-shot", "2"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].startswith("shot 1: frames 0-11") and "shot 2: frames 12-23" in out
    second = lines.index(next(line for line in lines if line.startswith("shot 2:")))
    suggested = [re.match(r"  suggested keyframe: frame (\d+) ", line) for line in lines]
    frames = [(i, int(m.group(1))) for i, m in enumerate(suggested) if m]
    assert all(n in range(12) for i, n in frames if i < second)  # each under its own shot
    later = [n for i, n in frames if i > second]
    assert 1 <= len(later) <= 2 and all(n in range(12, 24) for n in later)
    assert "no keyframe in this shot" in lines[second + 1]
    assert f"{len(frames)} keyframes suggested" in lines[-1]
    # without --hints, no suggestion; bad hints or --per-shot: one line, exit 2
    assert main(["analyze", str(video)]) == 0
    assert "suggested" not in capsys.readouterr().out
    assert main(["analyze", str(video), "--hints", str(hints), "--per-shot", "0"]) == 2
    assert "--per-shot must be at least 1" in capsys.readouterr().err
    bad = hints_file(tmp_path, {"format": "vscolorize.hints", "version": 1, "keyframes": [{"frame": 99}]})
    assert main(["analyze", str(video), "--hints", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("vscolorize: error: analyze: hints: keyframe 99") and err.count("\n") == 1
