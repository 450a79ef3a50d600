"""Where the next hint pays most: places for an artist's next color hint on a picture.

A hint fixes the color of the region it lands in, as far as the engine carries it. So a place is
worth the color error it can still remove: the pixels of its region (a Felzenszwalb segment of
L*) that no hint reaches yet, each weighted by how far off its color may be in RGB. That weight
is how colorful a surface can be at the pixel's lightness (near-black and near-white pixels
cannot be far off) times how unsure the engine is there (its predictions, mirrored and at a
second scale, disagree). Within the best region the place is the interior point that collects
most of that weight within a hint's reach, so the hint's patch holds one color. Several places
are picked one after another, each counting those before it as hinted, so they spread out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache
from typing import Any

import cv2
import numpy as np
from scipy.spatial import cKDTree

from .color import lab_to_srgb
from .engines.members import SECOND_SCALE, Member
from .errors import HintError, SettingError, named
from .hints import HintsLike, Keyframe, rasterize, resolve_hints
from .images import image_lightness, scaled_size
from .pipeline import FramePipeline, Settings
from .postprocess import segment

__all__ = ["Ranking", "suggest_points"]


@dataclass(frozen=True)
class Ranking:
    """How places are ranked (the defaults were chosen on validation photos).

    Attributes:
        short_side: the size, in pixels, the maps are scored at (places are fractions, so this
            only limits their precision: 1/short_side of the picture).
        reach: how far one hint's color carries, as a share of the short side (a Gaussian's
            sigma): pixels that near a hint count as settled.
        segment_scale: Felzenszwalb's k on the small L* (bigger: larger regions).
        unsure: how much the engine's own disagreement adds to the weight of a pixel, per
            a*b* unit of spread, relative to the flat prior of ``prior`` a*b* units.
        prior: the a*b* error expected where nothing is known.
        members: the engine's views whose disagreement measures its doubt (one: none).
    """

    short_side: int = 128
    reach: float = 0.12
    segment_scale: float = 300.0
    unsure: float = 1.0
    prior: float = 15.0
    members: tuple[Member, ...] = (Member(0), Member(0, flip=True), Member(0, scale=SECOND_SCALE))
    colorful: bool = True
    segments: bool = True
    light: float | None = None
    texture: float = 5.0


RANKING = Ranking()
# how a sample hue circle is laid out for the colorfulness prior, and its chroma: a typical
# colorful surface's (the gamut caps it where lightness leaves less room)
_HUES = 12
_TYPICAL_CHROMA = 40.0
# a place must lie this many map pixels inside its region (or as deep as the region allows)
_MARGIN = 2.0
# hinted pixels whose looks count (a long stroke paints many), evenly drawn
_MOST_SOURCES = 512


def suggest_points(
    image: np.ndarray,
    hints: HintsLike | None = None,
    *,
    count: int = 1,
    settings: Settings | None = None,
    **keywords: Any,
) -> list[tuple[float, float]]:
    """Places where a hint of the true color would most improve the picture, best first.

    Args:
        image: (H, W) gray or (H, W, 3) sRGB, float in [0, 1]; a color picture is reduced to its
            L* first (its colors are never looked at).
        hints: the hints already painted: a path, a dict in the hints format, a :class:`Hints`,
            or None; the keyframe at frame 0 applies.
        count: how many places, each distinct and spread from the others.
        settings: the engine's settings as one object, in place of ``keywords``.
        keywords: :func:`colorize_image`'s settings (``method``, ``model``, ``device``, ...).

    Returns:
        ``count`` places ``(x, y)`` in hints-file coordinates (fractions of width and height;
        pixel column i has its center at ``(i + 0.5) / W``).

    Raises:
        ImageError, HintError, DeviceError, ModelUnavailableError, SettingError: bad input, in
            one line naming the parameter.
    """
    with named("suggest_points"):
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise SettingError(f"count must be a whole number >= 1, not {count!r}")
        if settings is not None and keywords:
            raise SettingError(f"give settings or keywords, not both ({', '.join(sorted(keywords))})")
        lightness = image_lightness(image)
        keyframe = _first_keyframe(resolve_hints(hints))
        pipeline = FramePipeline(settings if settings is not None else Settings.of(**keywords))
        return rank_places(pipeline, lightness, keyframe, count)


def _first_keyframe(hints: Any) -> Keyframe | None:
    if hints is None or not hints.keyframes:
        return None
    keyframe: Keyframe | None = hints.keyframe(0)
    if keyframe is None:
        frames = ", ".join(map(str, hints.frames[:5]))
        raise HintError(f"hints have no keyframe for frame 0 (they have {frames})")
    return keyframe


def rank_places(
    pipeline: FramePipeline,
    lightness: np.ndarray,
    keyframe: Keyframe | None,
    count: int,
    ranking: Ranking = RANKING,
) -> list[tuple[float, float]]:
    """:func:`suggest_points` on checked input: ``lightness`` (H, W) L* in [0, 100]."""
    height, width = lightness.shape
    h, w = scaled_size(height, width, ranking.short_side)
    small = cv2.resize(lightness, (w, h), interpolation=cv2.INTER_AREA)
    doubt = _doubt(pipeline, lightness, keyframe, (h, w), ranking)
    worth = (_colorfulness(small) ** 2 if ranking.colorful else 1) * (
        ranking.prior**2 + ranking.unsure * doubt**2
    )
    labels = segment(small, scale=ranking.segment_scale) if ranking.segments else np.zeros((h, w), np.int32)
    regions = int(labels.max()) + 1
    hinted = rasterize(keyframe, h, w)[1]
    sigma = ranking.reach * min(h, w)
    looks = _looks(small, sigma, ranking)
    places: list[tuple[int, int]] = []
    for _ in range(count):
        open_worth = worth * (_unreached(hinted, sigma) if looks is None else _unlike(hinted, looks))
        best = int(np.argmax(np.bincount(labels.ravel(), open_worth.ravel(), regions)))
        row, col = _place(labels == best, open_worth, sigma)
        if (row, col) in places or hinted[row, col]:  # nothing left to gain: spread out instead
            row, col = np.unravel_index(int(np.argmax(_unreached(hinted, sigma))), hinted.shape)
        places.append((int(row), int(col)))
        hinted = hinted.copy()
        hinted[row, col] = True
    return [((c + 0.5) / w, (r + 0.5) / h) for r, c in places]


def _doubt(
    pipeline: FramePipeline,
    lightness: np.ndarray,
    keyframe: Keyframe | None,
    size: tuple[int, int],
    ranking: Ranking,
) -> np.ndarray:
    """(h, w) how far the engine's views disagree, in a*b* units (0 for an engine with one view)."""
    views = pipeline.engine.predict(lightness, keyframe, ranking.members)
    if len(views) < 2:
        return np.zeros(size, np.float32)
    spread = np.sqrt(((views - views.mean(0)) ** 2).sum(-1).mean(0))
    return cv2.resize(spread, size[::-1], interpolation=cv2.INTER_AREA)


