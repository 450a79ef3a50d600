from __future__ import annotations

import json
import random
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import vapoursynth as vs

import vscolorize
from vscolorize.core.color import gray_to_l, srgb_to_l
from vscolorize.core.hints import Hints

from .conftest import HINTS

core = vs.core

FORMATS = [vs.GRAY8, vs.GRAY16, vs.YUV420P8, vs.YUV420P10, vs.RGB24, vs.RGBS, vs.GRAYS]


def gradient(fmt: int, width: int = 64, height: int = 48, length: int = 5) -> vs.VideoNode:
    """A clip whose frame n is a horizontal ramp shifted by n, in any format."""
    info = core.get_video_format(fmt)
    ramp = np.linspace(0.05, 0.95, width, dtype=np.float32)[None, :] * np.ones((height, 1))
    blank = core.std.BlankClip(width=width, height=height, format=fmt, length=length)

    def fill(n: int, f: vs.VideoFrame) -> vs.VideoFrame:
        out = f.copy()
        for plane in range(info.num_planes):
            target = np.asarray(out[plane])
            values = np.roll(ramp, n, axis=1)[: target.shape[0], : target.shape[1]]
            if plane > 0 and info.color_family == vs.YUV:
                values = np.full_like(values, 0.5)  # neutral chroma
            if info.sample_type == vs.INTEGER:
                values = np.round(values * ((1 << info.bits_per_sample) - 1))
            np.copyto(target, values.astype(target.dtype))
        out.props["_Range"] = vs.ColorRange.RANGE_FULL
        out.props["Custom"] = n * 10
        return out

    return blank.std.ModifyFrame(clips=blank, selector=fill)


def planes(frame: vs.VideoFrame) -> np.ndarray:
    return np.stack([np.asarray(frame[i]) for i in range(frame.format.num_planes)], -1)


@pytest.mark.parametrize("fmt", FORMATS, ids=lambda f: core.get_video_format(f).name)
def test_any_format_gives_rgbs_with_props(fmt: int, tiny_model: Path) -> None:
    clip = gradient(fmt)
    out = vscolorize.colorize(clip, HINTS, method="model", model=tiny_model)
    assert out.format.id == vs.RGBS
    assert (out.width, out.height, out.num_frames) == (clip.width, clip.height, clip.num_frames)
    assert out.fps == clip.fps
    for n in (0, 3):
        frame = out.get_frame(n)
        assert frame.props["Custom"] == n * 10
        assert frame.props["_Matrix"] == vs.MatrixCoefficients.MATRIX_RGB
        assert frame.props["_Range"] == vs.ColorRange.RANGE_FULL
        rgb = planes(frame)
        assert np.isfinite(rgb).all() and rgb.min() >= 0 and rgb.max() <= 1
        # lightness is the input's (4:2:0 luma is full resolution: same ramp in every format)
        expected = gray_to_l(np.roll(np.linspace(0.05, 0.95, 64), n)[None, :] * np.ones((48, 1)))
        assert np.abs(srgb_to_l(rgb) - expected).max() < 1.0


def test_range_is_honored() -> None:
    """Limited-range luma 16..235 maps to black..white; full range 0..255 does."""
    limited = core.std.BlankClip(width=8, height=8, format=vs.YUV420P8, color=[126, 128, 128])
    full = core.std.BlankClip(width=8, height=8, format=vs.GRAY8, color=[126])
    limited_gray = planes(vscolorize.colorize(limited, method="optimization").get_frame(0))
    full_gray = planes(vscolorize.colorize(full, method="optimization").get_frame(0))
    np.testing.assert_allclose(limited_gray, (126 - 16) / 219, atol=2e-3)
    np.testing.assert_allclose(full_gray, 126 / 255, atol=2e-3)
    tagged = core.std.SetFrameProps(full, _Range=int(vs.ColorRange.RANGE_LIMITED))
    tagged_gray = planes(vscolorize.colorize(tagged, method="optimization").get_frame(0))
    np.testing.assert_allclose(tagged_gray, (126 - 16) / 219, atol=2e-3)


