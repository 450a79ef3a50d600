"""Training pictures and the samples made from them: pictures and video frames from folders,
random crops and flips, colors rotated in hue, the L of other gray conversions and of worn prints'
scans, and the batches the training loop takes."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import torch

from ..color import AB_SCALE, gray_to_l, l_to_gray, srgb_to_lab
from ..errors import ImageError
from ..images import PICTURE_SUFFIXES
from .options import TrainOptions
from .scan import scanned
from .simulate import hint_count, simulate_hints

__all__ = ["VIDEO_SUFFIXES", "batches", "load_pictures", "make_batch"]

VIDEO_SUFFIXES = {".avi", ".mp4", ".mkv", ".mov", ".webm", ".m4v"}
_FRAMES_PER_VIDEO = 40
_FILM_SHARE = 0.15  # of samples whose L comes from another gray conversion, tone curve and grain
# a scan's degradations are given at 480 lines; the network sees a 480-line frame at its working
# short side (256), a 1080-line one smaller still: at a crop of 256 they take this range of scales
_SCAN_SCALES = (0.25, 0.6)


def load_pictures(images: Path | None, videos: Path | None = None) -> list[np.ndarray]:
    """Color pictures under ``images`` and frames sampled from videos under ``videos``, RGB uint8.

    Raises:
        ImageError: a folder is missing or holds nothing usable.
    """
    pictures: list[np.ndarray] = []
    for folder, suffixes in ((images, PICTURE_SUFFIXES), (videos, VIDEO_SUFFIXES)):
        if folder is None:
            continue
        if not folder.is_dir():
            raise ImageError(f"{folder}: no such folder")
        for path in sorted(p for p in folder.rglob("*") if p.suffix.lower() in suffixes):
            if suffixes is PICTURE_SUFFIXES:
                bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
                if bgr is not None:
                    pictures.append(np.ascontiguousarray(bgr[..., ::-1]))
            else:
                pictures += _video_frames(path)
    if not pictures:
        raise ImageError(f"{images or videos}: holds no pictures or videos to train on")
    return pictures


def _video_frames(path: Path) -> list[np.ndarray]:
    capture = cv2.VideoCapture(str(path))
    total = int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) or _FRAMES_PER_VIDEO
    wanted = set(np.linspace(0, total - 1, min(total, _FRAMES_PER_VIDEO)).astype(int).tolist())
    frames, index = [], 0
    while True:
        ok, bgr = capture.read()
        if not ok:
            break
        if index in wanted:
            frames.append(np.ascontiguousarray(bgr[..., ::-1]))
        index += 1
    capture.release()
    return frames


def _crop(
    picture: np.ndarray, size: int, rng: np.random.Generator, smallest: float = TrainOptions.smallest_crop
) -> np.ndarray:
    """A random square crop of ``smallest``-100 % of the short side, resized to ``size``, maybe
    flipped."""
    h, w = picture.shape[:2]
    side = max(int(min(h, w) * rng.uniform(smallest, 1.0)), 8)
    y, x = rng.integers(0, h - side + 1), rng.integers(0, w - side + 1)
    crop = cv2.resize(picture[y : y + side, x : x + side], (size, size), interpolation=cv2.INTER_AREA)
    return crop[:, ::-1] if rng.random() < 0.5 else crop


def _augment_colors(
    lab: torch.Tensor, counts: list[int], share: float, rng: np.random.Generator
) -> torch.Tensor:
    """Rotate the hue and scale the chroma of the ground truth of a ``share`` of the pictures with
    hints (before their hints are made from it): there the hints, not what the picture shows,
    say the colors, which teaches propagation without false priors; a picture without hints
    keeps its colors, the priors it teaches are true."""
    ab = lab[:, 1:].clone()
    for i in range(len(lab)):
        if counts[i] > 0 and rng.random() < share:
            angle, scale = rng.uniform(-math.pi, math.pi), rng.uniform(0.6, 1.3)
            c, s = math.cos(angle) * scale, math.sin(angle) * scale
            a, b = ab[i, 0].clone(), ab[i, 1].clone()
            ab[i, 0], ab[i, 1] = c * a - s * b, s * a + c * b
    return torch.cat([lab[:, :1], ab.clamp(-AB_SCALE, AB_SCALE)], 1)


def _film_lightness(rgb: torch.Tensor, lab: torch.Tensor, rng: np.random.Generator) -> torch.Tensor:
    """The L the network sees: for some pictures from another gray conversion (film stocks see
    red, green and blue in other proportions), through a tone curve, with grain."""
    out = lab[:, :1].clone()
    for i in range(len(rgb)):
        if rng.random() < _FILM_SHARE:
            weights = torch.from_numpy(rng.dirichlet([3.0, 6.0, 1.5]).astype(np.float32))
            gray = (rgb[i] * weights.to(rgb.device)[:, None, None]).sum(0, keepdim=True)
            lightness = srgb_to_lab(gray.expand(3, -1, -1)[None])[0, :1]
            lightness = 100 * (lightness / 100).clamp(0, 1) ** rng.uniform(0.8, 1.25)
            grain = torch.randn_like(lightness) * rng.uniform(0, 3)
            out[i] = (lightness + grain).clamp(0, 100)
    return out


def _scanned_lightness(
    lightness: torch.Tensor, share: float, crop: int, rng: np.random.Generator
) -> torch.Tensor:
    """The L of a ``share`` of the samples as a worn print's scan shows it (exposure, grain, dust,
    a scratch, blur, compression: each in half of them, see :mod:`.scan`); the truth keeps the
    scene's colors and L."""
    out = lightness.clone()
    for i in range(len(lightness)):
        if rng.random() < share:
            l = lightness[i, 0].cpu().numpy()
            scale = rng.uniform(*_SCAN_SCALES) * crop / 256
            worn = gray_to_l(scanned(l_to_gray(l), rng, scale))
            out[i, 0] = torch.from_numpy(worn).to(out.device, out.dtype)
    return out


