"""The learned engine: the guided colorizer network (``vscolorize.core.models``) on a device.

The network runs at a working size (short side ``config.working_short_side``, sides multiples of
16); hints are painted directly at that size (they are resolution-free), and its bases (Levin's
optimization and the edge-aware smoother, numpy and OpenCV on the CPU) are computed beside it and
passed in as tensors: the network itself is pure torch. The members of an ensemble that share a
variant and a scale run as one batch; the pipeline combines them.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Sequence
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np
import torch
from torch.nn import functional as F

from ..errors import DeviceError, ModelUnavailableError
from ..hints import Keyframe, paint_hints
from ..models import ColorUNet, load_model, network_bases
from ..upsample import upsample_ab
from . import register
from .members import Member

if TYPE_CHECKING:
    from ..pipeline import Settings

__all__ = [
    "MODEL_NAMES",
    "Colorizer",
    "LearnedEngine",
    "get_colorizer",
    "installed_models",
    "load_network",
    "network_precision",
    "pick_model",
    "variant_paths",
    "working_size",
]

log = logging.getLogger(__name__)

MODEL_NAMES = ("fast", "large")
_SIZE_MULTIPLE = 16
_FIRST = (Member(0),)


def _weights_path(name: str) -> Path:
    return Path(str(resources.files("vscolorize.core") / "weights" / f"{name}.safetensors"))


def installed_models() -> tuple[str, ...]:
    """The model sizes whose weights ship in this installation."""
    return tuple(n for n in MODEL_NAMES if _weights_path(n).is_file())


def working_size(height: int, width: int, short_side: int) -> tuple[int, int]:
    """The (height, width) the network sees: short side at most ``short_side``, multiples of 16."""
    scale = min(1.0, short_side / min(height, width))

    def snap(v: float) -> int:
        return max(_SIZE_MULTIPLE, round(v / _SIZE_MULTIPLE) * _SIZE_MULTIPLE)

    return snap(height * scale), snap(width * scale)


def network_precision(device: str) -> torch.dtype:
    """The precision the network's layers run in on ``device``; its inputs, its base (Levin's
    optimization and the smoother) and the sum of base and correction stay float32.

    float16 on CUDA; bfloat16 on a CPU that multiplies it in hardware: Intel AMX (the fast
    model's layers at 256x448 take 29 ms instead of 79 on one core) or AVX-512 BF16's dot
    products (AMD Zen 4 and later, Intel Cooper Lake: 272x480 in 64 ms instead of 156), a*b*
    within a few tenths of a unit of float32's; float32 on every other CPU, where bfloat16
    would be emulated. The choice depends on the machine alone, so a frame stays a pure
    function on one machine.
    """
    if device.startswith("cuda"):
        return torch.float16
    capabilities = torch.cpu.get_capabilities()
    if capabilities.get("amx_bf16", False) or capabilities.get("avx512_bf16", False):
        return torch.bfloat16
    return torch.float32


class Colorizer:
    """One or more loaded networks (variants of one model) on a device; thread-safe: calls from
    several threads run at once (a forward pass changes nothing in the networks).

    Args:
        models: the model variants (one model, or several of the same working size).
        device: the torch device they are on.
        precision: the dtype the network's layers run in; None: the device's best (see
            :func:`network_precision`).
    """

    def __init__(
        self,
        models: ColorUNet | Sequence[ColorUNet],
        device: str,
        *,
        precision: torch.dtype | None = None,
    ) -> None:
        self.models = [m.to(device).eval() for m in ([models] if isinstance(models, ColorUNet) else models)]
        if not device.startswith("cuda"):
            # oneDNN's convolutions run faster on channels-last weights (the fast model at
            # 256x448, one thread: 227 -> 157 ms idle, 227 -> 199 ms on a loaded machine),
            # outputs within 2e-5 of a*b*
            self.models = [m.to(memory_format=torch.channels_last) for m in self.models]
        self.device = device
        self.config = self.models[0].config
        if any(m.config.working_short_side != self.config.working_short_side for m in self.models):
            raise ValueError("ensemble: the model variants must share one working size")
        self.precision = network_precision(device) if precision is None else precision

    @torch.inference_mode()
    def views(
        self,
        lightness: Sequence[np.ndarray],
        keyframes: Sequence[Keyframe | None],
        members: Sequence[Member] = _FIRST,
    ) -> torch.Tensor:
        """Every member's prediction at the working size: (N, B, 2, h, w) float32 on the device.

        Members that share a variant and a scale run as one batch (mirrored copies stacked after
        the pictures), and each scale's inputs are made once, whichever variants see them.

        Args:
            lightness: (H, W) L* in [0, 100] per picture, all the same size.
            keyframes: the hints of each picture (or None).
            members: which predictions (see :func:`vscolorize.core.engines.members.plan_members`).
        """
        height, width = lightness[0].shape
        size = working_size(height, width, self.config.working_short_side)
        count = len(lightness)
        predictions: list[torch.Tensor] = []
        prepared: dict[float, tuple[torch.Tensor, torch.Tensor, torch.Tensor]] = {}
        for variant, scale in dict.fromkeys((m.variant, m.scale) for m in members):
            flips = [m.flip for m in members if (m.variant, m.scale) == (variant, scale)]
            shape = size if scale == 1.0 else working_size(*size, round(min(size) * scale))
            if scale not in prepared:
                prepared[scale] = self._inputs(lightness, keyframes, shape)
            inputs = [torch.cat([x.flip(-1) if flip else x for flip in flips]) for x in prepared[scale]]
            # the bases (numpy and OpenCV on the CPU) are made outside the network and its autocast
            inputs.append(network_bases(self.models[variant].config, *inputs))
            out = self._run(self.models[variant], inputs).float()
            if shape != size:
                out = F.interpolate(out, size=size, mode="bilinear", align_corners=False)
            for i, flip in enumerate(flips):
                part = out[i * count : (i + 1) * count]
                predictions.append(part.flip(-1) if flip else part)
        return torch.stack(predictions)

    @torch.inference_mode()
    def stacked_inputs(self, lightness: np.ndarray, keyframe: Keyframe | None) -> np.ndarray:
        """One picture's inputs to the first variant as the exported graph takes them
        (``vscolorize.core.models.export``), made as :meth:`views` makes them: (4 + base channels,
        h, w) float32 on the CPU at the working size = L*, hint a*b* (2), mask, bases.

        Args:
            lightness: (H, W) L* in [0, 100].
            keyframe: its hints (or None).
        """
        height, width = lightness.shape
        size = working_size(height, width, self.config.working_short_side)
        inputs = list(self._inputs([lightness], [keyframe], size))
        inputs.append(network_bases(self.config, *inputs))
        return np.ascontiguousarray(torch.cat(inputs, 1)[0].cpu().numpy())

    def predict_small(
        self, lightness: Sequence[np.ndarray], keyframes: Sequence[Keyframe | None]
    ) -> np.ndarray:
        """The first variant's a*b* at the working size, (B, h, w, 2) float32 on the CPU."""
        out = self.views(lightness, keyframes)[0]
        return np.ascontiguousarray(out.permute(0, 2, 3, 1).cpu().numpy())

    def predict(
        self, lightness: Sequence[np.ndarray], keyframes: Sequence[Keyframe | None]
    ) -> list[np.ndarray]:
        """The first variant's a*b* at full size, (H, W, 2) float32 per picture (upsampled on the
        device, guided by each picture's L*; hinted pixels exact)."""
        small = self.predict_small(lightness, keyframes)
        return [
            upsample_ab(ab, l, k, device=self.device)
            for ab, l, k in zip(small, lightness, keyframes, strict=True)
        ]

    def _inputs(
        self,
        lightness: Sequence[np.ndarray],
        keyframes: Sequence[Keyframe | None],
        size: tuple[int, int],
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The network's inputs at ``size``: L, hint a*b* and mask, (B, C, h, w) on the device."""
        h, w = size
        small = np.stack([cv2.resize(l, (w, h), interpolation=cv2.INTER_AREA) for l in lightness])
        painted = [paint_hints(k, h, w) for k in keyframes]  # a carried hint's mask: its weight
        l_t = torch.from_numpy(small[:, None]).to(self.device)
        ab_t = torch.from_numpy(np.stack([ab for ab, _ in painted])).permute(0, 3, 1, 2)
        mask_t = torch.from_numpy(np.stack([m for _, m in painted])[:, None])
        return l_t, ab_t.to(self.device), mask_t.to(self.device)

    def _autocast(self) -> contextlib.AbstractContextManager[object]:
        """The network's layers at :attr:`precision` (see :func:`network_precision`)."""
        if self.precision == torch.float32:
            return contextlib.nullcontext()
        return torch.autocast(self.device.split(":")[0], dtype=self.precision)

    def _run(self, model: ColorUNet, inputs: list[torch.Tensor]) -> torch.Tensor:
        """The network on a batch; on a GPU out of memory, the batch one picture at a time, and a
        clear error if one picture alone does not fit (never a crash in the middle of a render)."""
        try:
            with self._autocast():
                out: torch.Tensor = model(*inputs)
                return out
        except torch.cuda.OutOfMemoryError:
            if self.device.startswith("cuda"):
                torch.cuda.empty_cache()
            if len(inputs[0]) > 1:
                log.warning(
                    "%s ran out of memory on %d pictures at once; one at a time", self.device, len(inputs[0])
                )
                parts = zip(*(x.split(1) for x in inputs), strict=True)
                return torch.cat([self._run(model, list(part)) for part in parts])
            height, width = inputs[0].shape[2:]
            raise DeviceError(
                f"{self.device} ran out of memory running the {self.config.name} model on one "
                f"{width}x{height} picture: free memory on it"
                + (", or use device='cpu'" if self.device.startswith("cuda") else "")
            ) from None


def variant_paths(name: str) -> list[Path]:
    """The installed weights of model ``name``'s variants: ``NAME.safetensors`` first, then
    ``NAME-2.safetensors``, ``NAME-3.safetensors``... (the same network trained from other seeds,
    the members of an ensemble)."""
    first = _weights_path(name)
    if not first.is_file():
        return []
    more = sorted(
        (p for p in first.parent.glob(f"{name}-*.safetensors") if p.stem[len(name) + 1 :].isdigit()),
        key=lambda p: int(p.stem[len(name) + 1 :]),
    )
    return [first, *more]


@cache
def _shipped_models(name: str, device: str) -> tuple[ColorUNet, ...]:
    """Every installed variant of ``name`` on ``device``, loaded once per process."""
    if name not in MODEL_NAMES:
        raise ModelUnavailableError(f"model: expected one of {MODEL_NAMES}, not {name!r}")
    paths = variant_paths(name)
    if not paths:
        have = ", ".join(installed_models()) or "none"
        raise ModelUnavailableError(f"model {name!r} is not installed (installed: {have})")
    log.info("loading %s on %s", ", ".join(p.name for p in paths), device)
    return tuple(load_model(p, device=device) for p in paths)


@cache
def get_colorizer(name: str, device: str) -> Colorizer:
    """The shipped model ``name`` (all its installed variants) on ``device``, made once per process.

    Raises:
        ModelUnavailableError: no weights for that model are installed.
    """
    return Colorizer(_shipped_models(name, device), device)


@cache
def _model_from_file(path: Path, mtime_ns: int, device: str) -> ColorUNet:
    log.info("loading %s on %s", path, device)
    return load_model(path, device=device)


def load_network(model: str | os.PathLike[str], device: str) -> Colorizer:
    """The colorizer ``model`` names on ``device``: ``"auto"``, a shipped model's name, or the path
    of a weights file (say one ``vscolorize train`` wrote). Each model is loaded once per process
    (a weights file again when it changes).

    Raises:
        ModelUnavailableError: not installed, no such file, or not a usable weights file.
    """
    if isinstance(model, str) and (model == "auto" or model in MODEL_NAMES):
        return get_colorizer(pick_model(model, device), device)
    path = Path(model).resolve()
    if not path.is_file():
        raise ModelUnavailableError(
            f"model: {os.fspath(model)!r} is neither 'auto', 'fast', 'large' nor a weights file"
        )
    return Colorizer(_model_from_file(path, path.stat().st_mtime_ns, device), device)


def pick_model(model: str, device: str) -> str:
    """Resolve ``"auto"``: the large model on CUDA when installed, else the fast one."""
    if model != "auto":
        return model
    installed = installed_models()
    if device.startswith("cuda") and "large" in installed:
        return "large"
    if "fast" in installed:
        return "fast"
    if installed:
        return installed[0]
    raise ModelUnavailableError("no trained model is installed yet; use method='optimization'")


class LearnedEngine:
    """The engine of ``method="model"``: the model ``settings.model`` names, on a device."""

    def __init__(self, settings: Settings, device: str) -> None:
        self.colorizer = load_network(settings.model, device)
        self.variants = len(self.colorizer.models)

    def predict(
        self, lightness: np.ndarray, keyframe: Keyframe | None, members: Sequence[Member]
    ) -> np.ndarray:
        """(N, h, w, 2) float32: each member's a*b* at the model's working size."""
        out = self.colorizer.views([lightness], [keyframe], members)[:, 0]
        return np.ascontiguousarray(out.permute(0, 2, 3, 1).cpu().numpy())


register("model", LearnedEngine)
