"""The learned guided colorizer: a U-Net from L + a*b* hints + hint mask to a*b* (after Zhang et al.
2017's user-guided network), and its weights files.

Inputs are scaled as in that paper: ``(L - 50) / 100``, ``ab / 110`` and a {0, 1} mask; the output
is ``tanh(x) * 110``. A frozen :class:`ModelConfig` builds the network, and every weights file
carries its config and a checksum of its tensors in the safetensors metadata, so a file describes
itself and a damaged one is refused. Training lives in ``training.py``; nothing here imports it.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch
from safetensors import safe_open
from safetensors.torch import save_file
from torch import nn
from torch.nn import functional as F

from .color import AB_SCALE, normalize_ab, normalize_l
from .errors import ModelUnavailableError
from .optimization import VARIANCE_FACTOR, downsample, levin_colorize

__all__ = [
    "BASES",
    "FAST",
    "LARGE",
    "ColorUNet",
    "ModelConfig",
    "levin_hints",
    "load_model",
    "save_model",
    "smooth_hints",
    "spread_hints",
]

_FORMAT = "vscolorize.model"
_FORMAT_VERSION = 1
# network input channels: L, hint a*b*, mask, pull-push spread of the hints (a*b*) and its reach;
# with the smoother base also the base (a*b*), its confidence and the distance to the nearest hint;
# with the Levin base all of those and Levin's answer (a*b*) last
_INPUTS = {"pull-push": 7, "smoother": 11, "levin": 13}
BASES = tuple(_INPUTS)
# the fast global smoother's strength and its edge sensitivity (in 8-bit L steps): chosen on the
# validation pictures (5-20 hints, 2 <= sigma <= 8, 100 <= lambda <= 1000)
SMOOTHER_LAMBDA = 1000.0
SMOOTHER_SIGMA = 4.0
_TINY = 1e-30


@dataclass(frozen=True)
class ModelConfig:
    """Everything that shapes the network.

    Attributes:
        name: what the size is called ("fast" for CPUs, "large" for GPUs).
        widths: channels at each scale, full working resolution first; each further entry halves
            the resolution.
        depth: convolutions per scale in the encoder and the decoder.
        working_short_side: the short side, in pixels, the picture is scaled to for inference.
        base: the answer the network starts from. ``"pull-push"`` (the first models): the network
            predicts a*b* itself, given the pull-push spread of the hints as an input.
            ``"smoother"``: the hints spread by an edge-aware smoother (:func:`smooth_hints`);
            the network predicts a correction to it, starting at zero.
            ``"levin"``: the hints spread by Levin's optimization at ``base_scale`` of the
            working size (:func:`levin_hints`), mixed with ``base_smoother`` of the smoother's;
            the network sees both answers and predicts a correction to the mix, starting at zero.
        base_scale: the size Levin's optimization runs at, relative to the working size.
        base_variance: Levin's weights' sigma^2 as a share of the local variance
            (:func:`vscolorize.core.optimization.levin_weights`).
        base_smoother: the share of the smoother's answer in the base, the rest Levin's.
        base_texture: how far Levin's optimization carries hints through texture: 0 (files
            before session 16): L's own edges stop them everywhere; above 0: away from the hints
            Levin's weights come from L with its texture smoothed away (the fast global smoother
            at this strength, edges of ``base_texture_sigma`` 8-bit L steps kept), blended in
            linearly from the hints out to ``base_texture_reach`` of the picture's long side
            (:func:`levin_hints`).
        base_texture_sigma: see ``base_texture``.
        base_texture_reach: see ``base_texture``.
        hinted_correction: how much of its correction the network adds to the base of a picture
            that has hints (all of it without hints): below 1 where the network is surer of its
            corrections than pictures it never saw bear out; calibrated after training on the
            validation pictures (:func:`vscolorize.core.training.calibrate`), 1 while training.
    """

    name: str = "fast"
    widths: tuple[int, ...] = (16, 32, 64, 128)
    depth: int = 2
    working_short_side: int = 256
    base: str = "pull-push"
    base_scale: float = 0.625
    base_variance: float = VARIANCE_FACTOR
    base_smoother: float = 0.0
    base_texture: float = 0.0
    base_texture_sigma: float = 20.0
    base_texture_reach: float = 0.2
    hinted_correction: float = 1.0

    @property
    def multiple(self) -> int:
        """Sizes fed to the network must be multiples of this."""
        return 2 ** (len(self.widths) - 1)

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> ModelConfig:
        raw = json.loads(text)
        known = {f.name for f in fields(cls)}
        values: dict[str, Any] = {
            k: tuple(v) if isinstance(v, list) else v for k, v in raw.items() if k in known
        }
        return cls(**values)


# the Levin base's settings, chosen on the validation pictures (RGB PSNR at 5 / 20 / 100 hints;
# the classical engine: 23.98 / 26.07 / 28.78): Levin's own weights at 0.625 of the working size
# 23.96 / 26.07 / 28.83; sharper weights (variance share 0.2) 24.06 / 26.39 at 5 / 20, and a
# quarter of the smoother's answer mixed in 24.16 / 26.53 / 29.16; shares of 0.1 and below break
# down (MODEL_CARD.md, run 4); carried through texture far from the hints (session 16, the shipped
# network on top, 5 / 20 / 100 hints: 24.22 / 26.64 / 29.20 before, 24.27 / 26.76 / 29.25 with
# strength 30, edges of 20 L steps, reach 0.2; strength 100 or 300, edges 10, reach 0.1 or 0.3
# within 0.02 at 5 hints, 0.03-0.09 lower at 20)
_LEVIN_BASE = ModelConfig(
    base="levin",
    base_scale=0.625,
    base_variance=0.2,
    base_smoother=0.25,
    base_texture=30.0,
    base_texture_sigma=20.0,
    base_texture_reach=0.2,
)
FAST = replace(_LEVIN_BASE, name="fast", widths=(16, 32, 64, 128), depth=2, working_short_side=256)
LARGE = replace(_LEVIN_BASE, name="large", widths=(48, 96, 192, 384), depth=3, working_short_side=384)


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


def spread_hints(ab: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Fill the whole picture from sparse hints by pull-push (Gortler et al. 1996).

    Pull: a pyramid of hint sums and hint coverage, halving down to one pixel. Push: from the
    coarsest level up, a cell covered by hints keeps their mean; a cell without hints takes the
    coarser level's value. The result is a smooth, dense first guess that costs a few
    milliseconds; the network sees it beside the raw hints and decides where it holds (edges in L
    stop it, the raw mask says where it is exact).

    Args:
        ab: (B, C, H, W) hint values, anything where ``mask`` is 0.
        mask: (B, 1, H, W) in [0, 1].

    Returns:
        ``(dense, reach)``: (B, C, H, W) values and (B, 1, H, W) in [0, 1], the pyramid level the
        value came from divided by the number of levels (0 on a hint, 1 with no hint at all).
    """
    sums, weights = [ab * mask], [mask]
    while max(sums[-1].shape[2:]) > 1:
        sums.append(F.avg_pool2d(sums[-1], 2, ceil_mode=True))
        weights.append(F.avg_pool2d(weights[-1], 2, ceil_mode=True))
    levels = len(sums)
    covered = (weights[-1] > 0).to(ab.dtype)
    dense = sums[-1] / weights[-1].clamp_min(1e-8) * covered
    reach = (levels - 1) * covered + levels * (1 - covered)
    for level in range(levels - 2, -1, -1):
        size = sums[level].shape[2:]
        # a cell holding at least one hinted pixel's worth of coverage keeps its own mean
        alpha = (weights[level] * 4**level).clamp(max=1)
        own = sums[level] / weights[level].clamp_min(1e-8)
        coarse = F.interpolate(dense, size=size, mode="bilinear", align_corners=False)
        coarse_reach = F.interpolate(reach, size=size, mode="bilinear", align_corners=False)
        dense = alpha * own + (1 - alpha) * coarse
        reach = alpha * level + (1 - alpha) * coarse_reach
    return dense, reach / levels


