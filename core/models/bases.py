"""The answers the network starts from, computed beside it on the CPU: the hints spread by
opencv-contrib's fast global smoother (:func:`smooth_hints`) and by Levin's optimization
(:func:`levin_hints`), gathered by :func:`network_bases` into the one tensor the network takes.

They need numpy, SciPy and OpenCV, so they stay outside the network: the network itself is torch
alone (traceable, exportable to ONNX), and the bases are float32 whatever precision its layers run
in.
"""

from __future__ import annotations

import cv2
import numpy as np
import torch

from ..optimization import VARIANCE_FACTOR, downsample, levin_colorize
from .network import ModelConfig

__all__ = ["SMOOTHER_LAMBDA", "SMOOTHER_SIGMA", "levin_hints", "network_bases", "smooth_hints"]

# the fast global smoother's strength and its edge sensitivity (in 8-bit L steps): chosen on the
# validation pictures (5-20 hints, 2 <= sigma <= 8, 100 <= lambda <= 1000)
SMOOTHER_LAMBDA = 1000.0
SMOOTHER_SIGMA = 4.0
_TINY = 1e-30


def network_bases(
    config: ModelConfig,
    l: torch.Tensor,
    ab_hint: torch.Tensor | None = None,
    mask: torch.Tensor | None = None,
) -> torch.Tensor:
    """The bases the network of ``config`` takes beside its inputs, as one tensor.

    Args:
        config: the network's config (its ``base`` and base settings).
        l: (B, 1, H, W) L in [0, 100].
        ab_hint: (B, 2, H, W) hint a*b*, anything where ``mask`` is 0; None: no hints.
        mask: (B, 1, H, W) in [0, 1]; None: no hints.

    Returns:
        (B, ``config.base_channels``, H, W) on ``l``'s device, in ``ab_hint``'s dtype: for the
        smoother and Levin bases the smoother's answer (a*b*), its confidence and the distance to
        the nearest hint (:func:`smooth_hints`), for the Levin base then Levin's answer (a*b*,
        :func:`levin_hints`); no channels for the pull-push base.
    """
    if ab_hint is None or mask is None:
        ab_hint = l.new_zeros(l.shape[0], 2, *l.shape[2:])
        mask = l.new_zeros(l.shape[0], 1, *l.shape[2:])
    if config.base == "pull-push":
        return ab_hint.new_zeros(l.shape[0], 0, *l.shape[2:]).to(l.device)
    parts = list(smooth_hints(l, ab_hint, mask))
    if config.base == "levin":
        texture = (config.base_texture, config.base_texture_sigma, config.base_texture_reach)
        parts.append(levin_hints(l, ab_hint, mask, config.base_scale, config.base_variance, *texture))
    return torch.cat(parts, 1).to(l.device)


