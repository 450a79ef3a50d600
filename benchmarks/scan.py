"""Clean color film made to look like a scan of an old black-and-white print (imported by
benchmarks/oldfilm.py and the tests; not a script).

A :class:`Film` is what the tool is given (the gray frames as scanned) beside what it should give
back (the true colors) and where the shots begin. Degradations come in two kinds:

- *of the film itself*, which the true colors share: gate weave (the picture moves), fades (the
  picture darkens) and duplicated frames (3:2 pulldown repeats a scanned frame whole, its dirt
  and grain included);
- *of the print and the scan*, in the gray frames only: exposure flicker, grain, dust and dirt,
  scratches. The truth keeps its colors under them.

Strengths are those of worn 16 mm and 35 mm prints scanned at SD to HD, at 480 lines (sizes in
pixels scale with the frame's height). Each frame's flicker (an exposure), grain and dust are
``vscolorize.core.training.scan``'s, as training shows them, each frame its own; here:

- flicker: each frame's exposure drawn on its own (see that module for the strengths);
- scratch: one line of that module's, from a tenth of the film to nine tenths, its position
  wandering by up to half a pixel a frame, its strength varying in time (running through cuts: it
  is on the print, not in the shot);
- weave: the picture moves as a whole by about 0.6 px RMS each way (at most 2 px), correlated
  from frame to frame (AR(1), 0.6), as a worn gate and perforations give it.
- pulldown: 24 frames made 30 by showing every fourth scanned frame twice (3:2 pulldown's
  repeated frames, without the fields).
- fade: the last 24 frames of every shot but the last fade out to 1 % of the light (a fade to
  black before the next shot: a middle gray ends near L* 2); the hard cut follows the darkest
  frame. The light is scaled as light is (linear RGB), as a printer's fader scales the printing
  light, not the gamma-encoded values.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass

import cv2
import numpy as np
from skimage.color import rgb2xyz, xyz2rgb

from vscolorize.core.color import l_to_gray, srgb_to_l
from vscolorize.core.training.scan import draw_scratch, dust, exposure, grain, scratch_strength_along

__all__ = ["DEGRADATIONS", "OF_THE_FILM", "Film", "degrade", "gray_of"]

# in the order they act: the film's own first, then the print's and the scan's, then the transfer
DEGRADATIONS = ("fade", "weave", "flicker", "grain", "dust", "scratch", "pulldown")
# those the true colors share
OF_THE_FILM = ("fade", "weave", "pulldown")
_FADE_FRAMES = 24
_FADE_FLOOR = 0.01


@dataclass(frozen=True)
class Film:
    """A clip to colorize and what it should look like.

    Attributes:
        truth: (N, H, W, 3) float32 sRGB in [0, 1], the true colors (under the film's own
            degradations: weave, fades, repeated frames).
        gray: (N, H, W) float32 gray levels in [0, 1], as scanned.
        cuts: the frames that start a shot (frame 0 left out).
    """

    truth: np.ndarray
    gray: np.ndarray
    cuts: tuple[int, ...]

    @property
    def shots(self) -> list[range]:
        bounds = [0, *self.cuts, len(self.truth)]
        return [range(a, b) for a, b in itertools.pairwise(bounds)]


def gray_of(rgb: np.ndarray) -> np.ndarray:
    """The gray levels of sRGB frames whose L* is theirs (a*b* = 0)."""
    gray: np.ndarray = l_to_gray(srgb_to_l(rgb))
    return gray


def degrade(truth: np.ndarray, cuts: Iterable[int], kinds: Iterable[str], seed: int = 0) -> Film:
    """``truth`` (N, H, W, 3) sRGB in [0, 1] with shots starting at ``cuts``, degraded by
    ``kinds`` (names from :data:`DEGRADATIONS`, in any order: they act in that order)."""
    kinds = set(kinds)
    unknown = kinds - set(DEGRADATIONS)
    if unknown:
        raise ValueError(f"unknown degradations {sorted(unknown)}; known: {DEGRADATIONS}")
    rng = np.random.default_rng(seed)
    cuts = tuple(sorted(cuts))
    truth = np.asarray(truth, np.float32)
    scale = truth.shape[1] / 480  # strengths are given at 480 lines
    if "fade" in kinds:
        truth = _fade(truth, cuts)
    if "weave" in kinds:
        truth = _weave(truth, rng, scale)
    gray = gray_of(truth)
    if "flicker" in kinds:
        gray = _flicker(gray, rng)
    if "grain" in kinds:
        gray = _grain(gray, rng, scale)
    if "dust" in kinds:
        gray = _dust(gray, rng, scale)
    if "scratch" in kinds:
        gray = _scratch(gray, rng, scale)
    gray = np.clip(gray, 0, 1)
    if "pulldown" in kinds:
        shown = [k for n in range(len(truth)) for k in ([n, n] if n % 4 == 3 else [n])]
        cuts = tuple(shown.index(c) for c in cuts)
        truth, gray = truth[shown], gray[shown]
    return Film(truth, gray.astype(np.float32), cuts)


def _fade(truth: np.ndarray, cuts: tuple[int, ...]) -> np.ndarray:
    out = truth.copy()
    for cut in cuts:
        length = min(_FADE_FRAMES, cut)
        for i in range(length):  # exponential: what a printer's fader does to the light
            light = _FADE_FLOOR ** ((i + 1) / length)
            out[cut - length + i] = xyz2rgb(rgb2xyz(truth[cut - length + i]) * light)
    return out


def _weave(truth: np.ndarray, rng: np.random.Generator, scale: float) -> np.ndarray:
    h, w = truth.shape[1:3]
    shift = np.zeros(2)
    out = np.empty_like(truth)
    for n, frame in enumerate(truth):
        shift = np.clip(0.6 * shift + rng.normal(0, 0.5, 2), -2, 2)
        dx, dy = shift * scale
        matrix = np.array([[1, 0, dx], [0, 1, dy]], np.float32)
        out[n] = cv2.warpAffine(frame, matrix, (w, h), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT)
    return np.clip(out, 0, 1)


def _flicker(gray: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    gain = 1 + np.clip(rng.normal(0, 0.06, len(gray)), -0.15, 0.15)
    offset = rng.normal(0, 0.015, len(gray))
    return np.stack([exposure(frame, g, o) for frame, g, o in zip(gray, gain, offset, strict=True)])


def _grain(gray: np.ndarray, rng: np.random.Generator, scale: float) -> np.ndarray:
    return np.stack([grain(frame, rng, scale) for frame in gray])


def _dust(gray: np.ndarray, rng: np.random.Generator, scale: float) -> np.ndarray:
    return np.stack([dust(frame, rng, scale) for frame in gray])


def _scratch(gray: np.ndarray, rng: np.random.Generator, scale: float) -> np.ndarray:
    """One scratch on the print, from a tenth of the film to nine tenths, its place wandering."""
    out = gray.copy()
    count, h, w = gray.shape
    first, last = count // 10, count * 9 // 10
    x = rng.uniform(0.2, 0.8) * w
    drift = 0.0
    width = rng.uniform(1, 2) * scale
    along = scratch_strength_along(h, rng)
    for n in range(first, last):
        drift = np.clip(0.8 * drift + rng.normal(0, 0.2), -0.5, 0.5)
        x = float(np.clip(x + drift * scale, 2, w - 3))
        out[n] = draw_scratch(out[n], x, width, along, rng.uniform(0.25, 0.4))
    return out