class _ReLU(nn.Module):
    """ReLU in place. On bfloat16 without gradients (a CPU's inference, see
    ``vscolorize.core.inference.network_precision``) it clamps the values' bits read as int16:
    bfloat16's sign bit is int16's, so negatives become +0 and the rest stay as they are, the
    same values as torch's ReLU, 3x faster (torch's bfloat16 ReLU is slower than float32's)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dtype == torch.bfloat16 and not torch.is_grad_enabled():
            x.view(torch.int16).clamp_(min=0)
            return x
        return F.relu(x, inplace=True)


def _convs(in_channels: int, out_channels: int, depth: int) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i in range(depth):
        layers += [nn.Conv2d(in_channels if i == 0 else out_channels, out_channels, 3, padding=1), _ReLU()]
    return nn.Sequential(*layers)


class ColorUNet(nn.Module):
    """U-Net: ``forward(l, ab_hint, mask) -> ab``.

    Shapes: ``l`` (B, 1, H, W) in [0, 100]; ``ab_hint`` (B, 2, H, W) a*b*; ``mask`` (B, 1, H, W) in
    {0, 1}; H and W multiples of ``config.multiple``. Returns (B, 2, H, W) a*b* in [-110, 110].
    Without hints (``ab_hint``/``mask`` None) it colorizes automatically.
    """

    def __init__(self, config: ModelConfig = FAST) -> None:
        super().__init__()
        self.config = config
        w = config.widths
        if config.base not in _INPUTS:
            raise ValueError(f"unknown base {config.base!r}; one of {sorted(_INPUTS)}")
        self.stem = _convs(_INPUTS[config.base], w[0], config.depth)
        self.down = nn.ModuleList(
            nn.Sequential(
                nn.Conv2d(w[i], w[i + 1], 3, stride=2, padding=1),
                _ReLU(),
                _convs(w[i + 1], w[i + 1], config.depth - 1 or 1),
            )
            for i in range(len(w) - 1)
        )
        self.up = nn.ModuleList(_convs(w[i + 1] + w[i], w[i], config.depth) for i in range(len(w) - 1))
        self.head = nn.Conv2d(w[0], 2, 1)
        if config.base != "pull-push":
            # global context: the deepest features pooled over the whole picture, fed back to
            # every place (what is in the picture says which colors are likely)
            self.context = nn.Sequential(nn.Linear(w[-1], w[-1]), nn.ReLU(inplace=True))
            # the correction starts at zero: training starts from the smoother's answer
            for parameter in self.head.parameters():
                nn.init.zeros_(parameter)

    def forward(
        self, l: torch.Tensor, ab_hint: torch.Tensor | None = None, mask: torch.Tensor | None = None
    ) -> torch.Tensor:
        if ab_hint is None or mask is None:
            ab_hint = l.new_zeros(l.shape[0], 2, *l.shape[2:])
            mask = l.new_zeros(l.shape[0], 1, *l.shape[2:])
        # the hint's color as it is wherever there is one; a carried hint's weaker mask says how
        # far to trust it (training sees masks of 0 and 1 only: there this is ab * mask)
        hint = normalize_ab(ab_hint) * (mask > 0)
        dense, reach = spread_hints(hint, mask)
        inputs = [normalize_l(l), hint, mask, dense, reach]
        if self.config.base != "pull-push":
            base, confidence, distance = smooth_hints(l, ab_hint, mask)
            base = normalize_ab(base)
            inputs += [base, confidence, distance]
        if self.config.base == "levin":
            c = self.config
            texture = (c.base_texture, c.base_texture_sigma, c.base_texture_reach)
            levin = normalize_ab(levin_hints(l, ab_hint, mask, c.base_scale, c.base_variance, *texture))
            inputs.append(levin)
            base = self.config.base_smoother * base + (1 - self.config.base_smoother) * levin
        skips = [self.stem(torch.cat(inputs, 1))]
        for down in self.down:
            skips.append(down(skips[-1]))
        x = skips.pop()
        if self.config.base != "pull-push":
            x = x + self.context(x.mean((2, 3)))[:, :, None, None]
        for up in reversed(self.up):
            skip = skips.pop()
            x = F.interpolate(x, size=skip.shape[2:], mode="bilinear", align_corners=False)
            x = up(torch.cat([x, skip], 1))
        if self.config.base != "pull-push":
            correction = self.head(x)
            if self.config.hinted_correction != 1:
                hinted = mask.flatten(1).amax(1) > 0
                scale = torch.where(hinted, self.config.hinted_correction, 1.0)
                correction = correction * scale.to(correction.dtype)[:, None, None, None]
            return (base + correction).clamp(-1, 1) * AB_SCALE
        return torch.tanh(self.head(x)) * AB_SCALE


def _checksum(tensors: dict[str, torch.Tensor]) -> str:
    digest = hashlib.sha256()
    for key in sorted(tensors):
        digest.update(key.encode())
        digest.update(tensors[key].detach().to("cpu", torch.float32).contiguous().numpy().tobytes())
    return digest.hexdigest()


def save_model(model: ColorUNet, path: str | os.PathLike[str], **info: str) -> None:
    """Write weights as safetensors (float16) with the config, a checksum and ``info`` (strings)."""
    tensors = {k: v.detach().to("cpu", torch.float16).contiguous() for k, v in model.state_dict().items()}
    metadata = {
        **info,
        "format": _FORMAT,
        "format_version": str(_FORMAT_VERSION),
        "config": model.config.to_json(),
        "sha256": _checksum(tensors),
    }
    target = Path(path)
    tmp = target.with_name(f".{target.name}.tmp")
    save_file(tensors, str(tmp), metadata=metadata)
    os.chmod(tmp, 0o644)  # safetensors writes 0600; weights get installed for every user to read
    os.replace(tmp, target)


def load_model(path: str | os.PathLike[str], *, device: str = "cpu") -> ColorUNet:
    """Read a weights file written by :func:`save_model`, checking its format and checksum.

    Raises:
        ModelUnavailableError: missing, not a vscolorize model, or damaged.
    """
    name = os.fspath(path)
    if not Path(path).is_file():
        raise ModelUnavailableError(f"{name}: no such model file")
    try:
        with safe_open(name, framework="pt") as f:
            metadata = f.metadata() or {}
            tensors = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118 (safe_open is no dict)
    except Exception as e:  # safetensors raises its own error types for damaged headers
        raise ModelUnavailableError(f"{name}: not a readable safetensors file ({e})") from None
    if metadata.get("format") != _FORMAT:
        raise ModelUnavailableError(f"{name}: not a vscolorize model (no '{_FORMAT}' metadata)")
    if metadata.get("sha256") != _checksum(tensors):
        raise ModelUnavailableError(f"{name}: checksum mismatch: the file is damaged")
    model = ColorUNet(ModelConfig.from_json(metadata["config"]))
    try:
        model.load_state_dict({k: v.float() for k, v in tensors.items()})
    except RuntimeError:
        raise ModelUnavailableError(
            f"{name}: made for another version of the network; retrain or reinstall it"
        ) from None
    return model.to(device).eval()