def _colorfulness(lightness: np.ndarray) -> np.ndarray:
    """How far (sRGB distance) a typical colorful surface lies from gray at each L*, looked up."""
    table = _colorfulness_table()
    index = np.clip(lightness, 0, 100).astype(np.float32)
    return np.interp(index, np.arange(len(table), dtype=np.float32), table).astype(np.float32)


@cache
def _colorfulness_table() -> np.ndarray:
    """Per whole L* 0..100: the mean sRGB distance from gray of colors of :data:`_TYPICAL_CHROMA`
    around the hue circle, each lowered into the gamut."""
    light = np.arange(101, dtype=np.float64)
    hue = np.linspace(0, 2 * math.pi, _HUES, endpoint=False)
    lab = np.zeros((101, _HUES, 3))
    lab[..., 0] = light[:, None]
    lab[..., 1] = _TYPICAL_CHROMA * np.cos(hue)
    lab[..., 2] = _TYPICAL_CHROMA * np.sin(hue)
    colored = lab_to_srgb(lab.astype(np.float32), gamut="chroma")
    gray = lab_to_srgb(np.stack([light, 0 * light, 0 * light], -1).astype(np.float32), gamut="chroma")
    return np.asarray(np.linalg.norm(colored - gray[:, None], axis=-1).mean(1), np.float32)


def _unreached(hinted: np.ndarray, sigma: float) -> np.ndarray:
    """(h, w) in [0, 1]: how little of any hint's color reaches each pixel (1: none)."""
    if not hinted.any():
        return np.ones(hinted.shape, np.float32)
    distance = cv2.distanceTransform((~hinted).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    return np.asarray(1 - np.exp(-0.5 * (distance / sigma) ** 2), np.float32)


def _looks(lightness: np.ndarray, sigma: float, ranking: Ranking) -> np.ndarray | None:
    """(h, w, 4) what each pixel looks like, scaled so that a unit apart is as far as a hint's
    color carries: place (by ``sigma``), lightness and texture (local spread of L*)."""
    if ranking.light is None:
        return None
    h, w = lightness.shape
    rows, cols = np.mgrid[0:h, 0:w].astype(np.float32) / sigma
    mean = cv2.GaussianBlur(lightness, (0, 0), 1.0)
    texture = np.sqrt(
        np.maximum(
            cv2.GaussianBlur(lightness**2, (0, 0), 2.0) - cv2.GaussianBlur(lightness, (0, 0), 2.0) ** 2, 0
        )
    )
    return np.stack([rows, cols, mean / ranking.light, texture / ranking.texture], -1)


def _unlike(hinted: np.ndarray, looks: np.ndarray) -> np.ndarray:
    """(h, w) in [0, 1]: how unlike every hinted pixel each pixel looks (1: unlike all)."""
    if not hinted.any():
        return np.ones(hinted.shape, np.float32)
    sources = looks[hinted]
    if len(sources) > _MOST_SOURCES:
        sources = sources[np.linspace(0, len(sources) - 1, _MOST_SOURCES).astype(int)]
    distance, _ = cKDTree(sources).query(looks.reshape(-1, looks.shape[-1]))
    return np.asarray(1 - np.exp(-0.5 * distance**2), np.float32).reshape(hinted.shape)


def _place(region: np.ndarray, worth: np.ndarray, sigma: float) -> tuple[int, int]:
    """The pixel of ``region`` that gathers most ``worth`` of the region within ``sigma``, kept
    off its edges (the picture's border is an edge)."""
    padded = np.pad(region, 1).astype(np.uint8)
    depth = cv2.distanceTransform(padded, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)[1:-1, 1:-1]
    inside = depth >= min(_MARGIN, float(depth.max()))
    gathered = cv2.GaussianBlur(worth * region, (0, 0), sigma, borderType=cv2.BORDER_CONSTANT)
    score = np.where(inside, gathered, -1.0)
    row, col = np.unravel_index(int(np.argmax(score)), score.shape)
    return int(row), int(col)
