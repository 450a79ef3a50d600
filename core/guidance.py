"""Where the next hint pays most: places for an artist's next color hint on a picture.

A hint settles the color of the pixels it reaches: those near it that look like it (the engines
carry a hint's color along similar lightness and stop at edges). So a place is worth the color
error it can still remove: the sum, over the pixels near it in place and in lightness, of how
far off each pixel's color may be in RGB, times how unlike every hinted pixel it looks. How far
off a color may be is how colorful a surface can be at the pixel's lightness (near-black and
near-white pixels cannot be far off) with more weight where the engine is unsure (its views of
the picture and of its mirror image disagree: on the textured objects it has no idea about,
where a flat background is safe). The place is kept off edges, so the hint's patch holds one color.
Several places are picked one after another, each counting those before it as hinted.
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
from .engines.members import Member
from .errors import HintError, SettingError, named
from .hints import HintsLike, Keyframe, rasterize, resolve_hints
from .images import image_lightness, scaled_size
from .pipeline import FramePipeline, Settings
from .postprocess import segment

__all__ = ["Ranking", "rank_places", "suggest_points"]


@dataclass(frozen=True)
class Ranking:
    """How places are ranked (the defaults were chosen on validation photos).

    Attributes:
        short_side: the size, in pixels, the maps are scored at (places are fractions, so this
            only limits their precision to 1/short_side of the picture).
        reach: how far around a place its hint's gain is summed, as a share of the short side
            (a Gaussian's sigma).
        carry: how far a hint's color counts as known among pixels that look like its own, as
            a share of the short side: the engines carry a hint far along a like surface, so
            a second hint on the same sky pays little.
        light: how far a hint's color carries across lightness, in L* units (both for what it
            settles and for the gain summed around a place).
        texture: the same in units of L*'s local spread (foliage against a clear sky).
        prior: the a*b* error expected where nothing is known.
        unsure: how much the engine's doubt adds to the squared error expected of a pixel, per
            squared a*b* unit of disagreement between its views.
        members: the engine's views whose disagreement is its doubt (one view: no doubt). The
            picture and its mirror image: one network pass and one hint solve; adding the
            second scale's view cost 0.4 s more at 854x480 with hints and ranked worse on
            validation photos (26.21 / 27.73 / 28.84 dB at 5 / 10 / 20 hints, against
            26.26 / 28.17 / 29.23).
        segment_scale: Felzenszwalb's k for the regions a place must lie inside of.
    """

    short_side: int = 128
    reach: float = 0.12
    carry: float = 0.4
    light: float = 10.0
    texture: float = 5.0
    prior: float = 15.0
    unsure: float = 200.0
    members: tuple[Member, ...] = (Member(0), Member(0, flip=True))
    segment_scale: float = 300.0


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
    doubt = _doubt(pipeline, lightness, keyframe, (h, w), ranking.members)
    worth = _colorfulness(small) ** 2 * (ranking.prior**2 + ranking.unsure * doubt**2)
    inside = _interior(segment(small, scale=ranking.segment_scale))
    sigma = ranking.reach * min(h, w)
    looks = _looks(small, ranking.carry * min(h, w), ranking)
    hinted = rasterize(keyframe, h, w)[1]
    places: list[tuple[int, int]] = []
    for _ in range(count):
        gain = _gather(worth * _unlike(hinted, looks), small, sigma, ranking.light)
        score = np.where(inside & ~hinted, gain, -1.0)
        row, col = (int(v) for v in np.unravel_index(int(np.argmax(score)), score.shape))
        places.append((row, col))
        hinted = hinted.copy()
        hinted[row, col] = True
    return [((c + 0.5) / w, (r + 0.5) / h) for r, c in places]


def _doubt(
    pipeline: FramePipeline,
    lightness: np.ndarray,
    keyframe: Keyframe | None,
    size: tuple[int, int],
    members: tuple[Member, ...],
) -> np.ndarray:
    """(h, w) how far the engine's views disagree, in a*b* units (0 for an engine with one view)."""
    views = pipeline.engine.predict(lightness, keyframe, members)
    spread = np.sqrt(((views - views.mean(0)) ** 2).sum(-1).mean(0))
    small: np.ndarray = cv2.resize(spread, size[::-1], interpolation=cv2.INTER_AREA)
    return small


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


def _looks(lightness: np.ndarray, sigma: float, ranking: Ranking) -> np.ndarray:
    """(h, w, 4) what each pixel looks like, scaled so that a unit apart is as far as a hint's
    color carries: place (by ``sigma``), lightness and texture (local spread of L*)."""
    h, w = lightness.shape
    rows, cols = np.mgrid[0:h, 0:w].astype(np.float32) / sigma
    mean = cv2.GaussianBlur(lightness, (0, 0), 1.0)
    around = cv2.GaussianBlur(lightness, (0, 0), 2.0)
    texture = np.sqrt(np.maximum(cv2.GaussianBlur(lightness**2, (0, 0), 2.0) - around**2, 0))
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


def _interior(labels: np.ndarray) -> np.ndarray:
    """(h, w) bool: pixels at least :data:`_MARGIN` inside their region (or as deep as a thin
    region goes), so that a hint's patch there holds one color."""
    edges = np.zeros(labels.shape, bool)
    edges[:-1] |= labels[:-1] != labels[1:]
    edges[1:] |= labels[:-1] != labels[1:]
    edges[:, :-1] |= labels[:, :-1] != labels[:, 1:]
    edges[:, 1:] |= labels[:, :-1] != labels[:, 1:]
    padded = np.pad(~edges, 1).astype(np.uint8)
    depth = cv2.distanceTransform(padded, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)[1:-1, 1:-1]
    deepest = np.zeros(int(labels.max()) + 1, np.float32)
    np.maximum.at(deepest, labels.ravel(), depth.ravel())
    return np.asarray(depth >= np.minimum(deepest[labels], _MARGIN))


def _gather(worth: np.ndarray, lightness: np.ndarray, sigma: float, light: float) -> np.ndarray:
    """(h, w): the ``worth`` each pixel's hint would gather, from pixels near it in place
    (``sigma`` pixels) and in lightness (``light`` L* units): a cross-bilateral sum on a grid of
    lightness levels, each level's share a hat function of L* (they sum to 1 at every pixel)."""
    gathered = np.zeros_like(worth)
    for level in np.arange(0.0, 100.0 + light, light):
        share = np.clip(1 - np.abs(lightness - level) / light, 0, 1).astype(np.float32)
        if share.any():
            spread = cv2.GaussianBlur(worth * share, (0, 0), sigma, borderType=cv2.BORDER_CONSTANT)
            gathered += share * spread
    return gathered
