"""Post-processing of predicted a*b*: segmentation + flood fill, and the ensemble of predictions.

What ``postprocess=`` runs, and in what order, is :mod:`vscolorize.core.cleanup`'s. After the
Futschik thesis. ``segment_fill`` segments the lightness, clusters each segment's
predicted a*b* with k-means (k = 2) and gives the larger cluster's centroid to the pixels of the
smaller one (or, with ``fill="segment"``, to the whole segment): color bleeding across an edge and
small patches of a stray color vanish. The thesis fills hard; here every decision is made by
degrees, so that video, where segments and predictions change a little from frame to frame, does
not flicker more for being filled. ``ensemble`` combines
several predictions of the same picture (model variants, flipped or rescaled inputs) so that
colors the members disagree on cancel out.

Both are pure, vectorized functions: per-segment statistics are ``bincount`` reductions over the
label image, never Python loops over pixels or segments. An artist's hint beats any cleanup:
a segment that holds hints of one color takes that color, and hinted pixels keep their hint.
"""

from __future__ import annotations

from typing import Literal, overload

import cv2
import numpy as np
import torch

from .images import shrink, shrink_factor

__all__ = [
    "ENSEMBLE_MODES",
    "FILLED_GUIDE_EPS",
    "SEGMENTATIONS",
    "ensemble",
    "segment",
    "segment_fill",
]

Segmentation = Literal["felzenszwalb", "slic", "seeds"]
SEGMENTATIONS: tuple[str, ...] = ("felzenszwalb", "slic", "seeds")
FillMode = Literal["strays", "segment"]
FILL_MODES: tuple[str, ...] = ("strays", "segment")
EnsembleMode = Literal["mean", "median", "saturated"]
ENSEMBLE_MODES: tuple[str, ...] = ("mean", "median", "saturated")

# Defaults per segmentation for pictures at a colorizer's working size (short side 256-384):
# Felzenszwalb's k (larger: bigger segments), or the superpixels' side in pixels.
_DEFAULT_SCALE = {"felzenszwalb": 1000.0, "slic": 16.0, "seeds": 16.0}
_DEFAULT_MIN_SIZE = 20
# Superpixels are computed with the short side at most this long (labels then scaled back,
# nearest): at half the working size they cost 3x less and clean up as well. Felzenszwalb's
# segments are not: scaled back they no longer follow the edges and leave more artifacts (PA -10 %
# instead of -35 % on held-out photos), so they are computed at the size given.
_SEGMENT_SHORT_SIDE = {"felzenszwalb": 1 << 30, "slic": 128, "seeds": 128}
_SMALLEST_SUPERPIXEL = 16
_SIGMA = 0.5  # Felzenszwalb's pre-smoothing, in pixels
_KMEANS_ITERATIONS = 6
_SAMPLE_STRIDE = 2  # k-means sees every other pixel in each direction
# Filled segments meet in steps of color; where the lightness is smooth across the seam, a guided
# filter (guide L / 100) turns the step into a ramp. Without it the steps themselves are new
# artifacts: on held-out photos the PA share rose 12 % instead of falling 35 %
# (benchmarks/postprocess.py).
_SEAM_SHARE = 6 / 256  # the filter's radius as a share of the short side (6 px at 256)
_SEAM_EPS = 2e-2
# hints in one segment agree when every one lies within this of their mean (a*b* units): the
# segment then takes their color; hints that disagree mean the segment spans several objects
_HINT_AGREEMENT = 8.0
_HINT_PIXELS = 2  # hinted pixels in a segment for its hints to count fully
# a pixel moves to its segment's dominant color as it goes this share of the way (in squared
# distance) from the dominant centroid to the nearest other; a segment is filled as its dominant
# cluster's share goes from half to 90 %. Narrower ramps (35-65 %, half to 70 %) cut artifacts as
# much but flickered on video: 0.88x the ground truth's flicker on vtest.avi instead of the plain
# model's 0.80x, these 0.73x (benchmarks/postprocess.py)
_STRAY_ALONG = (0.2, 0.8)
_MAJORITY = (0.5, 0.9)
# A filled frame's colors are meant to follow its segments: the upsampling to full size then lets
# less of L*'s fine detail into them (the guided filter's eps, L* / 100 as guide; 1e-4 plain). On
# 298 validation crops at 20 hints, with the fast 2026-12-03b model and the colors fitted into the
# gamut before the fill: PA -21 % at -0.075 dB, against -10 % at -0.044 dB with neither; eps 3e-2
# and 1e-1 cut less (-23 and -22 % against -24 % on a third of the crops)
FILLED_GUIDE_EPS = 1e-2


