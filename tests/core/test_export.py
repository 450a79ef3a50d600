"""The shipped network as ONNX: onnxruntime gives torch's a*b* on a real picture with hints, at
the traced size, at other sizes of a dynamic graph, and in float16."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import skimage.data
import torch

from vscolorize.cli import main
from vscolorize.core.color import srgb_to_lab
from vscolorize.core.engines.learned import installed_models, load_network
from vscolorize.core.errors import SettingError
from vscolorize.core.models import network_bases
from vscolorize.core.models.export import export_onnx, input_channels, pyramid_sides
from vscolorize.core.models.network import ColorUNet

onnxruntime = pytest.importorskip("onnxruntime")
pytestmark = pytest.mark.skipif("fast" not in installed_models(), reason="the fast model is not installed")


def model() -> ColorUNet:
    return load_network("fast", "cpu").models[0]


def inputs(net: ColorUNet, size: tuple[int, int], seed: int = 0) -> tuple[torch.Tensor, ...]:
    """A real picture at ``size`` with 20 hints of its own colors, and the network's bases."""
    rng = np.random.default_rng(seed)
    rgb = cv2.resize(skimage.data.astronaut() / 255.0, size[::-1], interpolation=cv2.INTER_AREA)
    lab = srgb_to_lab(rgb.astype(np.float32))
    l = torch.from_numpy(np.ascontiguousarray(lab[..., 0]))[None, None]
    ab, mask = torch.zeros(1, 2, *size), torch.zeros(1, 1, *size)
    for y, x in zip(rng.integers(0, size[0], 20), rng.integers(0, size[1], 20), strict=True):
        ab[0, :, y, x], mask[0, 0, y, x] = torch.from_numpy(lab[y, x, 1:].copy()), 1
    return l, ab, mask, network_bases(net.config, l, ab, mask)


def runs_as_torch(path: Path, net: ColorUNet, size: tuple[int, int], dtype: type = np.float32) -> np.ndarray:
    """onnxruntime's a*b* less torch's (float32) on :func:`inputs` at ``size``."""
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    l, ab, mask, bases = inputs(net, size)
    with torch.no_grad():
        expected = net(l, ab, mask, bases).numpy()
    stacked = torch.cat([l, ab, mask, bases], 1).numpy().astype(dtype)
    assert stacked.shape[1] == input_channels(net)
    (got,) = session.run(None, {"input": stacked})
    assert got.shape == expected.shape
    difference: np.ndarray = got.astype(np.float32) - expected
    return difference


def test_a_fixed_size_graph_gives_torchs_colors(tmp_path: Path) -> None:
    net = model()
    path = export_onnx(tmp_path / "fast.onnx", net, size=(256, 448))
    difference = runs_as_torch(path, net, (256, 448))
    assert np.abs(difference).mean() < 1e-4 and np.abs(difference).max() < 1e-2
    assert [p.name for p in tmp_path.iterdir()] == ["fast.onnx"]  # self-contained: no external data


def test_a_dynamic_graph_runs_sizes_of_its_pyramid_depth(tmp_path: Path) -> None:
    net = model()
    path = export_onnx(tmp_path / "fast.onnx", net, size=(256, 448), dynamic=True)
    assert pyramid_sides((256, 448)) == range(257, 513)
    for size in ((256, 448), (240, 320), (288, 512)):
        difference = runs_as_torch(path, net, size)
        assert np.abs(difference).max() < 1e-2, size


def test_a_float16_graph_stays_within_a_hundredth_of_a_unit(tmp_path: Path) -> None:
    net = model()
    path = export_onnx(tmp_path / "fast16.onnx", net, size=(256, 448), half=True)
    difference = runs_as_torch(path, net, (256, 448), np.float16)
    assert np.isfinite(difference).all()  # the hint pyramid runs in float32
    assert np.abs(difference).mean() < 0.01 and np.abs(difference).max() < 0.5
    assert next(net.parameters()).dtype == torch.float32  # the model itself is left as it was


def test_a_size_the_network_cannot_take_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SettingError, match="must be positive multiples of"):
        export_onnx(tmp_path / "x.onnx", "fast", size=(250, 448))
    assert not list(tmp_path.iterdir())


def test_the_command_writes_a_graph_onnxruntime_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "net.onnx"
    assert main(["export-onnx", "-o", str(path), "--model", "fast", "--dynamic"]) == 0
    said = capsys.readouterr().out
    assert "input (1, 10, 256, 448)" in said and "257-512" in said
    assert np.abs(runs_as_torch(path, model(), (256, 448))).max() < 1e-2
    assert main(["export-onnx", "-o", str(path), "--size", "256by448"]) == 2
    assert capsys.readouterr().err.strip().count("\n") == 0  # one line
