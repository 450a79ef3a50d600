"""Motion between frames: the one place that computes it.

Everything that follows the picture (hints carried along flow, the temporal filter, the paint
window's carried hints, the renderer) takes its motion from here, so there is one flow, one
forward-backward check and one scene-cut detector, with their constants side by side:

- a frame's *picture*: its lightness at the motion working size (short side ``short_side``, never
  upscaled) as uint8;
- a :class:`Pair`: dense optical flow between two consecutive pictures both ways (OpenCV DIS,
  medium preset) and, per pixel, how far the flow misses when it goes there and back (the
  forward-backward error: large where a pixel is occluded or the flow cannot be trusted);
- :func:`scene_cut`: whether two consecutive pictures belong to different shots: a cut is a pair
  that no motion explains (see its doc), so exposure flicker, fades, repeated frames, grain and
  dust are not cuts.

A pair is a pure function of its two pictures and the settings, never of hints: that is what lets
``vscolorize.core.store`` keep pairs on disk keyed by the pictures' content.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from functools import cache

import cv2
import numpy as np
import torch

from .images import scaled_size, shrink

__all__ = [
    "CUT_SIDE",
    "CUT_SIMILARITY",
    "FAILED_FLOW",
    "FLOW_METHODS",
    "GRAINY_CONSISTENCY",
    "HINT_CONSISTENCY",
    "MOTION_SHARE",
    "NOISE_SHARE",
    "PIXEL_CONSISTENCY",
    "MotionSettings",
    "Pair",
    "cut_picture",
    "flow_image",
    "forward_backward_error",
    "optical_flow",
    "picture_digest",
    "pixel_grid",
    "sample",
    "scene_cut",
    "shots_differ",
    "warp",
]

FLOW_METHODS = ("dis", "farneback")
_MIN_FLOW_SIDE = 16
_DIS_PRESETS = {
    "dis": cv2.DISOPTICAL_FLOW_PRESET_MEDIUM,
    "dis-fast": cv2.DISOPTICAL_FLOW_PRESET_FAST,
}

# How far (working pixels) a flow may miss on its way there and back, plus MOTION_SHARE of the
# motion (fast motion is measured less precisely), for...
# ...a hint to survive a step: DIS misses by 1-2 px on fine texture, where a 1 px limit dropped
# good hints (a pan over a held-out painting lost 11 of 50 in 5 frames; see
# docs/results/propagation-pans.txt). An occluder moving a few px per frame still fails.
HINT_CONSISTENCY = 3.0
# ...a pixel's color to be averaged with its neighbor's in the temporal filter: stricter, since a
# wrong match smears a color over an edge while a dropped one only leaves the pixel unfiltered.
# On grainy film every pixel's flow misses by more, and the limit grows with how far this pair's
# flow usually misses (NOISE_SHARE times its 75th percentile, up to GRAINY_CONSISTENCY): held at
# 1 px, grain cut most links and the colors shimmered at 2.8x the truth (benchmarks/oldfilm.py).
# At grain of 5 % on pans over photos, 2x up to 3 px kept 82 % of the window's weight and the
# colors flickered at 0.92x the truth's change; 3x up to 4.5 px kept 90 % and 0.79x (clean: the
# same PSNR and flicker, 98 % kept). A pair whose usual miss is over FAILED_FLOW is no grainy pair
# but one the flow could not match (another shot, a flash): its limit stays at 1 px.
PIXEL_CONSISTENCY = 1.0
NOISE_SHARE = 3.0
GRAINY_CONSISTENCY = 4.5
FAILED_FLOW = 4.0
MOTION_SHARE = 0.1

# Scene cuts are judged on pictures this small (short side, px): grain, dust and a scratch average
# away, and following the motion costs a fraction of a millisecond.
CUT_SIDE = 64
# Two pictures this alike where they are (correlation, no motion followed) are one shot: a frame
# repeated, a still, a fade. Below it the motion between them is followed.
_SAME_PICTURE = 0.9
# ...and below this once it is followed, no motion explains the next picture: a cut. On bikes.mp4,
# pans over photos and vtest.avi, clean and degraded like scans (benchmarks/oldfilm.py), true cuts
# gave at most 0.49 and frames of one shot at least 0.80 (fast motion, motion blur, heavy grain).
CUT_SIMILARITY = 0.65
# a picture whose gray levels spread less than this (standard deviation) is flat (black leader)
_FLAT = 0.5

# a picture motion is measured on has its exposure set to this mean and spread (L*), the gain
# within MOST_GAIN either way
_PICTURE_MEAN = 50.0
_PICTURE_SPREAD = 20.0
_MOST_GAIN = 4.0

# forward-backward errors are kept in quarter pixels in a byte (up to 63.75 px: far past any limit)
_ERROR_STEP = 0.25


@dataclass(frozen=True)
class MotionSettings:
    """How motion is measured. Part of every stored pair's key.

    Attributes:
        flow: ``"dis"`` (OpenCV DIS, medium preset) or ``"farneback"``.
        short_side: motion is measured with the frame's short side scaled to this (never up).
        cut_similarity: how alike two consecutive pictures must be once the motion between them
            is followed (a correlation, see :func:`scene_cut`) to belong to one shot.
    """

    flow: str = "dis"
    short_side: int = 360
    cut_similarity: float = CUT_SIMILARITY

    def __post_init__(self) -> None:
        if self.flow not in FLOW_METHODS:
            raise ValueError(f"motion: flow must be one of {FLOW_METHODS}, not {self.flow!r}")
        if isinstance(self.short_side, bool) or not isinstance(self.short_side, int):
            raise ValueError(f"motion: short_side must be a whole number, not {self.short_side!r}")
        if self.short_side < _MIN_FLOW_SIDE:
            raise ValueError(f"motion: short_side must be at least {_MIN_FLOW_SIDE}, not {self.short_side}")
        if not 0 < self.cut_similarity < 1:
            raise ValueError(f"motion: cut_similarity must be in (0, 1), not {self.cut_similarity}")

    def working_size(self, height: int, width: int) -> tuple[int, int]:
        """(h, w) of the pictures motion is measured on, for frames of (height, width)."""
        return scaled_size(height, width, self.short_side)


def flow_image(lightness: np.ndarray, short_side: int) -> np.ndarray:
    """(H, W) L* in [0, 100] -> the uint8 picture motion is measured on: at the working size, its
    exposure taken out (mean and spread set to :data:`_PICTURE_MEAN` and :data:`_PICTURE_SPREAD`,
    the gain held within :data:`_MOST_GAIN` so that a dark frame's grain is not blown up), so that
    a frame brighter or darker than its neighbor (flicker, a fade) still matches it."""
    small = shrink(lightness, short_side).astype(np.float32, copy=False)
    mean, spread = (float(x[0, 0]) for x in cv2.meanStdDev(small))  # one pass, 3x numpy's two
    gain = min(max(_PICTURE_SPREAD / max(spread, 1e-6), 1 / _MOST_GAIN), _MOST_GAIN) * 2.55
    levels = small * np.float32(gain)
    levels += np.float32(_PICTURE_MEAN * 2.55 + 0.5 - mean * gain)
    return np.clip(levels, 0, 255, out=levels).astype(np.uint8)


def picture_digest(picture: np.ndarray) -> bytes:
    """A 16-byte digest of a picture's content and size (a stored pair's key is made of two)."""
    digest = hashlib.blake2b(digest_size=16)
    digest.update(np.asarray(picture.shape, np.int64).tobytes())
    digest.update(np.ascontiguousarray(picture).data)
    return digest.digest()


_dis_of_thread = threading.local()


def _dis(method: str) -> cv2.DISOpticalFlow:
    """This thread's DIS of a preset: made once, since making one costs a tenth of a flow at
    360x640 (its results are the same as a fresh one's: nothing carries over between calls)."""
    made: dict[str, cv2.DISOpticalFlow] = _dis_of_thread.__dict__
    if method not in made:
        made[method] = cv2.DISOpticalFlow.create(_DIS_PRESETS[method])
    return made[method]


def optical_flow(a: np.ndarray, b: np.ndarray, method: str = "dis") -> np.ndarray:
    """Dense flow from uint8 picture ``a`` to ``b``: (h, w, 2) float32 displacements (x, y).

    ``method``: ``"dis"`` (DIS, medium preset), ``"dis-fast"`` (DIS, fast preset: 3x quicker,
    less precise) or ``"farneback"``. Pictures smaller than 16 px on a side carry too little to
    measure motion: their flow is 0.
    """
    if min(a.shape) < _MIN_FLOW_SIDE:
        return np.zeros((*a.shape, 2), np.float32)
    if method in _DIS_PRESETS:
        return _dis(method).calc(a, b, np.zeros((*a.shape, 2), np.float32))
    if method == "farneback":
        flow = np.zeros((*a.shape, 2), np.float32)
        return cv2.calcOpticalFlowFarneback(a, b, flow, 0.5, 4, 15, 3, 5, 1.2, 0)
    raise ValueError(f"optical_flow: method must be one of {FLOW_METHODS}, not {method!r}")


def cut_picture(picture: np.ndarray) -> np.ndarray | None:
    """What :func:`scene_cut` compares of a uint8 picture: shrunk to CUT_SIDE, its exposure
    taken out (mean 0, spread 1), float32; None if it is flat. Made once per frame (Footage
    keeps it beside the picture)."""
    small = shrink(picture, CUT_SIDE).astype(np.float32)  # shrunk first: 60x fewer pixels to convert
    spread = float(small.std())
    if spread < _FLAT:
        return None
    standard: np.ndarray = (small - float(small.mean())) / spread
    return standard


def _correlation(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson's correlation of two standardized pictures of one size (b's spread measured)."""
    spread = float(b.std())
    return float((a * (b - float(b.mean()))).mean() / spread) if spread > 0 else 0.0


def scene_cut(a: np.ndarray, b: np.ndarray, similarity: float = CUT_SIMILARITY) -> bool:
    """Whether uint8 pictures ``a`` and ``b`` (consecutive frames) belong to different shots:
    :func:`shots_differ` of their :func:`cut_picture`."""
    return shots_differ(cut_picture(a), cut_picture(b), similarity)


def shots_differ(a: np.ndarray | None, b: np.ndarray | None, similarity: float = CUT_SIMILARITY) -> bool:
    """Whether consecutive frames whose :func:`cut_picture` are ``a`` and ``b`` belong to
    different shots.

    The pictures are small and standardized, so that a change of exposure (flicker, a fade) is
    no change. Pictures that correlate well where they are are one shot (a repeated frame, a
    still). Otherwise the motion from ``a`` to ``b`` is measured and ``b`` is followed back onto
    ``a``: a cut is a pair that still correlates less than ``similarity``, one that no motion
    explains. A flat picture (black) beside a picture with content starts a shot.
    """
    if a is None or b is None:
        return (a is None) != (b is None)
    if _correlation(a, b) >= max(similarity, _SAME_PICTURE):
        return False
    pictures = [np.clip(x * 40 + 128, 0, 255).astype(np.uint8) for x in (a, b)]
    flow = np.zeros((*a.shape, 2), np.float32)
    if min(a.shape) >= _MIN_FLOW_SIDE:  # not optical_flow: these are no pair's flows
        flow = _dis("dis").calc(pictures[0], pictures[1], flow)
    return _correlation(a, warp(b, flow)) < similarity


@cache
def pixel_grid(h: int, w: int) -> np.ndarray:
    """(h, w, 2) float32 pixel coordinates (x, y); read-only, shared by every warp of a size."""
    grid = np.stack(np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32)), -1)
    grid.flags.writeable = False
    return grid


def warp(image: np.ndarray, flow: np.ndarray) -> np.ndarray:
    """``image`` sampled at x + flow(x): a picture of the other frame seen from this one."""
    return sample(image, pixel_grid(*flow.shape[:2]) + flow)


def sample(image: np.ndarray, maps: np.ndarray) -> np.ndarray:
    """``image`` sampled at the (h, w, 2) float32 absolute pixel positions ``maps``, bilinearly,
    the border repeated (one two-channel map: faster than two one-channel ones, same bits)."""
    sampled: np.ndarray = cv2.remap(image, maps, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return sampled


def _length(vectors: np.ndarray) -> np.ndarray:
    """(h, w) lengths of (h, w, 2) float32 vectors: ``np.linalg.norm(vectors, axis=-1)`` bit for
    bit (the same products, sum and root), 9x faster than its reduction over a pair."""
    x, y = vectors[..., 0], vectors[..., 1]
    total = x * x
    total += y * y
    return np.sqrt(total, out=total)


def forward_backward_error(there: np.ndarray, back: np.ndarray) -> np.ndarray:
    """Per pixel, how far flow ``there`` followed by flow ``back`` lands from home: (h, w)
    float32 px; infinite where ``there`` leaves the picture."""
    h, w = there.shape[:2]
    landing = pixel_grid(h, w) + there
    error = _length(there + sample(back, landing))
    xs, ys = landing[..., 0], landing[..., 1]
    outside = (xs < -0.5) | (xs > w - 0.5) | (ys < -0.5) | (ys > h - 0.5)
    error[outside] = np.inf
    return error


def _half(x: np.ndarray) -> np.ndarray:
    """float32 -> float16, rounded to nearest even as numpy does, 5x faster (torch's SIMD)."""
    half: np.ndarray = torch.from_numpy(np.ascontiguousarray(x, np.float32)).half().numpy()
    return half


def _single(x: np.ndarray) -> np.ndarray:
    """float16 -> float32, exactly, 5x faster than numpy."""
    if not x.flags.writeable:  # mapped from the store: torch wants memory it could write
        x = x.copy()
    single: np.ndarray = torch.from_numpy(np.ascontiguousarray(x)).float().numpy()
    return single


def _quantize_error(error: np.ndarray) -> np.ndarray:
    return np.minimum(np.ceil(error / _ERROR_STEP), 255).astype(np.uint8)


@dataclass(frozen=True)
class Pair:
    """The motion between consecutive pictures a (frame m) and b (frame m + 1).

    ``forward`` / ``backward``: (h, w, 2) float16 flow on a's / b's grid towards the other;
    ``forward_error`` / ``backward_error``: (h, w) uint8, the forward-backward error of each of
    a's / b's pixels in quarter pixels (255: lost, or leaves the picture). float16 keeps flow to
    1/64 px up to 32 px of motion and 1/32 px up to 64 px, well under DIS's own error.
    """

    forward: np.ndarray
    backward: np.ndarray
    forward_error: np.ndarray
    backward_error: np.ndarray

    @classmethod
    def compute(cls, a: np.ndarray, b: np.ndarray, settings: MotionSettings) -> Pair:
        there = optical_flow(a, b, settings.flow)
        back = optical_flow(b, a, settings.flow)
        # the check runs on the flow as it will be stored, so a fresh pair and a loaded one agree
        there16, back16 = _half(there), _half(back)
        there, back = _single(there16), _single(back16)
        return cls(
            there16,
            back16,
            _quantize_error(forward_backward_error(there, back)),
            _quantize_error(forward_backward_error(back, there)),
        )

    @property
    def shape(self) -> tuple[int, int]:
        h, w = self.forward.shape[:2]
        return h, w

    @property
    def nbytes(self) -> int:
        return sum(x.nbytes for x in self.arrays())

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        return self.forward, self.backward, self.forward_error, self.backward_error

    def flow(self, forward: bool) -> np.ndarray:
        """(h, w, 2) float32 flow one way."""
        return _single(self.forward if forward else self.backward)

    def error(self, forward: bool) -> np.ndarray:
        """(h, w) float32 forward-backward error in px of the pixels the flow ``forward`` (or
        backward) starts from; infinite where lost."""
        quantized = self.forward_error if forward else self.backward_error
        error = quantized.astype(np.float32) * _ERROR_STEP
        error[quantized == 255] = np.inf
        return error

    def error_at(self, forward: bool, xy: np.ndarray) -> np.ndarray:
        """The forward-backward error (px; infinite where lost) of the pixels nearest (N, 2)
        positions (clipped to the picture) on the grid the flow ``forward`` (or backward) starts
        from: (N,) float64. Reads only those pixels."""
        quantized = self.forward_error if forward else self.backward_error
        h, w = quantized.shape
        cols = np.clip(np.rint(xy[:, 0]).astype(np.intp), 0, w - 1)
        rows = np.clip(np.rint(xy[:, 1]).astype(np.intp), 0, h - 1)
        found = quantized[rows, cols]
        return np.where(found == 255, np.inf, found * _ERROR_STEP)

    def usual_error(self, forward: bool) -> float:
        """How far this pair's flow usually misses on its way there and back (px): the 75th
        percentile of the forward-backward error. 0.25-0.5 px on clean footage; grain raises it
        to 1-3 px, everywhere at once."""
        quantized = self.forward_error if forward else self.backward_error
        counts = np.cumsum(np.bincount(quantized.reshape(-1), minlength=256))
        return float(np.searchsorted(counts, 0.75 * counts[-1])) * _ERROR_STEP

    def pixel_limit(self, forward: bool) -> float:
        """The forward-backward limit (px) for a pixel's color to be averaged along this pair's
        flow: PIXEL_CONSISTENCY, grown with the flow's usual miss on grainy film (see
        NOISE_SHARE and FAILED_FLOW)."""
        usual = self.usual_error(forward)
        if usual > FAILED_FLOW:
            return PIXEL_CONSISTENCY
        return min(max(PIXEL_CONSISTENCY, NOISE_SHARE * usual), GRAINY_CONSISTENCY)

    def holds(self, forward: bool, limit: float) -> np.ndarray:
        """(h, w) bool: pixels whose flow returns home within ``limit`` px plus MOTION_SHARE of
        their motion."""
        flow = self.forward if forward else self.backward
        speed = _length(_single(flow))
        holds: np.ndarray = self.error(forward) <= limit + MOTION_SHARE * speed
        return holds