def segment(
    lightness: np.ndarray,
    *,
    method: Segmentation = "felzenszwalb",
    scale: float | None = None,
    min_size: int = _DEFAULT_MIN_SIZE,
) -> np.ndarray:
    """Segment a picture by its lightness.

    Args:
        lightness: (H, W) L* in [0, 100].
        method: ``"felzenszwalb"`` (graph-based, Felzenszwalb & Huttenlocher 2004: regions that
            follow the picture's edges, any shape and size), ``"slic"`` (SLICO superpixels:
            compact regions of about ``scale`` px across) or ``"seeds"`` (SEEDS superpixels,
            the fastest). All three are opencv-contrib's implementations.
        scale: Felzenszwalb's k (bigger: larger segments) or the superpixels' size in pixels;
            None for the method's default.
        min_size: Felzenszwalb's smallest segment, in pixels.

    Returns:
        (H, W) int32 labels, 0 .. count - 1, every label used.
    """
    if method not in SEGMENTATIONS:
        raise ValueError(f"segmentation must be one of {SEGMENTATIONS}, not {method!r}")
    size_or_k = _DEFAULT_SCALE[method] if scale is None else float(scale)
    if size_or_k <= 0:
        raise ValueError(f"segmentation scale must be positive, not {scale!r}")
    height, width = lightness.shape
    picture = np.clip(shrink(lightness, _SEGMENT_SHORT_SIDE[method]) * 2.55 + 0.5, 0, 255).astype(np.uint8)
    h, w = picture.shape
    if method == "felzenszwalb":
        k, smallest = size_or_k, min_size
        graph = cv2.ximgproc.segmentation.createGraphSegmentation(_SIGMA, k, smallest)
        labels = graph.processImage(picture)
    elif method == "slic":
        side = max(2, round(size_or_k * shrink_factor(height, width, _SEGMENT_SHORT_SIDE[method])))
        slic = cv2.ximgproc.createSuperpixelSLIC(picture, cv2.ximgproc.SLICO, side, 10.0)
        slic.iterate(5)
        slic.enforceLabelConnectivity(25)
        labels = slic.getLabels()
    else:
        count = max(1, round(height * width / size_or_k**2))
        # superpixels of at least 4x4 pixels where they are computed: SEEDS crashes on far smaller
        # ones (a full-HD picture's count on the shrunk picture)
        count = min(count, max(1, h * w // _SMALLEST_SUPERPIXEL))
        seeds = cv2.ximgproc.createSuperpixelSEEDS(w, h, 1, count, 4, 2, 5)
        seeds.iterate(picture, 4)
        labels = seeds.getLabels()
    if (h, w) != (height, width):
        labels = cv2.resize(labels, (width, height), interpolation=cv2.INTER_NEAREST)
    # make the labels dense (some implementations leave numbers unused); a lookup table from
    # bincount, where np.unique would sort every pixel
    ids = np.asarray(labels, dtype=np.int32).ravel()
    table = (np.cumsum(np.bincount(ids) > 0) - 1).astype(np.int32)
    dense: np.ndarray = table[ids].reshape(height, width)
    return dense


def _segment_sums(labels: np.ndarray, values: np.ndarray, count: int) -> np.ndarray:
    """Per-label sums of (P, C) values -> (count, C) float64."""
    return np.stack([np.bincount(labels, values[:, c], count) for c in range(values.shape[1])], 1)


def _nearest(labels: np.ndarray, x: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    """For (P, 2) pixels in segments ``labels``: the index of the nearest of their own
    segment's (count, k, 2) centroids, by |c|^2 - 2 x.c (|x|^2 is the same for every centroid);
    per centroid, gathers of contiguous per-segment arrays are what numpy does fastest."""
    xa, xb = x[:, 0], x[:, 1]
    best = np.full(len(x), np.inf)
    nearest = np.zeros(len(x), np.int64)
    for j in range(centroids.shape[1]):
        ca = np.ascontiguousarray(centroids[:, j, 0])
        cb = np.ascontiguousarray(centroids[:, j, 1])
        score = (ca * ca + cb * cb)[labels] - 2 * (xa * ca[labels] + xb * cb[labels])
        closer = score < best
        best[closer], nearest[closer] = score[closer], j
    return nearest


def _kmeans(labels: np.ndarray, ab: np.ndarray, count: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Per segment, k-means on its pixels' a*b*.

    All segments are clustered at once: centroids start spread along each segment's principal
    axis (so the result is deterministic), then Lloyd iterations assign every pixel to the
    nearest of its own segment's centroids and average them again with ``bincount``.

    Args:
        labels: (P,) segment of each pixel, 0 .. count - 1.
        ab: (P, 2) the pixels' a*b*.

    Returns:
        (count, k, 2) float64 centroids and (count,) the index of each segment's largest
        cluster.
    """
    x = ab.astype(np.float64)
    n = np.maximum(np.bincount(labels, minlength=count), 1).astype(np.float64)
    mean = _segment_sums(labels, x, count) / n[:, None]
    d = x - mean[labels]
    # the 2x2 covariance per segment and its principal axis, in closed form
    saa, sbb, sab = (_segment_sums(labels, d[:, [0, 1, 0]] * d[:, [0, 1, 1]], count) / n[:, None]).T
    half_gap = np.sqrt(((saa - sbb) / 2) ** 2 + sab**2)
    spread = np.sqrt(np.maximum((saa + sbb) / 2 + half_gap, 0))
    angle = 0.5 * np.arctan2(2 * sab, saa - sbb)
    axis = np.stack([np.cos(angle), np.sin(angle)], 1) * spread[:, None]
    offsets = np.linspace(-1, 1, k) if k > 1 else np.zeros(1)
    centroids = mean[:, None, :] + offsets[None, :, None] * axis[:, None, :]  # (count, k, 2)
    sizes = np.zeros((count, k))
    for _ in range(_KMEANS_ITERATIONS):
        cluster = labels * k + _nearest(labels, x, centroids)
        sizes = np.bincount(cluster, minlength=count * k).reshape(count, k).astype(np.float64)
        sums = _segment_sums(cluster, x, count * k).reshape(count, k, 2)
        filled = sizes > 0  # an empty cluster keeps its centroid
        centroids[filled] = sums[filled] / sizes[filled][:, None]
    largest: np.ndarray = sizes.argmax(1)
    return centroids, largest


def _clusters(labels: np.ndarray, ab: np.ndarray, count: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_kmeans` on every other pixel in each direction (a quarter of the work, the same
    colors); segments too thin to be sampled get their mean as every centroid."""
    sampled = labels[::_SAMPLE_STRIDE, ::_SAMPLE_STRIDE].ravel()
    centroids, largest = _kmeans(sampled, ab[::_SAMPLE_STRIDE, ::_SAMPLE_STRIDE].reshape(-1, 2), count, k)
    missed = np.bincount(sampled, minlength=count) == 0
    if missed.any():
        flat = labels.ravel()
        n = np.maximum(np.bincount(flat, minlength=count), 1)
        mean = _segment_sums(flat, ab.reshape(-1, 2).astype(np.float64), count) / n[:, None]
        centroids[missed] = mean[missed][:, None, :]
        largest[missed] = 0
    return centroids, largest


def _smoothstep(x: np.ndarray, low: float, high: float) -> np.ndarray:
    """0 below ``low``, 1 above ``high``, a smooth S between."""
    t = np.clip((x - low) / (high - low), 0, 1)
    return t * t * (3 - 2 * t)


def _stray_weights(
    flat: np.ndarray, pixels: np.ndarray, centroids: np.ndarray, largest: np.ndarray, area: np.ndarray
) -> np.ndarray:
    """How far (0-1) each pixel moves to its segment's dominant color.

    Every step is continuous in the prediction, so that a small change between two frames makes
    a small change in the fill (hard decisions flipped from frame to frame: filled, vtest.avi
    flickered 1.70x as much as its ground truth, against 0.90x unfilled, temporal radius 2). A
    pixel's own weight rises from 0 to 1 as it goes from the dominant centroid to the nearest
    other one (squared distances, 20-80 % of the way);
    a segment's weight rises from 0 to 1 as its dominant cluster's share of it goes from half
    (no real majority) to 90 %. ``area``: each segment's pixel count, at least 1.
    """
    count, k, _ = centroids.shape
    if k == 1:
        return np.zeros(len(flat), np.float32)
    x = pixels.astype(np.float32)
    xa, xb = x[:, 0], x[:, 1]
    mine = largest[flat]
    to_dominant = np.zeros(len(flat), np.float32)
    to_other = np.full(len(flat), np.inf, np.float32)
    for j in range(k):  # squared distances to each centroid; contiguous gathers, as _nearest
        ca = np.ascontiguousarray(centroids[:, j, 0], np.float32)[flat]
        cb = np.ascontiguousarray(centroids[:, j, 1], np.float32)[flat]
        d = (xa - ca) ** 2 + (xb - cb) ** 2
        dominant = mine == j
        to_dominant[dominant] = d[dominant]
        np.minimum(to_other, np.where(dominant, np.inf, d), out=to_other)
    along = to_dominant / np.maximum(to_dominant + to_other, 1e-12)
    share = np.bincount(flat, to_dominant <= to_other, count) / area  # nearest is the dominant
    weights: np.ndarray = (
        _smoothstep(along, *_STRAY_ALONG) * _smoothstep(share, *_MAJORITY).astype(np.float32)[flat]
    )
    return weights


def _follow_hints(
    flat: np.ndarray,
    area: np.ndarray,
    out: np.ndarray,
    pixels: np.ndarray,
    hint_ab: np.ndarray,
    hint_mask: np.ndarray,
) -> np.ndarray:
    """Hints beat the fill: a segment whose hints agree takes their color (shifted by the
    difference between the hints' color and what the fill gave the hinted pixels, so its shading
    stays), one whose hints disagree spans several things and goes back to the prediction.

    By degrees, so that hints carried along a video and segments that change shape from frame to
    frame move the colors a little, not whole segments at once: the shift is full at the hints
    and fades with the distance from them (a Gaussian of sigma half the segment's side, the
    square root of its area: a hint's color reaches most of its own segment); a segment's hints
    count fully from _HINT_PIXELS hinted pixels on (a hint that straddles a seam counts partly on
    each side); and hints agree by degrees (within _HINT_AGREEMENT of their mean, disagree past
    twice that). With the shift spread evenly over each segment, the filled vtest.avi flickered
    1.97x as much as its ground truth with the temporal filter off (30 frames); fading over 8 px,
    1.38x; unfilled, 1.00x. ``area``: each segment's pixel count, at least 1."""
    count = len(area)
    hinted = hint_mask.ravel()
    where, colors = flat[hinted], hint_ab.reshape(-1, 2)[hinted].astype(np.float64)
    n = np.bincount(where, minlength=count).astype(np.float64)
    has = n > 0
    mean = _segment_sums(where, colors, count)
    filled = _segment_sums(where, out[hinted], count)
    mean[has] /= n[has][:, None]
    filled[has] /= n[has][:, None]
    far = np.zeros(count)
    np.maximum.at(far, where, np.linalg.norm(colors - mean[where], axis=1))
    strength = np.minimum(1, n / _HINT_PIXELS)
    agree = 1 - _smoothstep(far, _HINT_AGREEMENT, 2 * _HINT_AGREEMENT)
    # distance of each pixel to the nearest hinted pixel (of any segment: where a neighbor's hint
    # is nearer, a pixel takes a little more of its own segment's hints than it would)
    distance = cv2.distanceTransform((~hint_mask).astype(np.uint8), cv2.DIST_L2, 3).ravel()
    # sigma = sqrt(area) / 2, so exp(-d^2 / 2 sigma^2) = exp(-d^2 * 2 / area)
    falloff = (2 / area).astype(np.float32)
    shift = ((strength * agree)[:, None] * (mean - filled)).astype(np.float32)
    back = (strength * (1 - agree)).astype(np.float32)
    touched = np.flatnonzero(has[flat])  # only segments that hold hints change
    segment = flat[touched]
    reach = np.exp(-(distance[touched] ** 2) * falloff[segment])
    result: np.ndarray = out.copy()
    result[touched] += reach[:, None] * shift[segment] + back[segment][:, None] * (
        pixels[touched] - out[touched]
    )
    return result


def segment_fill(
    lightness: np.ndarray,
    ab: np.ndarray,
    *,
    method: Segmentation = "felzenszwalb",
    scale: float | None = None,
    min_size: int = _DEFAULT_MIN_SIZE,
    k: int = 2,
    hint_ab: np.ndarray | None = None,
    hint_mask: np.ndarray | None = None,
    labels: np.ndarray | None = None,
    seam_radius: int | None = None,
    fill: FillMode = "strays",
) -> np.ndarray:
    """Fill each segment of the picture with the dominant color of its predicted a*b*.

    Args:
        lightness: (H, W) L* in [0, 100], what is segmented.
        ab: (H, W, 2) predicted a*b* of the same picture.
        method, scale, min_size: the segmentation (see :func:`segment`).
        k: clusters per segment; the largest one's centroid is the segment's color.
        fill: ``"strays"`` moves the pixels of a segment's smaller clusters (stray patches,
            bleeding) to its color and leaves the rest as predicted, shading included; by
            degrees (pixels between two clusters move part of the way, a segment with no clear
            majority is left alone), so that on video the fill changes as little as the
            prediction does. ``"segment"`` fills the whole segment (flat, as in the Futschik
            thesis; on video the flat segments change from frame to frame and flicker).
        hint_ab, hint_mask: the artist's hints at this size ((H, W, 2) and (H, W) bool): a
            segment whose hints agree takes their color (shifted so that its hinted pixels get
            it, its shading kept; fully near the hints, fading over about the segment's size),
            one whose hints disagree spans several things and keeps its prediction, and hinted
            pixels keep their hint.
        labels: a segmentation to use instead of computing one.
        seam_radius: radius in pixels of the guided filter that softens the seams between
            segments where the lightness is smooth (None: 6 px per 256 px of the short side);
            0 leaves hard seams.

    Returns:
        (H, W, 2) float32 a*b*.
    """
    if ab.shape[:2] != lightness.shape or ab.shape[2:] != (2,):
        raise ValueError(f"segment_fill: a*b* {ab.shape} does not match lightness {lightness.shape}")
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ValueError(f"segment_fill: k must be a whole number >= 1, not {k!r}")
    if labels is None:
        labels = segment(lightness, method=method, scale=scale, min_size=min_size)
    flat = labels.ravel()
    count = int(flat.max()) + 1
    if fill not in FILL_MODES:
        raise ValueError(f"segment_fill: fill must be one of {FILL_MODES}, not {fill!r}")
    centroids, largest = _clusters(labels, ab, count, k)
    color = centroids[np.arange(count), largest].astype(np.float32)  # each segment's own
    pixels = ab.reshape(-1, 2).astype(np.float32)
    area = np.maximum(np.bincount(flat, minlength=count), 1)  # pixels per segment, once
    if fill == "segment":
        out = color[flat]
    else:
        out = pixels + _stray_weights(flat, pixels, centroids, largest, area)[:, None] * (
            color[flat] - pixels
        )
    if hint_ab is not None and hint_mask is not None and hint_mask.any():
        out = _follow_hints(flat, area, out, pixels, hint_ab, hint_mask)
    out = out.reshape(ab.shape).astype(np.float32)
    if seam_radius is None:
        seam_radius = max(1, round(min(lightness.shape) * _SEAM_SHARE))
    if seam_radius > 0:
        guide = (lightness / 100).astype(np.float32)
        out = cv2.ximgproc.guidedFilter(guide, out, int(seam_radius), _SEAM_EPS)
    if hint_ab is not None and hint_mask is not None:
        out[hint_mask] = hint_ab[hint_mask]
    return out


@overload
def ensemble(predictions: np.ndarray, mode: EnsembleMode = "mean") -> np.ndarray: ...
@overload
def ensemble(predictions: torch.Tensor, mode: EnsembleMode = "mean") -> torch.Tensor: ...


def ensemble(
    predictions: np.ndarray | torch.Tensor, mode: EnsembleMode = "mean"
) -> np.ndarray | torch.Tensor:
    """Combine several a*b* predictions of the same pictures into one.

    Args:
        predictions: (N, ..., 2) channel-last numpy, or (N, ..., 2, H, W) torch (on any
            device): the members along the first axis.
        mode: ``"mean"`` (the average: disagreements cancel out, at some cost in saturation),
            ``"median"`` (per channel: an outlying member has no say), or ``"saturated"`` (the
            mean's hue with a chroma between the mean's and the members' mean chroma, by how much
            the members agree on the hue: where they agree, the colors keep their strength).

    Returns:
        The combined prediction, the members' shape without the first axis, same type.
    """
    if mode not in ENSEMBLE_MODES:
        raise ValueError(f"ensemble mode must be one of {ENSEMBLE_MODES}, not {mode!r}")
    is_numpy = isinstance(predictions, np.ndarray)
    x: torch.Tensor = torch.from_numpy(predictions) if isinstance(predictions, np.ndarray) else predictions
    channel = x.ndim - 1 if is_numpy else x.ndim - 3
    if x.shape[0] == 1:
        out = x[0]
    elif mode == "median":
        # torch's median picks the lower middle one; the mean of both middles is symmetric
        ordered, _ = torch.sort(x, 0)
        count = x.shape[0]
        out = (ordered[(count - 1) // 2] + ordered[count // 2]) / 2
    else:
        out = x.mean(0)
        if mode == "saturated":
            chroma = out.norm(dim=channel - 1, keepdim=True)
            members = x.norm(dim=channel, keepdim=True).mean(0)
            # resultant length in [0, 1]: 1 when the members point the same way
            agreement = chroma / members.clamp_min(1e-6)
            out = out * (2 - agreement)
    return out.numpy() if is_numpy else out