def test_without_propagation_hints_color_their_keyframe_only() -> None:
    clip = core.std.BlankClip(width=64, height=48, format=vs.GRAY8, color=[128], length=4)
    out = vscolorize.colorize(clip, HINTS, method="optimization", propagate=False, temporal=0)
    keyframe = planes(out.get_frame(1))
    red, green = keyframe[24, 19, 0], keyframe[24, 19, 1]
    assert red > green + 0.15  # the (40, 30) hint: reddish
    other = planes(out.get_frame(2))
    np.testing.assert_allclose(other, other[..., :1].repeat(3, -1), atol=1e-4)  # no hints: gray


def panning(length: int = 12, speed: int = 3) -> vs.VideoNode:
    """A GRAY8 clip panning over the astronaut: content moves left ``speed`` px per frame."""
    import skimage.data

    from vscolorize.core.color import srgb_to_lab

    lightness = srgb_to_lab(skimage.data.astronaut() / 255.0)[..., 0]
    picture = np.round(lightness * 2.55).astype(np.uint8)
    blank = core.std.BlankClip(width=160, height=96, format=vs.GRAY8, length=length)

    def fill(n: int, f: vs.VideoFrame) -> vs.VideoFrame:
        out = f.copy()
        np.copyto(np.asarray(out[0]), picture[200:296, 150 + speed * n : 310 + speed * n])
        out.props["_Range"] = vs.ColorRange.RANGE_FULL
        return out

    return blank.std.ModifyFrame(clips=blank, selector=fill)


def test_propagated_hints_follow_the_picture_and_motion_is_stored(private_cache: Path) -> None:
    clip = panning()
    hints = {
        "format": "vscolorize.hints",
        "version": 1,
        "keyframes": [{"frame": 0, "points": [{"x": 0.5, "y": 0.5, "ab": [50, 40], "radius": 0.06}]}],
    }
    out = vscolorize.colorize(clip, hints, method="optimization")
    assert not (private_cache / "motion").exists()  # building the node measures nothing
    rgb = planes(out.get_frame(10))
    # the hint moved 30 px left with the picture: reddish there, gray where it started
    red = rgb[48, 80 - 30] - rgb[48, 80 - 30].mean()
    assert red[0] > 0.05 and red[2] < 0
    stored = list((private_cache / "motion").rglob("*.motion"))
    assert len(stored) >= 10  # frames 0-10 of the shot, and the temporal filter's neighbors
    path = private_cache / "pan.hints.json"
    path.write_text(json.dumps(hints))
    assert vscolorize.propagated_hints(clip, str(path)) == vscolorize.propagated_hints(clip, hints)
    exported = vscolorize.propagated_hints(clip, hints)  # a path or a dict, as colorize takes
    frame10 = exported.keyframe(10)
    assert frame10 is not None and abs(frame10.points[0].x * 160 - (80 - 30)) < 1.5
    assert frame10.points[0].extra["propagated_from"] == 0
    assert exported.extra["scene_cuts"] == []


@pytest.mark.parametrize("temporal", [0, 2])
def test_a_hint_ends_and_is_muted_where_its_lifetime_says(temporal: int) -> None:
    clip = panning(length=20, speed=1)
    point = {"x": 0.5, "y": 0.5, "ab": [50, 40], "radius": 0.06}

    def colored(**life: object) -> list[bool]:
        keyframes = [{"frame": 0, "points": [{**point, **life}]}]
        doc = {"format": "vscolorize.hints", "version": 1, "keyframes": keyframes}
        out = vscolorize.colorize(clip, doc, method="optimization", temporal=temporal)
        return [bool(np.ptp(planes(frame), axis=-1).max() > 1e-3) for frame in out.frames()]

    # the temporal filter spreads a frame's colors to its neighbors: a hint's color ends with
    # the filter's reach after it
    reach = temporal
    assert colored() == [True] * 20
    assert colored(until=8) == [True] * (9 + reach) + [False] * (11 - reach)
    muted = colored(mute=[[5, 11]])
    assert muted[: 5 + reach] == [True] * (5 + reach) and not any(muted[5 + reach : 12 - reach])
    assert all(muted[12:])  # colored again after


