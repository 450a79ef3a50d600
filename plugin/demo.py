"""``vscolorize demo``: the main job on the embedded default.

Video: a grayscale clip made from scikit-image's astronaut picture (a slow pan and zoom, see
:func:`sample_clip`), colorized by the VapourSynth node from the bundled sample hints on its first
frame (propagation carries them through the clip), rendered to H.264, plus a strip of three frames
(gray | colorized | original). Picture: the astronaut itself, turned gray, colorized from the same
hints (with the learned model when installed, and with the classical engine), written as gray
input, each result and a strip (gray | hints | results | original).
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path

import cv2
import numpy as np
import vapoursynth as vs

from vscolorize.core.color import lab_to_srgb, srgb_to_lab
from vscolorize.core.engines.learned import installed_models
from vscolorize.core.hints import Hints, Keyframe, load_hints, rasterize
from vscolorize.core.images import image_lightness, write_image
from vscolorize.core.metrics import psnr
from vscolorize.core.pipeline import FramePipeline, Settings

from .render import Progress

__all__ = [
    "SAMPLE_HINTS",
    "DemoResult",
    "VideoResult",
    "run_demo",
    "sample_clip",
    "sample_hints",
    "sample_picture",
]

SAMPLE_HINTS = "astronaut.hints.json"
_SHOWN_RADIUS = 6  # pixels: hints are drawn at least this big in the strip


def sample_picture() -> np.ndarray:
    """The demo picture: scikit-image's astronaut, (512, 512, 3) float32 sRGB in [0, 1]."""
    import skimage.data

    return skimage.data.astronaut().astype(np.float32) / 255


def sample_hints() -> Hints:
    """The bundled hints for :func:`sample_picture`."""
    with resources.as_file(resources.files("vscolorize") / "data" / SAMPLE_HINTS) as path:
        return load_hints(path)


@dataclass(frozen=True)
class _Camera:
    """A slow pan and zoom over a square picture, as a film camera would move over a still."""

    picture: int  # side of the (square) picture in pixels
    width: int
    height: int
    frames: int
    zoom: tuple[float, float] = (1.0, 1.25)  # at the first and the last frame
    center: tuple[tuple[float, float], tuple[float, float]] = ((0.42, 0.42), (0.5, 0.5))

    def matrix(self, n: int) -> np.ndarray:
        """The 2x3 affine map from picture pixels to frame ``n``'s pixels (centers at +0.5)."""
        t = n / max(self.frames - 1, 1)
        t = t * t * (3 - 2 * t)  # ease in and out
        zoom = self.zoom[0] + (self.zoom[1] - self.zoom[0]) * t
        cx, cy = (a + (b - a) * t for a, b in zip(*self.center, strict=True))
        scale = zoom * self.width / self.picture
        return np.array(
            [
                [scale, 0, self.width / 2 - scale * cx * self.picture],
                [0, scale, self.height / 2 - scale * cy * self.picture],
            ]
        )

    def hints(self, hints: Hints, frames: Sequence[int]) -> Hints:
        """The picture's frame-0 hints mapped into ``frames`` of the clip, a keyframe each."""
        source = hints.keyframe(0)
        if source is None:
            return hints
        keyframes = []
        for n in frames:
            m = self.matrix(n)
            points = []
            for p in source.points:
                x = (m[0, 0] * p.x * self.picture + m[0, 2]) / self.width
                y = (m[1, 1] * p.y * self.picture + m[1, 2]) / self.height
                if 0 <= x <= 1 and 0 <= y <= 1:
                    radius = p.radius * self.picture * m[0, 0] / min(self.width, self.height)
                    points.append(replace(p, x=x, y=y, radius=min(radius, 0.5)))
            keyframes.append(Keyframe(frame=n, points=tuple(points)))
        return Hints(keyframes=tuple(keyframes))


def sample_clip(
    frames: int = 48, width: int = 480, height: int = 272
) -> tuple[vs.VideoNode, vs.VideoNode, Hints]:
    """The demo clip: a slow pan and zoom over the astronaut, 24 fps.

    Returns:
        ``(gray, original, hints)``: the GRAY8 clip to colorize (full range), the RGB24 original
        it was made from, and the bundled astronaut hints mapped into its first frame: the one
        keyframe, which propagation carries through the clip.
    """
    picture = sample_picture()
    lightness = srgb_to_lab(picture)[..., :1]
    gray_picture = lab_to_srgb(
        np.concatenate([lightness, np.zeros_like(lightness), np.zeros_like(lightness)], -1)
    )
    camera = _Camera(picture.shape[0], width, height, frames)
    core = vs.core

    def warp(image: np.ndarray, n: int) -> np.ndarray:
        return cv2.warpAffine(
            image, camera.matrix(n), (width, height), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT
        )

    def make(fmt: int, image: np.ndarray) -> vs.VideoNode:
        blank = core.std.BlankClip(
            width=width, height=height, format=fmt, length=frames, fpsnum=24, fpsden=1, keep=True
        )
        as_bytes = np.round(image * 255).clip(0, 255).astype(np.uint8)

        def frame(n: int, f: vs.VideoFrame) -> vs.VideoFrame:
            out = f.copy()
            warped = warp(as_bytes, n).reshape(height, width, -1)
            for plane in range(out.format.num_planes):
                np.copyto(np.asarray(out[plane]), warped[..., plane])
            out.props["_Range"] = vs.ColorRange.RANGE_FULL
            return out

        return blank.std.ModifyFrame(clips=blank, selector=frame)

    gray = make(vs.GRAY8, gray_picture[..., 0])
    original = make(vs.RGB24, picture)
    return gray, original, camera.hints(sample_hints(), (0,))


