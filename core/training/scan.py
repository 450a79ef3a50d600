"""What a worn print and its scan do to a black-and-white picture: exposure, grain, dust and dirt,
a scratch, the scanner's softness and the transfer's compression.

Each acts on one gray picture (float32 gray levels, display sRGB, in [0, 1]) and leaves its colors
to the truth: the network is to give the scene's colors whatever the print shows over them.
Strengths are those of worn 16 mm and 35 mm prints scanned at SD to HD, given at 480 lines;
``scale`` is the picture's lines over 480, and sizes in pixels scale with it.

- exposure: the shutter, the lamp and uneven development; restoration literature measures
  frame-to-frame changes of the mean of a few percent up to 10-15 % on silent-era prints: a gain
  of 1 + N(0, 0.06) (clipped to +-15 %) and an offset of N(0, 0.015) of full scale.
- grain: clumps of silver 1-3 px across at 480 lines, so white noise blurred by a Gaussian of
  sigma 0.8 px; RMS 5 % of full scale in the midtones for a grainy print, falling to a third of it
  in deep shadows and highlights (the density curve's toe and shoulder).
- dust: 5-25 specks, 1-6 px across (a few larger), 70 % dark (dirt on the print) and 30 % bright
  (dust on the negative, printed white), opaque with a soft edge, and a hair (a thin dark curve
  20-60 px long) one time in four.
- scratch: a bright vertical line 1-2 px wide, its strength varying along its length.
- blur: the scanner's optics and a print generations from its negative, a Gaussian of sigma
  0.3-1.2 px.
- compression: the transfer's JPEG or MPEG blocks, JPEG quality 15-75 on the 8-bit levels.

Training shows the network some of them in L (``TrainOptions.scan``, :func:`scanned`);
benchmarks/scan.py makes whole degraded films of the same pieces, with what ties frames together
(a scratch that wanders, weave, fades).
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

__all__ = [
    "SCAN_KINDS",
    "blur",
    "compress",
    "draw_scratch",
    "dust",
    "exposure",
    "grain",
    "scanned",
    "scratch_strength_along",
]

# in the order they act: the print's own, then the scan's, then the transfer's
SCAN_KINDS = ("exposure", "grain", "dust", "scratch", "blur", "compression")


def exposure(gray: np.ndarray, gain: float, offset: float) -> np.ndarray:
    """``gray`` printed or scanned with another exposure: ``gain`` times it plus ``offset``."""
    out: np.ndarray = gray * np.float32(gain) + np.float32(offset)
    return out


def grain(gray: np.ndarray, rng: np.random.Generator, scale: float, rms: float = 0.05) -> np.ndarray:
    """``gray`` with film grain of ``rms`` in the midtones (a third of it at black and white)."""
    noise: np.ndarray = cv2.GaussianBlur(
        rng.standard_normal(gray.shape).astype(np.float32), (0, 0), 0.8 * scale
    )
    noise = noise / noise.std()
    level = np.clip(gray, 0, 1)
    strength = rms * (1 / 3 + 2 / 3 * 4 * level * (1 - level))
    out: np.ndarray = gray + strength * noise
    return out


def dust(gray: np.ndarray, rng: np.random.Generator, scale: float) -> np.ndarray:
    """``gray`` with specks of dust and dirt, and maybe a hair, over it."""
    h, w = gray.shape
    cover = np.zeros((h, w), np.float32)  # how opaque the dirt is
    value = np.zeros((h, w), np.float32)  # what it shows
    for _ in range(int(rng.integers(5, 26))):
        size = float(np.exp(rng.uniform(np.log(1), np.log(6)))) * scale
        if rng.random() < 0.05:
            size *= 2.5  # a few large flecks
        center = (int(rng.integers(0, w)), int(rng.integers(0, h)))
        axes = (max(1, round(size / 2)), max(1, round(size / 2 * rng.uniform(0.5, 1))))
        speck = np.zeros((h, w), np.float32)
        cv2.ellipse(speck, center, axes, float(rng.uniform(0, 180)), 0, 360, 1.0, -1, cv2.LINE_AA)
        shade = rng.uniform(0.02, 0.12) if rng.random() < 0.7 else rng.uniform(0.85, 0.98)
        value = np.where(speck > cover, np.float32(shade), value)
        cover = np.maximum(cover, speck)
    if rng.random() < 0.25:  # a hair
        start = np.array([rng.uniform(0, w), rng.uniform(0, h)])
        angle, length = rng.uniform(0, 2 * np.pi), rng.uniform(20, 60) * scale
        bend = rng.uniform(-0.05, 0.05)
        points = []
        for t in np.linspace(0, 1, 12):
            a = angle + bend * t * length / scale
            start = start + length / 12 * np.array([np.cos(a), np.sin(a)])
            points.append(start.copy())
        hair = np.zeros((h, w), np.float32)
        cv2.polylines(hair, [np.round(np.array(points)).astype(np.int32)], False, 1.0, 1, cv2.LINE_AA)
        value = np.where(hair > cover, np.float32(0.05), value)
        cover = np.maximum(cover, hair)
    soft: np.ndarray = cv2.GaussianBlur(cover, (0, 0), 0.5 * scale)
    out: np.ndarray = gray * (1 - soft) + soft * value
    return out


def draw_scratch(gray: np.ndarray, x: float, width: float, along: np.ndarray, strength: float) -> np.ndarray:
    """``gray`` with a bright vertical scratch centered on column ``x``, ``width`` px wide,
    ``strength`` times ``along`` (one factor per row) of the way to white."""
    columns = np.arange(gray.shape[1], dtype=np.float32)
    profile = np.exp(-(((columns - x) / (width / 2)) ** 2)).astype(np.float32)
    line = strength * along[:, None].astype(np.float32) * profile[None, :]
    out: np.ndarray = gray + line * (1 - gray)  # brighter, never past white
    return out


def scratch_strength_along(height: int, rng: np.random.Generator) -> np.ndarray:
    """A scratch's strength down the picture: slowly varying, sometimes faint, (height,)."""
    phase = np.linspace(0, rng.uniform(2, 6), height) + rng.uniform(0, 6)
    along: np.ndarray = np.clip(0.6 + 0.4 * np.sin(phase), 0.2, 1)
    return along