def levin_hints(
    l: torch.Tensor,
    ab: torch.Tensor,
    mask: torch.Tensor,
    scale: float,
    variance_factor: float = VARIANCE_FACTOR,
    texture: float = 0.0,
    texture_sigma: float = 20.0,
    texture_reach: float = 0.2,
) -> torch.Tensor:
    """Spread hints over the picture by Levin's optimization (the classical engine's), run at
    ``scale`` of the picture's size and brought back by bilinear interpolation.

    L is reduced by area; hints by coverage-weighted area, so a hint smaller than a pixel there
    becomes a soft constraint as strong as its coverage (as the engine's own coarse levels do).
    Runs on the CPU whatever the device (a sparse solve; the tensors travel).

    With ``texture`` above 0 it is solved twice: on L, and on L smoothed by the fast global
    smoother (``texture`` its strength, ``texture_sigma`` the 8-bit L steps it keeps as edges),
    where grain and texture no longer stop a hint's color. A pixel takes the second answer in
    proportion to its distance from the nearest hint, all of it from ``texture_reach`` of the
    long side on: near hints L's fine edges separate them, far from every hint the colors have
    crossed the texture in between (a wooden floor, foliage, film grain) rather than fading at
    each grain of it.

    Args:
        l: (B, 1, H, W) L in [0, 100].
        ab: (B, 2, H, W) hint a*b*, anything where ``mask`` is 0.
        mask: (B, 1, H, W) in [0, 1].
        scale: in (0, 1].
        variance_factor: as in :func:`vscolorize.core.optimization.levin_weights`.

    Returns:
        (B, 2, H, W) a*b* on ``ab``'s device (0 everywhere without hints).
    """
    height, width = l.shape[2:]
    size = (max(round(width * scale), 8), max(round(height * scale), 8))
    l_np = l[:, 0].detach().float().cpu().numpy()
    ab_np = ab.detach().float().cpu().numpy().transpose(0, 2, 3, 1)
    mask_np = mask[:, 0].detach().float().cpu().numpy()
    out: list[np.ndarray] = []
    for lightness, hint, weight in zip(l_np, ab_np, mask_np, strict=True):
        if not weight.any():
            out.append(np.zeros((height, width, 2), np.float32))
            continue
        small, values, coverage = downsample(lightness / 100, hint, weight, size)
        spread = levin_colorize(small, values, coverage, variance_factor=variance_factor)
        if texture > 0:
            guide = np.clip(small * 255 + 0.5, 0, 255).astype(np.uint8)
            plain = cv2.ximgproc.fastGlobalSmootherFilter(guide, small, texture, texture_sigma)
            far = levin_colorize(plain, values, coverage, variance_factor=variance_factor)
            distance = cv2.distanceTransform((coverage <= 0).astype(np.uint8), cv2.DIST_L2, 3)
            share = np.minimum(distance / (max(coverage.shape) * texture_reach), 1)[..., None]
            spread = share * far + (1 - share) * spread
        out.append(cv2.resize(spread, (width, height), interpolation=cv2.INTER_LINEAR))
    return torch.from_numpy(np.stack(out)).permute(0, 3, 1, 2).to(ab.device, ab.dtype)


def smooth_hints(
    l: torch.Tensor, ab: torch.Tensor, mask: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Spread hints over the picture along its edges: normalized interpolation by opencv-contrib's
    fast global smoother (Min et al. 2014) steered by L.

    The hint map times the mask and the mask itself are smoothed alike; their ratio is the
    hints' weighted mean, where the weights fall off with distance and fall off much faster
    across edges in L. It costs about 10 ms at 256x456 on one CPU core (the CPU does it on any
    device: OpenCV has no CUDA version of it; the tensors travel, a few hundred KB).

    Args:
        l: (B, 1, H, W) L in [0, 100].
        ab: (B, 2, H, W) hint a*b*, anything where ``mask`` is 0.
        mask: (B, 1, H, W) in [0, 1].

    Returns:
        ``(base, confidence, distance)``, on ``ab``'s device: (B, 2, H, W) a*b* (0 where no hint
        reaches, and everywhere without hints); (B, 1, H, W) in [0, 1], the smoothed mask on a log
        scale (1 on a hint, 0 where nothing arrives); (B, 1, H, W) the distance to the nearest
        hinted pixel over the picture's long side, at most 1 (1 everywhere without hints).
    """
    l_np = l[:, 0].detach().float().cpu().numpy()
    ab_np = ab.detach().float().cpu().numpy()
    mask_np = mask[:, 0].detach().float().cpu().numpy()
    bases, confidences, distances = [], [], []
    for lightness, hint, weight in zip(l_np, ab_np, mask_np, strict=True):
        guide = np.clip(lightness * 2.55 + 0.5, 0, 255).astype(np.uint8)
        stack = np.dstack([hint[0] * weight, hint[1] * weight, weight])
        spread = cv2.ximgproc.fastGlobalSmootherFilter(guide, stack, SMOOTHER_LAMBDA, SMOOTHER_SIGMA)
        total = spread[..., 2:]
        reached = total > _TINY
        bases.append(np.where(reached, spread[..., :2] / np.where(reached, total, 1), 0))
        confidences.append(np.clip(1 + np.log10(np.clip(total[..., 0], _TINY, 1)) / 30, 0, 1))
        far = cv2.distanceTransform((weight <= 0).astype(np.uint8), cv2.DIST_L2, 3)
        distances.append(np.minimum(far / max(weight.shape), 1))

    def tensor(parts: list[np.ndarray], channels_last: bool) -> torch.Tensor:
        t = torch.from_numpy(np.stack(parts).astype(np.float32))
        t = t.permute(0, 3, 1, 2) if channels_last else t[:, None]
        return t.to(ab.device, ab.dtype)

    return tensor(bases, True), tensor(confidences, False), tensor(distances, False)