def _hints_view(gray: np.ndarray, hints: Hints) -> np.ndarray:
    """The gray picture with the hints painted in (enlarged to be seen), at its own lightness."""
    lab = srgb_to_lab(gray)
    keyframe = hints.keyframe(0)
    if keyframe is not None:
        short = min(gray.shape[:2])
        bigger = tuple(replace(p, radius=max(p.radius, _SHOWN_RADIUS / short)) for p in keyframe.points)
        keyframe = replace(keyframe, points=bigger)
    ab, mask = rasterize(keyframe, *gray.shape[:2])
    lab[..., 1:] = np.where(mask[..., None], ab, 0)
    return lab_to_srgb(lab)


@dataclass(frozen=True)
class VideoResult:
    """The demo clip's render: its size, speed and PSNR on the strip's frames."""

    frames: int
    width: int
    height: int
    method: str
    fps: float
    psnr: float
    gray_psnr: float


@dataclass(frozen=True)
class DemoResult:
    """What the demo made and measured: per method, (seconds, PSNR against the original)."""

    files: dict[str, Path]
    width: int
    height: int
    hints: int
    scores: dict[str, tuple[float, float]]
    gray_psnr: float
    video: VideoResult | None = None

    def summary(self) -> str:
        lines = []
        if self.video:
            v = self.video
            lines += [
                f"vscolorize demo: {v.frames}-frame {v.width}x{v.height} clip, method {v.method}: "
                f"{v.fps:.1f} fps rendered, PSNR {v.psnr:.2f} dB (gray {v.gray_psnr:.2f} dB)"
            ]
        lines += [f"vscolorize demo: {self.width}x{self.height} picture, {self.hints} hints"]
        lines += [
            f"  {method:12s} {seconds:6.2f} s   PSNR {psnr:5.2f} dB"
            for method, (seconds, psnr) in self.scores.items()
        ]
        lines.append(f"  {'gray':12s} {'':8s}   PSNR {self.gray_psnr:5.2f} dB")
        lines += [f"  {role:12s} {path}" for role, path in self.files.items()]
        return "\n".join(lines)


def _rgb(frame: vs.VideoFrame) -> np.ndarray:
    """A frame as (H, W, 3) float32 in [0, 1] (GRAY repeated; integers scaled by their maximum)."""
    planes = [np.asarray(frame[i]) for i in range(frame.format.num_planes)]
    image = np.stack(planes * (3 // len(planes)), axis=-1).astype(np.float32)
    if frame.format.sample_type == vs.INTEGER:
        image /= (1 << frame.format.bits_per_sample) - 1
    return image


def _run_video(
    folder: Path, settings: Settings, progress: Progress | None
) -> tuple[dict[str, Path], VideoResult]:
    from .node import colorize_with
    from .render import encode

    gray, original, hints = sample_clip()
    colored = colorize_with(gray, hints, settings)
    files = {"clip": folder / "astronaut-pan.mp4", "clip strip": folder / "astronaut-pan-strip.png"}
    result = encode(colored, files["clip"], force=True, progress=progress)
    shown = (0, gray.num_frames // 2, gray.num_frames - 1)
    rows = [[_rgb(c.get_frame(n)) for c in (gray, colored, original)] for n in shown]
    write_image(files["clip strip"], np.concatenate([np.concatenate(r, 1) for r in rows], 0))
    return files, VideoResult(
        frames=result.frames,
        width=gray.width,
        height=gray.height,
        method=settings.method,
        fps=result.fps,
        psnr=float(np.mean([psnr(colored_, original_) for _, colored_, original_ in rows])),
        gray_psnr=float(np.mean([psnr(gray_, original_) for gray_, _, original_ in rows])),
    )


def run_demo(
    output: str | os.PathLike[str],
    *,
    settings: Settings | None = None,
    video: bool = True,
    progress: Progress | None = None,
) -> DemoResult:
    """Run the demo, writing its files into the folder ``output`` (created).

    The clip is colorized with ``settings`` (default: :class:`Settings`' defaults); the picture
    with the same settings under every method installed.
    """
    settings = settings if settings is not None else Settings()
    folder = Path(output)
    folder.mkdir(parents=True, exist_ok=True)
    methods: tuple[str, ...] = ("model", "optimization") if installed_models() else ("optimization",)
    files: dict[str, Path] = {}
    clip = None
    if video:
        clip_files, clip = _run_video(folder, settings, progress)
        files.update(clip_files)
    original = sample_picture()
    hints = sample_hints()
    lightness = srgb_to_lab(original)[..., :1]
    gray = lab_to_srgb(np.concatenate([lightness, np.zeros_like(lightness).repeat(2, -1)], -1))
    files["gray"] = folder / "astronaut-gray.png"
    write_image(files["gray"], gray)
    results: list[np.ndarray] = []
    scores: dict[str, tuple[float, float]] = {}
    shade, keyframe = image_lightness(gray), hints.keyframe(0)
    for method in methods:
        pipeline = FramePipeline(settings.replace(method=method))
        pipeline.rgb(shade[:64, :64], keyframe)  # warm-up
        start = time.perf_counter()
        result = pipeline.rgb(shade, keyframe)
        scores[method] = (time.perf_counter() - start, psnr(result, original))
        files[method] = folder / f"astronaut-{method}.png"
        write_image(files[method], result)
        results.append(result)
    files["strip"] = folder / "astronaut-strip.png"
    write_image(files["strip"], np.concatenate([gray, _hints_view(gray, hints), *results, original], 1))
    return DemoResult(
        files=files,
        width=gray.shape[1],
        height=gray.shape[0],
        hints=len(keyframe.points) + len(keyframe.strokes) if keyframe else 0,
        scores=scores,
        gray_psnr=psnr(gray, original),
        video=clip,
    )