def make_batch(
    pictures: list[np.ndarray], options: TrainOptions, rng: np.random.Generator, device: str
) -> tuple[torch.Tensor, ...]:
    """One training batch on ``device``: L as the network sees it (B, 1, H, W), hint a*b*
    (B, 2, H, W), mask (B, 1, H, W) and the ground truth L*a*b* (B, 3, H, W)."""
    crops = np.stack(
        [
            _crop(pictures[rng.integers(len(pictures))], options.crop, rng, options.smallest_crop)
            for _ in range(options.batch)
        ]
    )
    rgb = torch.from_numpy(crops).to(device).permute(0, 3, 1, 2).float() / 255
    counts = [hint_count(rng, options.no_hints, options.most_hints) for _ in range(options.batch)]
    lab = _augment_colors(srgb_to_lab(rgb), counts, options.recolor, rng)
    ab, lightness = lab[:, 1:].cpu().numpy(), lab[:, 0].cpu().numpy()
    hints = [simulate_hints(ab[i], lightness[i], rng, counts[i]) for i in range(options.batch)]
    ab_hint = torch.from_numpy(np.stack([h for h, _ in hints])).to(device)
    mask = torch.from_numpy(np.stack([m for _, m in hints])).to(device)
    lightness_seen = _film_lightness(rgb, lab, rng)
    if options.scan > 0:
        lightness_seen = _scanned_lightness(lightness_seen, options.scan, options.crop, rng)
    return lightness_seen, ab_hint, mask, lab


def batches(
    pictures: list[np.ndarray], options: TrainOptions, rng: np.random.Generator, device: str
) -> Iterator[tuple[torch.Tensor, ...]]:
    """:func:`make_batch` without end."""
    while True:
        yield make_batch(pictures, options, rng, device)
