"""Fixtures for the VapourSynth side: a small untrained model file (so the model path runs without
shipped weights) and hints."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from vscolorize.core.models import ColorUNet, ModelConfig, save_model

TINY = ModelConfig(name="tiny", widths=(4, 8, 8), depth=1, working_short_side=32)

HINTS = {
    "format": "vscolorize.hints",
    "version": 1,
    "keyframes": [
        {"frame": 1, "points": [{"x": 0.3, "y": 0.5, "ab": [40.0, 30.0], "radius": 0.1}]},
        {"frame": 3, "strokes": [{"path": [[0.1, 0.2], [0.8, 0.7]], "rgb": "#2050d0"}]},
    ],
}


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("model") / "tiny.safetensors"
    save_model(ColorUNet(TINY), path)
    return path
