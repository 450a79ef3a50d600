"""Shared test set-up: a deterministic hypothesis profile and the cuda marker's skip."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path

# Qt without a display (pytest-qt makes its QApplication after this)
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest
from hypothesis import HealthCheck, settings


@pytest.fixture(autouse=True)
def private_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The motion store of every test (and of the processes it starts) lives in a folder of the
    test's own, never in the user's cache."""
    folder = tmp_path_factory.mktemp("cache")
    monkeypatch.setenv("VSCOLORIZE_CACHE", str(folder))
    return folder


MakeVideo = Callable[..., Path]


def _make_video(path: Path, *options: str, size: str = "160x96") -> Path:
    import imageio_ffmpeg

    source = ["-f", "lavfi", "-i", f"testsrc2=size={size}:rate=12"]
    command = [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error", *source, *options]
    subprocess.run([*command, "-pix_fmt", "yuv420p", "-c:v", "libx264", str(path)], check=True)
    return path


@pytest.fixture(scope="session")
def make_video() -> MakeVideo:
    """``make_video(path, *options, size="160x96")``: an H.264 clip of FFmpeg's test pattern at
    12 fps, ``options`` (length, filters, audio...) given to ffmpeg before the output."""
    return _make_video


@pytest.fixture(scope="session")
def film(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 12-frame gray 160x96 H.264 clip with a sine tone."""
    path = tmp_path_factory.mktemp("film") / "film.mp4"
    sine = ["-f", "lavfi", "-i", "sine", "-t", "1", "-vf", "format=gray", "-c:a", "aac", "-shortest"]
    return _make_video(path, *sine)


settings.register_profile("ci", derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    import torch

    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA GPU")
    for item in items:
        if "cuda" in item.keywords:
            item.add_marker(skip)
