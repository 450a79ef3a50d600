"""One Settings, one per-frame path: the node, ``render``, ``colorize_image`` and the paint window's
preview give the same bits for the same settings."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import vapoursynth as vs

from vscolorize.core import colorize_image
from vscolorize.core.engines.learned import installed_models
from vscolorize.core.errors import SettingError
from vscolorize.core.hints import Keyframe, load_hints, parse_hints
from vscolorize.core.images import image_lightness
from vscolorize.core.pipeline import FramePipeline, Settings
from vscolorize.node import colorize_with
from vscolorize.render import encoder_input, render
from vscolorize.sources import open_video

from .conftest import HINTS

core = vs.core
ONE_FRAME_HINTS = {**HINTS, "keyframes": [{**HINTS["keyframes"][0], "frame": 0}]}  # type: ignore[index, dict-item]
METHODS = ["optimization", *(["model"] if "fast" in installed_models() else [])]


def picture(height: int = 72, width: int = 112) -> np.ndarray:
    """An 8-bit gray picture with edges and texture: (H, W) uint8."""
    rng = np.random.default_rng(5)
    y, x = np.mgrid[:height, :width]
    values = 60 + 80 * (x > width // 3) + 40 * np.sin(y / 7.0) + rng.normal(0, 6, (height, width))
    return np.clip(values, 0, 255).astype(np.uint8)


def gray_clip(pixels: np.ndarray) -> vs.VideoNode:
    height, width = pixels.shape
    blank = core.std.BlankClip(width=width, height=height, format=vs.GRAY8, length=1, keep=True)

    def fill(n: int, f: vs.VideoFrame) -> vs.VideoFrame:
        out = f.copy()
        np.copyto(np.asarray(out[0]), pixels)
        out.props["_Range"] = vs.ColorRange.RANGE_FULL
        return out

    return blank.std.ModifyFrame(clips=blank, selector=fill)


def planes(frame: vs.VideoFrame) -> np.ndarray:
    return np.stack([np.asarray(frame[i]) for i in range(3)], axis=-1)


def preview_of(settings: Settings, lightness: np.ndarray, keyframe: Keyframe | None) -> np.ndarray:
    """What the paint window shows: its preview task run on the frame, its report caught."""
    from vscolorize.ui.jobs import PreviewJob, PreviewTask, Reports

    shown: list[np.ndarray] = []
    reports = Reports()
    reports.previewed.connect(lambda generation, frame, draft, rgb, seconds: shown.append(rgb))
    PreviewTask(PreviewJob(1, 0, keyframe, lightness, draft=False), FramePipeline(settings), reports).run()
    (rgb,) = shown
    return rgb


@pytest.mark.parametrize("method", METHODS)
def test_node_colorize_image_and_preview_give_the_same_bits(method: str, qapp: object) -> None:
    pixels = picture()
    settings = Settings(method=method)
    node = planes(colorize_with(gray_clip(pixels), ONE_FRAME_HINTS, settings).get_frame(0))
    image = colorize_image(pixels, ONE_FRAME_HINTS, settings=settings)
    preview = preview_of(settings, image_lightness(pixels), parse_hints(ONE_FRAME_HINTS).keyframe(0))
    assert node.dtype == image.dtype == preview.dtype == np.float32
    np.testing.assert_array_equal(node, image)
    np.testing.assert_array_equal(preview, image)


def test_render_encodes_the_nodes_frames(film: Path, tmp_path: Path) -> None:
    hints = tmp_path / "film.hints.json"
    hints.write_text(json.dumps(HINTS))
    settings = Settings(method="optimization", temporal=2)
    out = tmp_path / "film.mkv"
    render(film, out, hints=hints, settings=settings, codec="ffv1")
    expected = encoder_input(colorize_with(open_video(film), load_hints(hints), settings), "ffv1")
    written = open_video(out)
    assert written.num_frames == expected.num_frames == 12
    for n in (0, 5, 11):  # FFV1 is lossless: the node's frames, bit for bit
        np.testing.assert_array_equal(planes(written.get_frame(n)), planes(expected.get_frame(n)))


def test_settings_are_checked_once_with_one_line_errors() -> None:
    assert Settings().replace(temporal=0).temporal == 0
    assert Settings(postprocess=["segment_fill"]).postprocess == ("segment_fill",)  # type: ignore[arg-type]
    with pytest.raises(
        SettingError, match=r"^temporal must be a whole number of frames in \[0, 16\], not 17$"
    ):
        Settings(temporal=17)
    with pytest.raises(SettingError, match=r"^ensemble=2 needs method=.model.$"):
        Settings(method="optimization", ensemble=2)
    with pytest.raises(SettingError, match=r"^method must be one of"):
        Settings().replace(method="paint-by-numbers")


def test_settings_from_keywords_name_an_unknown_one() -> None:
    assert Settings.of(method="optimization", temporal=3) == Settings(method="optimization", temporal=3)
    with pytest.raises(SettingError, match=r"^unknown setting 'colour' \(known: method, model,"):
        Settings.of(colour="red")
