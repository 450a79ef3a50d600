from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from vscolorize.core import colorize_image
from vscolorize.core.color import srgb_to_lab
from vscolorize.core.engines.learned import installed_models
from vscolorize.core.errors import DeviceError, HintError, ImageError, ModelUnavailableError

HINTS = {
    "format": "vscolorize.hints",
    "version": 1,
    "keyframes": [
        {
            "frame": 0,
            "points": [
                {"x": 0.2, "y": 0.5, "rgb": "#d02020", "radius": 0.05},
                {"x": 0.8, "y": 0.5, "ab": [-20, -40], "radius": 0.05},
            ],
        }
    ],
}


def picture(height: int = 32, width: int = 48) -> np.ndarray:
    """Gray, dark on the left, light on the right."""
    return np.where(np.arange(width)[None, :] < width // 2, 0.3, 0.75) * np.ones((height, width))


def test_colorizes_each_region_with_its_hint() -> None:
    gray = picture()
    rgb = colorize_image(gray, HINTS, method="optimization")
    assert rgb.shape == (32, 48, 3) and rgb.dtype == np.float32
    left, right = rgb[:, :20].reshape(-1, 3).mean(0), rgb[:, 28:].reshape(-1, 3).mean(0)
    assert left[0] > left[2] + 0.1  # reddish
    assert right[2] > right[0] + 0.1  # bluish


def test_large_pictures_solve_at_a_working_size_and_keep_hints_exact() -> None:
    gray = picture(400, 700)
    rgb = colorize_image(gray, HINTS, method="optimization")
    assert rgb.shape == (400, 700, 3)
    lab = srgb_to_lab(rgb)
    np.testing.assert_allclose(lab[..., 0], srgb_to_lab(np.repeat(gray[..., None], 3, -1))[..., 0], atol=0.5)
    hinted = lab[200, 560, 1:]  # the hint's hue, chroma lowered only to fit sRGB at this L
    assert abs(hinted[0] / hinted[1] - 0.5) < 0.01 and np.hypot(*hinted) > 35
    assert np.abs(lab[:, 360:, 1:] - hinted).max() < 3  # its region follows it
    assert lab[:, :340, 1].min() > 40  # the red hint's region is red up to the edge


def test_a_weights_file_can_be_the_model(tmp_path: Path) -> None:
    from vscolorize.core.models import ColorUNet, ModelConfig, save_model

    save_model(
        ColorUNet(ModelConfig(name="t", widths=(4, 8), depth=1, working_short_side=16)),
        tmp_path / "mine.safetensors",
    )
    rgb = colorize_image(picture(), HINTS, method="model", model=tmp_path / "mine.safetensors")
    assert rgb.shape == (32, 48, 3)
    a, b = srgb_to_lab(rgb)[16, 9, 1:]  # on the red hint: its hue, whatever the untrained net says
    assert a > 20 and abs(b / a - 0.716) < 0.05


def test_lightness_is_the_inputs() -> None:
    color = np.random.default_rng(0).random((32, 48, 3)).astype(np.float32)
    rgb = colorize_image(color, HINTS, method="optimization")
    np.testing.assert_allclose(srgb_to_lab(rgb)[..., 0], srgb_to_lab(color)[..., 0], atol=0.5)


def test_gray_input_without_hints_comes_back() -> None:
    gray = picture()
    rgb = colorize_image(gray, None, method="optimization")
    np.testing.assert_allclose(rgb, np.repeat(gray[..., None], 3, -1), atol=2e-3)


def test_uint8_is_accepted() -> None:
    rgb = colorize_image((picture() * 255).astype(np.uint8), HINTS, method="optimization")
    assert rgb.shape == (32, 48, 3)


@pytest.mark.parametrize(
    ("image", "error", "match"),
    [
        ([[0.5]], ImageError, "image: expected a numpy array"),
        (np.zeros((4, 4, 4)), ImageError, r"expected shape \(H, W\) or \(H, W, 3\)"),
        (np.full((4, 4), 1.5), ImageError, r"values must lie in \[0, 1\]"),
        (np.full((4, 4), np.nan), ImageError, "NaN"),
        (np.zeros((4, 4), np.int64), ImageError, "expected float"),
        (np.zeros((0, 4)), ImageError, "empty"),
    ],
)
def test_bad_images(image: object, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        colorize_image(image, method="optimization")  # type: ignore[arg-type]


def test_bad_options() -> None:
    gray = picture()
    with pytest.raises(ValueError, match="method must be one of"):
        colorize_image(gray, method="magic")  # type: ignore[arg-type]
    with pytest.raises(DeviceError, match="device: expected"):
        colorize_image(gray, method="optimization", device="tpu")
    with pytest.raises(HintError, match="no keyframe for frame 0"):
        colorize_image(gray, {**HINTS, "keyframes": [{"frame": 4}]}, method="optimization")
    with pytest.raises(ModelUnavailableError, match="model: 'huge' is neither 'auto'"):
        colorize_image(gray, method="model", model="huge")
    with pytest.raises(ValueError, match="model must be 'auto', 'fast', 'large' or a path"):
        colorize_image(gray, method="model", model=3)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"ensemble=3 needs method='model'"):
        colorize_image(gray, method="optimization", ensemble=3)
    with pytest.raises(ValueError, match="ensemble must be a whole number >= 1"):
        colorize_image(gray, method="optimization", ensemble=0)
    with pytest.raises(ValueError, match="postprocess: unknown step 'sharpen'"):
        colorize_image(gray, method="optimization", postprocess=("sharpen",))
    with pytest.raises(ValueError, match="postprocess must be a sequence of names"):
        colorize_image(gray, method="optimization", postprocess="segment_fill")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="segmentation must be one of"):
        colorize_image(gray, method="optimization", postprocess=("segment_fill:quadtree",))
    with pytest.raises(ValueError, match="ensemble_mode must be one of"):
        colorize_image(gray, method="optimization", ensemble_mode="max")  # type: ignore[arg-type]