def vscolorize_hints(doc: dict[str, object]) -> Hints:
    from vscolorize.core.hints import resolve_hints

    resolved = resolve_hints(doc)
    assert resolved is not None
    return resolved


@pytest.mark.parametrize("tell_cuts", [True, False])
def test_temporal_filter_blends_neighbors_within_a_shot_only(tell_cuts: bool) -> None:
    """Frames 0-3 show one picture, 4-7 another; only frame 3 has a hint (no propagation)."""
    first, second = panning(length=1), panning(length=1, speed=0)[0].std.Invert()
    clip = first * 4 + second * 4
    if tell_cuts:
        clip = clip.std.SetFrameProps(_SceneChangePrev=0, _SceneChangeNext=0)
        clip = clip[:3] + clip[3].std.SetFrameProps(_SceneChangeNext=1) + clip[4:]
    hints = {
        "format": "vscolorize.hints",
        "version": 1,
        "keyframes": [{"frame": 3, "points": [{"x": 0.5, "y": 0.5, "ab": [50, 40], "radius": 0.2}]}],
    }
    out = vscolorize.colorize(clip, hints, method="optimization", propagate=False, temporal=2)

    def chroma(n: int) -> float:
        rgb = planes(out.get_frame(n))
        return float(np.abs(rgb - rgb.mean(-1, keepdims=True)).mean())

    assert chroma(3) > 0.05
    assert 0.01 < chroma(2) < chroma(3)  # a neighbor in the same shot takes some of its color
    assert chroma(4) < 1e-3 and chroma(5) < 1e-3  # the next shot does not


def test_temporal_setting_is_checked() -> None:
    clip = core.std.BlankClip(width=64, height=48, format=vs.GRAY8)
    for bad in (-1, 17, 1.5, True):
        with pytest.raises(vs.Error, match=r"^colorize: temporal must be a whole number"):
            vscolorize.colorize(clip, temporal=bad)  # type: ignore[arg-type]


def test_half_output() -> None:
    clip = gradient(vs.GRAY8)
    out = vscolorize.colorize(clip, HINTS, method="optimization", output="RGBH")
    assert out.format.id == vs.RGBH
    full = vscolorize.colorize(clip, HINTS, method="optimization")
    np.testing.assert_allclose(
        planes(out.get_frame(1)).astype(np.float32), planes(full.get_frame(1)), atol=1e-3
    )


def _frames_in_order(node: vs.VideoNode, order: list[int]) -> dict[int, np.ndarray]:
    futures = {n: node.get_frame_async(n) for n in order}  # all in flight at once
    return {n: planes(f.result()) for n, f in futures.items()}


@pytest.mark.parametrize(
    ("method", "extra"),
    [
        ("model", {}),
        ("optimization", {}),
        ("model", {"postprocess": ("segment_fill",), "ensemble": 3}),
    ],
    ids=["model", "optimization", "model+segment_fill+ensemble"],
)
def test_bit_identical_in_any_order_and_thread_count(
    method: str, extra: dict[str, object], tiny_model: Path
) -> None:
    clip = gradient(vs.YUV420P8, width=96, height=64, length=8)
    kwargs: dict[str, object] = {"model": tiny_model, **extra} if method == "model" else {}
    threads = core.num_threads
    try:
        results = []
        for count, seed in ((1, 0), (2, 1), (2, 2)):
            core.num_threads = count
            order = list(range(clip.num_frames))
            random.Random(seed).shuffle(order)
            out = vscolorize.colorize(clip, HINTS, method=method, **kwargs)  # type: ignore[arg-type]
            results.append(_frames_in_order(out, order))
    finally:
        core.num_threads = threads
    for other in results[1:]:
        for n, frame in results[0].items():
            assert np.array_equal(frame, other[n]), f"frame {n} differs"


