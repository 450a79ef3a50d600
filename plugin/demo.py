"""``vscolorize demo``: the main job on the embedded default.

It colorizes scikit-image's astronaut picture, turned gray, with the bundled sample hints (with the
learned model when installed, and with the classical engine), and writes the gray input, each
result and a side-by-side strip (gray | hints | results | original).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path

import numpy as np

from vscolorize.core.color import lab_to_srgb, srgb_to_lab
from vscolorize.core.engine import Method, colorize_image
from vscolorize.core.hints import Hints, load_hints, rasterize
from vscolorize.core.images import write_image
from vscolorize.core.inference import installed_models
from vscolorize.core.metrics import psnr

__all__ = ["SAMPLE_HINTS", "DemoResult", "run_demo", "sample_hints", "sample_picture"]

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


def _hints_view(gray: np.ndarray, hints: Hints) -> np.ndarray:
    """The gray picture with the hints painted in (enlarged to be seen), at its own lightness."""
    lab = srgb_to_lab(gray)
    keyframe = hints.keyframe(0)
    if keyframe is not None:
        short = min(gray.shape[:2])
        bigger = tuple(
            replace(p, radius=max(p.radius, _SHOWN_RADIUS / short)) for p in keyframe.points
        )
        keyframe = replace(keyframe, points=bigger)
    ab, mask = rasterize(keyframe, *gray.shape[:2])
    lab[..., 1:] = np.where(mask[..., None], ab, 0)
    return lab_to_srgb(lab)


@dataclass(frozen=True)
class DemoResult:
    """What the demo made and measured: per method, (seconds, PSNR against the original)."""

    files: dict[str, Path]
    width: int
    height: int
    hints: int
    scores: dict[str, tuple[float, float]]
    gray_psnr: float

    def summary(self) -> str:
        lines = [f"vscolorize demo: {self.width}x{self.height} picture, {self.hints} hints"]
        lines += [
            f"  {method:12s} {seconds:6.2f} s   PSNR {psnr:5.2f} dB"
            for method, (seconds, psnr) in self.scores.items()
        ]
        lines.append(f"  {'gray':12s} {'':8s}   PSNR {self.gray_psnr:5.2f} dB")
        lines += [f"  {role:12s} {path}" for role, path in self.files.items()]
        return "\n".join(lines)


def run_demo(output: str | os.PathLike[str], *, device: str | None = None) -> DemoResult:
    """Run the demo, writing its pictures into the folder ``output`` (created).

    It colorizes with the learned model when one is installed and with the classical engine.
    """
    folder = Path(output)
    folder.mkdir(parents=True, exist_ok=True)
    original = sample_picture()
    hints = sample_hints()
    lightness = srgb_to_lab(original)[..., :1]
    gray = lab_to_srgb(np.concatenate([lightness, np.zeros_like(lightness).repeat(2, -1)], -1))
    methods: tuple[Method, ...] = (
        ("model", "optimization") if installed_models() else ("optimization",)
    )
    files = {"gray": folder / "astronaut-gray.png"}
    write_image(files["gray"], gray)
    results: list[np.ndarray] = []
    scores: dict[str, tuple[float, float]] = {}
    for method in methods:
        colorize_image(gray[:64, :64], hints, method=method, device=device)  # warm-up
        start = time.perf_counter()
        result = colorize_image(gray, hints, method=method, device=device)
        scores[method] = (time.perf_counter() - start, psnr(result, original))
        files[method] = folder / f"astronaut-{method}.png"
        write_image(files[method], result)
        results.append(result)
    files["strip"] = folder / "astronaut-strip.png"
    write_image(
        files["strip"], np.concatenate([gray, _hints_view(gray, hints), *results, original], 1)
    )
    keyframe = hints.keyframe(0)
    return DemoResult(
        files=files,
        width=gray.shape[1],
        height=gray.shape[0],
        hints=len(keyframe.points) + len(keyframe.strokes) if keyframe else 0,
        scores=scores,
        gray_psnr=psnr(gray, original),
    )
