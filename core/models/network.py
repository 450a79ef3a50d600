"""The guided colorizer's network: a U-Net from L + a*b* hints + hint mask (+ the bases computed
beside it) to a*b*, after Zhang et al. 2017's user-guided network.

Inputs are scaled as in that paper: ``(L - 50) / 100``, ``ab / 110`` and a {0, 1} mask; the output
is ``tanh(x) * 110`` (pull-push base), or the base plus a learned correction. The forward pass is
torch alone, so the network can be traced, compiled and exported to ONNX; the bases that need
numpy, SciPy and OpenCV (:mod:`vscolorize.core.models.bases`) are computed outside it and passed
in as one tensor.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from ..color import AB_SCALE, normalize_ab, normalize_l
from ..optimization import VARIANCE_FACTOR

__all__ = [
    "BASES",
    "BASE_CHANNELS",
    "FAST",
    "LARGE",
    "ColorUNet",
    "ModelConfig",
    "spread_hints",
]

# the channels of the bases tensor each base needs (see :func:`vscolorize.core.models.network_bases`):
# the smoother's answer (a*b*), its confidence and the distance to the nearest hint; with the
# Levin base also Levin's answer (a*b*) last
BASE_CHANNELS = {"pull-push": 0, "smoother": 4, "levin": 6}
BASES = tuple(BASE_CHANNELS)
# network input channels before the bases: L, hint a*b*, mask, the pull-push spread of the hints
# (a*b*) and its reach
_HINT_INPUTS = 7


@dataclass(frozen=True)
class ModelConfig:
    """Everything that shapes the network.

    Attributes:
        name: what the size is called ("fast" for CPUs, "large" for GPUs).
        widths: channels at each scale, full working resolution first; each further entry halves
            the resolution.
        depth: convolutions per scale in the encoder and the decoder.
        working_short_side: the short side, in pixels, the picture is scaled to for inference.
        base: the answer the network starts from. ``"pull-push"``: the network predicts a*b*
            itself, given the pull-push spread of the hints as an input (the default of a config
            that names no base).
            ``"smoother"``: the hints spread by an edge-aware smoother
            (:func:`vscolorize.core.models.smooth_hints`); the network predicts a correction to
            it, starting at zero.
            ``"levin"``: the hints spread by Levin's optimization at ``base_scale`` of the
            working size (:func:`vscolorize.core.models.levin_hints`), mixed with
            ``base_smoother`` of the smoother's; the network sees both answers and predicts a
            correction to the mix, starting at zero.
        base_scale: the size Levin's optimization runs at, relative to the working size.
        base_variance: Levin's weights' sigma^2 as a share of the local variance
            (:func:`vscolorize.core.optimization.levin_weights`).
        base_smoother: the share of the smoother's answer in the base, the rest Levin's.
        base_texture: how far Levin's optimization carries hints through texture: 0: L's own
            edges stop them everywhere; above 0: away from the hints Levin's weights come from L
            with its texture smoothed away (the fast global smoother at this strength, edges of
            ``base_texture_sigma`` 8-bit L steps kept), blended in linearly from the hints out
            to ``base_texture_reach`` of the picture's long side
            (:func:`vscolorize.core.models.levin_hints`).
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

    @property
    def base_channels(self) -> int:
        """The channels of the bases tensor the network takes (0 for the pull-push base)."""
        return BASE_CHANNELS[self.base]

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
# down (MODEL_CARD.md). Carried through texture far from the hints (the shipped network on top,
# 5 / 20 / 100 hints): 24.22 / 26.64 / 29.20 without, 24.27 / 26.76 / 29.25 with strength 30,
# edges of 20 L steps, reach 0.2; strength 100 or 300, edges 10, reach 0.1 or 0.3 within 0.02 at
# 5 hints, 0.03-0.09 lower at 20
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
    # in float32 whatever the network runs in: the sums span 4**levels, beyond float16's range
    dtype, ab, mask = ab.dtype, ab.float(), mask.float()
    sums, weights = [ab * mask], [mask]
    while max(sums[-1].shape[2:]) > 1:
        sums.append(_halve(sums[-1]))
        weights.append(_halve(weights[-1]))
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
    return dense.to(dtype), (reach / levels).to(dtype)