def test_a_frame_asked_for_alone_has_its_window_made_on_every_thread(
    tiny_model: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A first frame or a seek: its temporal window's predictions are shared out among
    VapourSynth's thread count, and the frame is the one a single thread makes."""
    from vscolorize.core.pipeline import FramePipeline

    clip = gradient(vs.YUV420P8, width=96, height=64, length=12)
    makers: list[str] = []
    predict = FramePipeline.prediction

    def prediction(self: FramePipeline, *args: object) -> np.ndarray:
        makers.append(threading.current_thread().name)
        time.sleep(0.05)  # long enough that the helper takes its share
        return predict(self, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(FramePipeline, "prediction", prediction)
    threads = core.num_threads
    try:
        frames = []
        for count in (1, 2):
            core.num_threads = count
            makers.clear()
            out = vscolorize.colorize(clip, HINTS, model=tiny_model, temporal=4)
            frames.append(planes(out.get_frame(6)))
            assert len(makers) == 9  # frames 2-10, each once
            helped = [name for name in makers if name.startswith("vscolorize-window")]
            assert bool(helped) == (count > 1) and len(helped) < len(makers), makers
    finally:
        core.num_threads = threads
    assert np.array_equal(frames[0], frames[1])


def test_variable_size_or_format_is_refused() -> None:
    a = core.std.BlankClip(width=64, height=48, format=vs.GRAY8, length=2)
    b = core.std.BlankClip(width=32, height=48, format=vs.GRAY8, length=2)
    c = core.std.BlankClip(width=64, height=48, format=vs.YUV420P8, length=2)
    with pytest.raises(vs.Error, match=r"^colorize: clip: variable size"):
        vscolorize.colorize(core.std.Splice([a, b], mismatch=True), method="optimization")
    with pytest.raises(vs.Error, match=r"^colorize: clip: variable format"):
        vscolorize.colorize(core.std.Splice([a, c], mismatch=True), method="optimization")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"method": "magic"}, "colorize: method must be one of"),
        ({"model": "nowhere.safetensors", "method": "model"}, "colorize: model: 'nowhere"),
        ({"device": "tpu"}, "colorize: device: expected"),
        ({"output": "RGB24"}, "colorize: output must be one of"),
        ({"propagate": "yes"}, "colorize: propagate must be True or False"),
        ({"ensemble": 3, "method": "optimization"}, "colorize: ensemble=3 needs method='model'"),
        ({"ensemble": 99, "method": "model"}, "colorize: ensemble must be a whole number from 1"),
        ({"postprocess": ("sharpen",)}, "colorize: postprocess"),
    ],
)
def test_bad_settings_name_colorize(kwargs: dict[str, object], message: str) -> None:
    clip = core.std.BlankClip(width=64, height=48, format=vs.GRAY8)
    with pytest.raises(vs.Error, match=f"^{message}"):
        vscolorize.colorize(clip, **kwargs)  # type: ignore[arg-type]


def test_bad_hints_name_colorize_and_the_file(tmp_path: Path) -> None:
    clip = core.std.BlankClip(width=64, height=48, format=vs.GRAY8, length=10)
    broken = tmp_path / "broken.hints.json"
    doc = json.loads(json.dumps(HINTS))
    doc["keyframes"][0]["points"][0]["x"] = 1.7
    broken.write_text(json.dumps(doc))
    with pytest.raises(vs.Error, match=r"^colorize: .*broken\.hints\.json: keyframes\[0\]"):
        vscolorize.colorize(clip, broken)
    with pytest.raises(vs.Error, match=r"^colorize: .*missing\.hints\.json"):
        vscolorize.colorize(clip, tmp_path / "missing.hints.json")
    late = {**HINTS, "keyframes": [{"frame": 10, "points": []}]}
    with pytest.raises(vs.Error, match=r"^colorize: hints: keyframe 10 is past"):
        vscolorize.colorize(clip, late)
    with pytest.raises(vs.Error, match=r"^colorize: clip: expected a VapourSynth video clip"):
        vscolorize.colorize(np.zeros((4, 4)))  # type: ignore[arg-type]


@pytest.mark.cuda
def test_cuda_matches_cpu(tiny_model: Path) -> None:
    clip = gradient(vs.GRAY16, width=320, height=180)
    cpu = vscolorize.colorize(clip, HINTS, method="model", model=tiny_model, device="cpu")
    gpu = vscolorize.colorize(clip, HINTS, method="model", model=tiny_model, device="cuda")
    for n in range(clip.num_frames):
        np.testing.assert_allclose(planes(gpu.get_frame(n)), planes(cpu.get_frame(n)), atol=0.02)
