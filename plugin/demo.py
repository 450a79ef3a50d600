"""``vscolorize demo``: the main job on the embedded default.

It colorizes scikit-image's astronaut picture, turned gray, with the bundled sample hints, and
writes the gray input, the result and a side-by-side strip (gray | hints | result | original).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path

import numpy as np

from vscolorize.core.color import lab_to_srgb, srgb_to_lab
from vscolorize.core.engine import colorize_image
from vscolorize.core.hints import Hints, load_hints, rasterize
from vscolorize.core.images import write_image

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


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    return float(10 * np.log10(1 / max(np.mean((a - b) ** 2), 1e-12)))


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
    """What the demo made and measured."""

    files: dict[str, Path]
    width: int
    height: int
    hints: int
    seconds: float
    psnr: float
    gray_psnr: float

    def summary(self) -> str:
        lines = [
            f"vscolorize demo: colorized {self.width}x{self.height} from {self.hints} hints "
            f"in {self.seconds:.2f} s",
            f"  PSNR against the original: {self.psnr:.2f} dB (gray: {self.gray_psnr:.2f} dB)",
        ]
        lines += [f"  {role:6s} {path}" for role, path in self.files.items()]
        return "\n".join(lines)


def run_demo(output: str | os.PathLike[str], *, device: str | None = None) -> DemoResult:
    """Run the demo, writing its pictures into the folder ``output`` (created)."""
    folder = Path(output)
    folder.mkdir(parents=True, exist_ok=True)
    original = sample_picture()
    hints = sample_hints()
    lightness = srgb_to_lab(original)[..., :1]
    gray = lab_to_srgb(np.concatenate([lightness, np.zeros_like(lightness).repeat(2, -1)], -1))

    start = time.perf_counter()
    result = colorize_image(gray, hints, method="optimization", device=device)
    seconds = time.perf_counter() - start

    strip = np.concatenate([gray, _hints_view(gray, hints), result, original], axis=1)
    files = {
        "gray": folder / "astronaut-gray.png",
        "result": folder / "astronaut-colorized.png",
        "strip": folder / "astronaut-strip.png",
    }
    write_image(files["gray"], gray)
    write_image(files["result"], result)
    write_image(files["strip"], strip)
    keyframe = hints.keyframe(0)
    return DemoResult(
        files=files,
        width=gray.shape[1],
        height=gray.shape[0],
        hints=len(keyframe.points) + len(keyframe.strokes) if keyframe else 0,
        seconds=seconds,
        psnr=_psnr(result, original),
        gray_psnr=_psnr(gray, original),
    )