def _halve(x: torch.Tensor) -> torch.Tensor:
    """(B, C, H, W) -> half the size, each cell the mean of the pixels it covers (a last odd row
    or column alone). A side of 1 is pooled by a window of 1: the same means, and a window no
    larger than the picture, which OpenVINO's ONNX reader needs. (A graph exported for any size
    keeps windows of 2: there the side is not known.)"""

    def window(side: int) -> int:
        return 1 if isinstance(side, int) and side == 1 else 2

    height, width = x.shape[2:]
    return F.avg_pool2d(x, (window(height), window(width)), ceil_mode=True)


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
    """U-Net: ``forward(l, ab_hint, mask, bases) -> ab``, torch alone.

    Shapes: ``l`` (B, 1, H, W) in [0, 100]; ``ab_hint`` (B, 2, H, W) a*b*; ``mask`` (B, 1, H, W) in
    {0, 1}; ``bases`` (B, ``config.base_channels``, H, W) from
    :func:`vscolorize.core.models.network_bases` (None or no channels for the pull-push base); H
    and W multiples of ``config.multiple``. Returns (B, 2, H, W) a*b* in [-110, 110].
    Without hints (``ab_hint``/``mask`` None) it colorizes automatically; ``bases`` may then be
    None too (the bases of no hints are constants).
    """

    def __init__(self, config: ModelConfig = FAST) -> None:
        super().__init__()
        self.config = config
        w = config.widths
        if config.base not in BASE_CHANNELS:
            raise ValueError(f"unknown base {config.base!r}; one of {sorted(BASE_CHANNELS)}")
        self.stem = _convs(_HINT_INPUTS + config.base_channels, w[0], config.depth)
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
            # the correction starts at zero: training starts from the base's answer
            for parameter in self.head.parameters():
                nn.init.zeros_(parameter)

    def forward(
        self,
        l: torch.Tensor,
        ab_hint: torch.Tensor | None = None,
        mask: torch.Tensor | None = None,
        bases: torch.Tensor | None = None,
    ) -> torch.Tensor:
        no_hints = ab_hint is None or mask is None
        if ab_hint is None or mask is None:
            ab_hint = l.new_zeros(l.shape[0], 2, *l.shape[2:])
            mask = l.new_zeros(l.shape[0], 1, *l.shape[2:])
        bases = self._check_bases(l, bases, no_hints)
        # the hint's color as it is wherever there is one; a carried hint's weaker mask says how
        # far to trust it (training sees masks of 0 and 1 only: there this is ab * mask)
        hint = normalize_ab(ab_hint) * (mask > 0)
        dense, reach = spread_hints(hint, mask)
        inputs = [normalize_l(l), hint, mask, dense, reach]
        if self.config.base != "pull-push":
            base = normalize_ab(bases[:, 0:2])
            inputs += [base, bases[:, 2:3], bases[:, 3:4]]  # the smoother's answer, confidence, distance
        if self.config.base == "levin":
            levin = normalize_ab(bases[:, 4:6])
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

    def _check_bases(self, l: torch.Tensor, bases: torch.Tensor | None, no_hints: bool) -> torch.Tensor:
        """``bases`` as given, or those of no hints (the smoother's and Levin's answers gray, no
        confidence, every pixel as far from a hint as there is) where none were given."""
        channels = self.config.base_channels
        if bases is None:
            if channels and not no_hints:
                raise ValueError(
                    f"ColorUNet: the {self.config.base} base needs the bases tensor with the hints "
                    "(vscolorize.core.models.network_bases)"
                )
            bases = l.new_zeros(l.shape[0], channels, *l.shape[2:])
            if channels:
                bases[:, 3] = 1  # the distance to the nearest hint, at most 1
        elif bases.shape[1] != channels:
            raise ValueError(
                f"ColorUNet: the {self.config.base} base takes {channels} base channels, not {bases.shape[1]}"
            )
        return bases