def blur(gray: np.ndarray, sigma: float) -> np.ndarray:
    """``gray`` through a Gaussian of ``sigma`` px."""
    out: np.ndarray = cv2.GaussianBlur(gray, (0, 0), sigma, borderType=cv2.BORDER_REFLECT)
    return out


def compress(gray: np.ndarray, quality: int) -> np.ndarray:
    """``gray`` through JPEG at ``quality`` (its 8-bit levels, as a transfer stores them)."""
    levels = np.clip(gray * 255 + 0.5, 0, 255).astype(np.uint8)
    ok, data = cv2.imencode(".jpg", levels, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise RuntimeError("OpenCV could not encode a JPEG")
    decoded = cv2.imdecode(data, cv2.IMREAD_GRAYSCALE)
    if decoded is None:
        raise RuntimeError("OpenCV could not decode the JPEG it encoded")
    out: np.ndarray = decoded.astype(np.float32) / 255
    return out


def scanned(
    gray: np.ndarray,
    rng: np.random.Generator,
    scale: float,
    kinds: Sequence[str] = SCAN_KINDS,
    chance: float = 0.5,
) -> np.ndarray:
    """``gray`` (H, W) as one scanned print might show it: each of ``kinds`` (in the order of
    :data:`SCAN_KINDS`) with probability ``chance``, at a strength drawn for it; float32 in
    [0, 1]."""
    unknown = set(kinds) - set(SCAN_KINDS)
    if unknown:
        raise ValueError(f"unknown scan degradations {sorted(unknown)}; known: {SCAN_KINDS}")
    out = np.asarray(gray, np.float32)
    for kind in SCAN_KINDS:
        if kind not in kinds or rng.random() >= chance:
            continue
        if kind == "exposure":
            gain = 1 + float(np.clip(rng.normal(0, 0.06), -0.15, 0.15))
            out = exposure(out, gain, rng.normal(0, 0.015))
        elif kind == "grain":
            out = grain(out, rng, scale, rms=rng.uniform(0.01, 0.06))
        elif kind == "dust":
            out = dust(out, rng, scale)
        elif kind == "scratch":
            h, w = out.shape
            along = scratch_strength_along(h, rng)
            x = rng.uniform(0.05, 0.95) * w
            out = draw_scratch(out, x, rng.uniform(1, 2) * scale, along, rng.uniform(0.25, 0.4))
        elif kind == "blur":
            out = blur(out, rng.uniform(0.3, 1.2) * scale)
        else:
            out = compress(np.clip(out, 0, 1), int(rng.integers(15, 76)))
    return np.clip(out, 0, 1).astype(np.float32, copy=False)