@pytest.mark.skipif(bool(installed_models()), reason="a model is installed")
def test_model_method_without_weights_says_so() -> None:
    with pytest.raises(ModelUnavailableError, match="no trained model is installed yet"):
        colorize_image(picture(), method="model")


@pytest.mark.skipif(not installed_models(), reason="no model weights are installed")
def test_model_method_colorizes_with_hints() -> None:
    gray = picture(64, 96)
    rgb = colorize_image(gray, HINTS, method="model", device="cpu")
    assert rgb.shape == (64, 96, 3) and rgb.dtype == np.float32
    lab = srgb_to_lab(rgb)
    expected_l = srgb_to_lab(np.repeat(gray[..., None], 3, -1).astype(np.float32))[..., 0]
    np.testing.assert_allclose(lab[..., 0], expected_l, atol=0.5)
    # the hinted pixels carry their hint's hue: the right one is (-20, -40), chroma lowered only
    # as far as sRGB needs at this lightness
    a, b = lab[32, 77, 1:]
    assert abs(b / a - 2.0) < 0.05 and 35 < np.hypot(a, b) <= 45
    left = rgb[:, :40].reshape(-1, 3).mean(0)
    assert left[0] > left[2]  # the red hint spreads over the dark left region
    auto = colorize_image(gray, None, method="model", device="cpu")
    assert auto.shape == (64, 96, 3)


def test_device_choice_with_and_without_cuda(monkeypatch: pytest.MonkeyPatch) -> None:
    """What a GPU machine resolves to, with CUDA mocked (no GPU here): auto takes the GPU and the
    large model where it is installed; a missing card is one clear line."""
    import torch

    from vscolorize.core.engines.learned import installed_models, pick_model
    from vscolorize.core.pipeline import resolve_device

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert resolve_device(None) == resolve_device("auto") == "cpu"
    with pytest.raises(DeviceError, match=r"^device: 'cuda' was asked for but CUDA is not available here$"):
        resolve_device("cuda")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    assert resolve_device("auto") == "cuda" and resolve_device("cuda:1") == "cuda:1"
    with pytest.raises(DeviceError, match=r"^device: 'cuda:2' does not exist \(2 CUDA devices\)$"):
        resolve_device("cuda:2")
    assert pick_model("auto", "cuda") == ("large" if "large" in installed_models() else "fast")
    assert pick_model("auto", "cpu") == "fast" and pick_model("large", "cpu") == "large"
