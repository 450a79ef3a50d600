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
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import torch
from safetensors import safe_open
from safetensors.torch import save_file
from torch import nn
from torch.nn import functional as F

from .color import AB_SCALE, normalize_ab, normalize_l
from .errors import ModelUnavailableError

__all__ = ["FAST", "LARGE", "ColorUNet", "ModelConfig", "load_model", "save_model", "spread_hints"]

_FORMAT = "vscolorize.model"
_FORMAT_VERSION = 1
# network input channels: L, hint a*b*, mask, pull-push spread of the hints (a*b*) and its reach
_INPUTS = 7


@dataclass(frozen=True)
class ModelConfig:
    """Everything that shapes the network.

    Attributes:
        name: what the size is called ("fast" for CPUs, "large" for GPUs).
        widths: channels at each scale, full working resolution first; each further entry halves
            the resolution.
        depth: convolutions per scale in the encoder and the decoder.
        working_short_side: the short side, in pixels, the picture is scaled to for inference.
    """

    name: str = "fast"
    widths: tuple[int, ...] = (16, 32, 64, 128)
    depth: int = 2
    working_short_side: int = 256

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


FAST = ModelConfig(name="fast", widths=(16, 32, 64, 128), depth=2, working_short_side=256)
LARGE = ModelConfig(name="large", widths=(48, 96, 192, 384), depth=3, working_short_side=384)


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


def _convs(in_channels: int, out_channels: int, depth: int) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i in range(depth):
        layers += [nn.Conv2d(in_channels if i == 0 else out_channels, out_channels, 3, padding=1),
                   nn.ReLU(inplace=True)]  # fmt: skip
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
        self.stem = _convs(_INPUTS, w[0], config.depth)
        self.down = nn.ModuleList(
            nn.Sequential(nn.Conv2d(w[i], w[i + 1], 3, stride=2, padding=1), nn.ReLU(inplace=True),
                          _convs(w[i + 1], w[i + 1], config.depth - 1 or 1))
            for i in range(len(w) - 1)
        )  # fmt: skip
        self.up = nn.ModuleList(
            _convs(w[i + 1] + w[i], w[i], config.depth) for i in range(len(w) - 1)
        )
        self.head = nn.Conv2d(w[0], 2, 1)

    def forward(
        self, l: torch.Tensor, ab_hint: torch.Tensor | None = None, mask: torch.Tensor | None = None
    ) -> torch.Tensor:
        if ab_hint is None or mask is None:
            ab_hint = l.new_zeros(l.shape[0], 2, *l.shape[2:])
            mask = l.new_zeros(l.shape[0], 1, *l.shape[2:])
        hint = normalize_ab(ab_hint) * mask
        dense, reach = spread_hints(hint, mask)
        x = torch.cat([normalize_l(l), hint, mask, dense, reach], 1)
        skips = [self.stem(x)]
        for down in self.down:
            skips.append(down(skips[-1]))
        x = skips.pop()
        for up in reversed(self.up):
            skip = skips.pop()
            x = F.interpolate(x, size=skip.shape[2:], mode="bilinear", align_corners=False)
            x = up(torch.cat([x, skip], 1))
        return torch.tanh(self.head(x)) * AB_SCALE


def _checksum(tensors: dict[str, torch.Tensor]) -> str:
    digest = hashlib.sha256()
    for key in sorted(tensors):
        digest.update(key.encode())
        digest.update(tensors[key].detach().to("cpu", torch.float32).contiguous().numpy().tobytes())
    return digest.hexdigest()


def save_model(model: ColorUNet, path: str | os.PathLike[str], **info: str) -> None:
    """Write weights as safetensors (float16) with the config, a checksum and ``info`` (strings)."""
    tensors = {
        k: v.detach().to("cpu", torch.float16).contiguous() for k, v in model.state_dict().items()
    }
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
