"""``colorize(backend=...)``: the network through vs-mlrt's plugins gives torch's frames within
float rounding, the same bits in any order, one-line errors, and exports its graph once."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import vapoursynth as vs

import vscolorize
from vscolorize.cli import main
from vscolorize.core import colorize_image
from vscolorize.core.color import srgb_to_lab
from vscolorize.core.engines.learned import installed_models
from vscolorize.core.errors import SettingError
from vscolorize.core.models import export, load_model
from vscolorize.mlrt import PLUGINS

from .test_node import panning, planes

pytestmark = pytest.mark.skipif("fast" not in installed_models(), reason="the fast model is not installed")

LENGTH = 6
HINTS = {
    "format": "vscolorize.hints",
    "version": 1,
    "keyframes": [
        {
            "frame": 0,
            "points": [
                {"x": 0.5, "y": 0.5, "ab": [50, 40], "radius": 0.06},
                {"x": 0.2, "y": 0.3, "ab": [-20, 30], "radius": 0.05},
                {"x": 0.8, "y": 0.7, "ab": [10, -40], "radius": 0.05},
            ],
        }
    ],
}


def loaded(backend: str) -> bool:
    return hasattr(vs.core, backend)


def colorized(backend: str, order: list[int] | None = None, **settings: object) -> np.ndarray:
    """(frames, H, W, 2): a*b* of the output's sRGB, frames read in ``order``."""
    out = vscolorize.colorize(
        panning(LENGTH), HINTS, method="model", model="fast", temporal=2, backend=backend, **settings
    )
    frames: dict[int, np.ndarray] = {}
    for n in order or range(LENGTH):
        frames[n] = srgb_to_lab(planes(out.get_frame(n)))[..., 1:]
    return np.stack([frames[n] for n in range(LENGTH)])


@pytest.fixture(scope="module")
def torch_ab() -> np.ndarray:
    return colorized("torch")


@pytest.mark.parametrize("backend", ["ort", "ov"])
def test_frames_are_torchs_within_float_rounding(backend: str, torch_ab: np.ndarray) -> None:
    if not loaded(backend):
        pytest.skip(f"{PLUGINS[backend].wheel} is not installed")
    ab = colorized(backend)
    difference = np.abs(ab - torch_ab)
    assert difference.mean() <= 0.5 and difference.max() <= 3, (difference.mean(), difference.max())
    assert np.abs(torch_ab).mean() > 2  # the hints colored the frames: a real comparison


@pytest.mark.parametrize("backend", ["ort", "ov"])
def test_frames_are_the_same_bits_in_any_order(backend: str) -> None:
    if not loaded(backend):
        pytest.skip(f"{PLUGINS[backend].wheel} is not installed")
    forward = colorized(backend)
    np.testing.assert_array_equal(colorized(backend, [5, 2, 0, 4, 1, 3]), forward)


@pytest.mark.parametrize("backend", ["ort", "ov"])
def test_a_network_of_four_channels_reads_one_rgb_and_one_gray_clip(backend: str, tiny_model: Path) -> None:
    if not loaded(backend):
        pytest.skip(f"{PLUGINS[backend].wheel} is not installed")
    assert export.input_channels(load_model(tiny_model)) == 4  # L*, hint a*b*, mask: no bases
    clip = panning(3)
    ab = {
        name: np.stack(
            [
                srgb_to_lab(planes(frame))[..., 1:]
                for frame in vscolorize.colorize(
                    clip, HINTS, model=tiny_model, temporal=1, backend=name
                ).frames()
            ]
        )
        for name in ("torch", backend)
    }
    assert np.abs(ab[backend] - ab["torch"]).max() <= 3


def test_the_graph_is_exported_once_per_model_and_size(
    private_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not loaded("ort"):
        pytest.skip("vapoursynth-mlrt-ort is not installed")
    exported: list[Path] = []
    real = export.export_onnx

    def counted(path: Path, *args: object, **kwargs: object) -> Path:
        exported.append(Path(path))
        return real(path, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(export, "export_onnx", counted)
    clip = panning(2)
    for _ in range(2):
        vscolorize.colorize(clip, HINTS, model="fast", temporal=0, backend="ort").get_frame(1)
    assert len(exported) == 1
    (graph,) = (private_cache / "onnx").iterdir()  # only the finished graph, no leftovers
    assert graph.name.startswith("fast-96x160-")
    vscolorize.colorize(clip.resize.Bilinear(320, 192), model="fast", temporal=0, backend="ort").get_frame(0)
    assert len(exported) == 2 and len(list((private_cache / "onnx").iterdir())) == 2


@pytest.mark.parametrize(
    ("settings", "said"),
    [
        (
            {"backend": "onnx"},
            "colorize: backend must be one of ('torch', 'ort', 'ov', 'trt', 'ncnn'), not 'onnx'",
        ),
        (
            {"backend": "ort", "method": "optimization"},
            "colorize: backend='ort' runs the network: it needs method='model'",
        ),
        (
            {"backend": "ov", "ensemble": 2},
            "colorize: backend='ov' runs one prediction a frame: it needs ensemble=1",
        ),
    ],
)
def test_bad_backends_are_one_line(settings: dict[str, object], said: str) -> None:
    with pytest.raises(vs.Error) as raised:
        vscolorize.colorize(panning(2), **settings)  # type: ignore[arg-type]
    assert str(raised.value) == said


@pytest.mark.parametrize("backend", ["trt", "ncnn"])
def test_a_missing_plugin_names_its_wheel(backend: str) -> None:
    if loaded(backend):
        pytest.skip(f"{PLUGINS[backend].wheel} is installed")
    with pytest.raises(vs.Error) as raised:
        vscolorize.colorize(panning(2), model="fast", backend=backend)
    runtime = {"trt": "TensorRT", "ncnn": "ncnn"}[backend]
    assert str(raised.value) == (
        f"colorize: backend={backend!r} needs VapourSynth's {runtime} plugin: pip install vapoursynth-mlrt-{backend}"
    )


def test_a_picture_is_colorized_by_torch_only() -> None:
    with pytest.raises(SettingError, match=r"^colorize_image: backend='ort' runs in VapourSynth only"):
        colorize_image(np.zeros((32, 32)), settings=vscolorize.core.Settings(backend="ort"))


def test_render_takes_the_backend(film: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "o.mp4"
    assert main(["render", str(film), "-o", str(out), "--method", "optimization", "--backend", "ort"]) == 2
    assert (
        capsys.readouterr().err
        == "vscolorize: error: render: backend='ort' runs the network: it needs method='model'\n"
    )
    if not loaded("ncnn"):
        assert main(["render", str(film), "-o", str(out), "--model", "fast", "--backend", "ncnn"]) == 2
        error = capsys.readouterr().err
        assert error.count("\n") == 1 and "pip install vapoursynth-mlrt-ncnn" in error, error
    assert not out.exists()
