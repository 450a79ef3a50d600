"""Running the guided colorizer on pictures of any size, one at a time or in batches.

The network runs at a working resolution (short side ``config.working_short_side``, sides rounded
to multiples of 16); hints are painted directly at that resolution (they are resolution-free). Its
a*b* is brought back to full size by a guided filter (opencv-contrib) steered by the
full-resolution L, so color edges follow the picture's edges; full-resolution L is never altered,
and hinted pixels get exactly their hint back.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

import cv2
import numpy as np
import torch
from torch.nn import functional as F

from .errors import DeviceError, ModelUnavailableError, SettingError
from .hints import Keyframe, paint_hints
from .model import ColorUNet, load_model
from .postprocess import ENSEMBLE_MODES, EnsembleMode, ensemble

__all__ = [
    "MODEL_NAMES",
    "SECOND_SCALE",
    "Colorizer",
    "Member",
    "get_colorizer",
    "guided_filter",
    "installed_models",
    "load_colorizer",
    "network_precision",
    "plan_members",
    "upsample_ab",
    "variant_paths",
    "working_size",
]

log = logging.getLogger(__name__)

MODEL_NAMES = ("fast", "large")
_SIZE_MULTIPLE = 16
_GUIDE_EPS = 1e-4  # guide is L / 100 in [0, 1]; small eps keeps color edges on luminance edges


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

    float16 on CUDA; bfloat16 on a CPU that multiplies it in hardware (Intel AMX: the fast
    model's layers at 256x448 take 29 ms instead of 79 on one core, a*b* within a few tenths
    of a unit of float32's); float32 on every other CPU, where bfloat16 would be emulated.
    The choice depends on the machine alone, so a frame stays a pure function on one machine.
    """
    if device.startswith("cuda"):
        return torch.float16
    if torch.cpu.get_capabilities().get("amx_bf16", False):
        return torch.bfloat16
    return torch.float32


# The second working scale test-time augmentation uses, relative to the model's own.
SECOND_SCALE = 0.75


@dataclass(frozen=True)
class Member:
    """One prediction of an ensemble: a model variant, its input mirrored or not, at a scale."""

    variant: int
    flip: bool = False
    scale: float = 1.0


def plan_members(count: int, variants: int) -> tuple[Member, ...]:
    """The first ``count`` members: the first variant as is, mirrored, at the second scale and
    both, then the next variant the same way.

    The first variant's own augmentations come first because video is what this is for: the
    second shipped variant flickers 1.37x as much as the first on its own (vtest.avi, temporal
    filter off), so an ensemble of the two variants and a mirror flickered 4 % more than the
    first variant alone, while its augmentations flicker 4 % less. Distinct networks disagree
    more and gain more PSNR on photos (+0.14 dB instead of +0.05 for three members, 20 hints,
    held-out photos); ``ensemble=5`` and up bring them in (+0.23 dB).

    Raises:
        SettingError: more members asked for than ``variants`` models can make.
    """
    order = [(False, 1.0), (True, 1.0), (False, SECOND_SCALE), (True, SECOND_SCALE)]
    members = [Member(v, flip, scale) for v in range(variants) for flip, scale in order]
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= len(members):
        raise SettingError(
            f"ensemble must be a whole number from 1 to {len(members)} ({variants} model "
            f"variant{'s' if variants > 1 else ''} x mirrored x 2 scales), not {count!r}"
        )
    return tuple(members[:count])


class Colorizer:
    """One or more loaded models on a device, run as an ensemble; thread-safe: calls from several
    threads run at once (a forward pass changes nothing in the models).

    Args:
        models: the model variants (one model, or several of the same working size).
        device: the torch device they are on.
        members: how many predictions to combine (see :func:`plan_members`); 1 is the first
            model alone.
        mode: how they are combined (see :func:`vscolorize.core.postprocess.ensemble`).
        precision: the dtype the network's layers run in; None: the device's best (see
            :func:`network_precision`).
    """

    def __init__(
        self,
        models: ColorUNet | Sequence[ColorUNet],
        device: str,
        *,
        members: int = 1,
        mode: EnsembleMode = "mean",
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
        self.members = plan_members(members, len(self.models))
        if mode not in ENSEMBLE_MODES:
            raise SettingError(f"ensemble mode must be one of {ENSEMBLE_MODES}, not {mode!r}")
        self.mode = mode
        self.precision = network_precision(device) if precision is None else precision

    @torch.inference_mode()
    def predict_small(
        self, lightness: Sequence[np.ndarray], keyframes: Sequence[Keyframe | None]
    ) -> np.ndarray:
        """a*b* at the working resolution, (B, h, w, 2) float32 on the CPU; see :meth:`predict`.

        Bring each to full size with :func:`upsample_ab`.
        """
        height, width = lightness[0].shape
        h, w = working_size(height, width, self.config.working_short_side)
        out = self._forward(lightness, keyframes, (h, w))
        return np.ascontiguousarray(out.float().permute(0, 2, 3, 1).cpu().numpy())

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

    def _forward(
        self, lightness: Sequence[np.ndarray], keyframes: Sequence[Keyframe | None], size: tuple[int, int]
    ) -> torch.Tensor:
        """Every member's prediction at ``size``, combined: (B, 2, h, w) on the device.

        Members that share a variant and a scale run as one batch (mirrored copies stacked
        after the pictures), so N members cost N network passes but one upsampling."""
        count = len(lightness)
        predictions: list[torch.Tensor] = []
        groups = dict.fromkeys((m.variant, m.scale) for m in self.members)
        # each scale's inputs are made once, whichever variants see them
        prepared: dict[float, tuple[torch.Tensor, torch.Tensor, torch.Tensor]] = {}
        for variant, scale in groups:
            flips = [m.flip for m in self.members if (m.variant, m.scale) == (variant, scale)]
            shape = size if scale == 1.0 else working_size(*size, round(min(size) * scale))
            if scale not in prepared:
                prepared[scale] = self._inputs(lightness, keyframes, shape)
            inputs = [torch.cat([x.flip(-1) if flip else x for flip in flips]) for x in prepared[scale]]
            out = self._run(self.models[variant], inputs).float()
            if shape != size:
                out = F.interpolate(out, size=size, mode="bilinear", align_corners=False)
            for i, flip in enumerate(flips):
                part = out[i * count : (i + 1) * count]
                predictions.append(part.flip(-1) if flip else part)
        if len(predictions) == 1:
            return predictions[0]
        return ensemble(torch.stack(predictions), self.mode)

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

    @torch.inference_mode()
    def predict(
        self, lightness: Sequence[np.ndarray], keyframes: Sequence[Keyframe | None]
    ) -> list[np.ndarray]:
        """a*b* for a batch of same-size pictures.

        Args:
            lightness: (H, W) L in [0, 100] per picture, all the same size.
            keyframes: the hints of each picture (or None).

        Returns:
            (H, W, 2) float32 a*b* per picture.
        """
        height, width = lightness[0].shape
        h, w = working_size(height, width, self.config.working_short_side)
        out = self._forward(lightness, keyframes, (h, w))
        if self.device.startswith("cuda") and (h, w) != (height, width):
            # on the GPU the upsampling stays there: the same guided filter in torch
            full = torch.from_numpy(np.stack(lightness)[:, None]).to(self.device) / 100
            up = F.interpolate(out.float(), size=(height, width), mode="bilinear", align_corners=False)
            radius = _guide_radius((h, w), (height, width))
            ab_full = guided_filter(full, up, radius, _GUIDE_EPS).permute(0, 2, 3, 1).cpu().numpy()
            return [_put_hints(ab_full[i], keyframes[i]) for i in range(len(lightness))]
        ab_small = out.float().permute(0, 2, 3, 1).cpu().numpy()
        return [upsample_ab(ab_small[i], lightness[i], keyframes[i]) for i in range(len(lightness))]


def _box(x: torch.Tensor, radius: int) -> torch.Tensor:
    """Mean over (2r+1)^2 windows, mirrored at the border with the edge pixel repeated, as
    opencv-contrib's guidedFilter does (OpenCV's BORDER_REFLECT)."""
    r = radius
    x = torch.cat([x[..., :r, :].flip(-2), x, x[..., x.shape[-2] - r :, :].flip(-2)], -2)
    x = torch.cat([x[..., :r].flip(-1), x, x[..., x.shape[-1] - r :].flip(-1)], -1)
    return F.avg_pool2d(x, 2 * r + 1, stride=1)


def guided_filter(guide: torch.Tensor, src: torch.Tensor, radius: int, eps: float) -> torch.Tensor:
    """He et al.'s guided filter in torch, the math of opencv-contrib's ``guidedFilter``.

    Args:
        guide: (B, 1, H, W) guide, e.g. L / 100.
        src: (B, C, H, W) what to filter, e.g. a*b*.

    Returns:
        (B, C, H, W): ``src`` smoothed except across the guide's edges.
    """
    # a window wider than the picture has nothing left to mirror
    radius = min(radius, min(guide.shape[-2:]) - 1)
    mean_i = _box(guide, radius)
    mean_p = _box(src, radius)
    var_i = _box(guide * guide, radius) - mean_i * mean_i
    cov_ip = _box(guide * src, radius) - mean_i * mean_p
    a = cov_ip / (var_i + eps)
    b = mean_p - a * mean_i
    return _box(a, radius) * guide + _box(b, radius)


def _guide_radius(small: tuple[int, int], full: tuple[int, int]) -> int:
    """About two working-resolution pixels, at full resolution."""
    return max(2, round(2 * max(full[0] / small[0], full[1] / small[1])))


def upsample_ab(ab: np.ndarray, lightness: np.ndarray, keyframe: Keyframe | None) -> np.ndarray:
    """a*b* from a working resolution to ``lightness``'s, guided by it; hinted pixels exact.

    He and Sun's fast guided filter (2015): the filter's local linear models ``ab = A L + B`` are
    fitted at the working resolution (radius 2 working pixels, as the full-size filter used),
    then ``A`` and ``B`` are upsampled and applied to the full-resolution L. Against the guided
    filter at full size: at 1920x1080 60 instead of 141 ms (one thread), and PSNR within
    +-0.02 dB per photo (mean +0.0001 dB, 19 held-out photos, the optimization engine).

    Args:
        ab: (h, w, 2) a*b* at the working resolution.
        lightness: (H, W) full-resolution L* in [0, 100], the guide (never altered).
        keyframe: the frame's hints, put back exactly at full resolution.
    """
    height, width = lightness.shape
    h, w = ab.shape[:2]
    ab = ab.astype(np.float32, copy=False)
    if (h, w) != (height, width):
        guide = lightness.astype(np.float32) * np.float32(1 / 100)
        small = cv2.resize(guide, (w, h), interpolation=cv2.INTER_AREA)
        scale, offset = _guided_coefficients(small, ab, _SMALL_GUIDE_RADIUS, _GUIDE_EPS)
        size = (width, height)
        scale = cv2.resize(scale, size, interpolation=cv2.INTER_LINEAR)
        offset = cv2.resize(offset, size, interpolation=cv2.INTER_LINEAR)
        ab = scale * guide[..., None] + offset
    else:
        ab = ab.copy()
    return _put_hints(ab, keyframe)


# The guided upsampling's radius at the working resolution (about two working pixels, as
# :func:`_guide_radius` gives at full resolution).
_SMALL_GUIDE_RADIUS = 2


def _guided_coefficients(
    guide: np.ndarray, src: np.ndarray, radius: int, eps: float
) -> tuple[np.ndarray, np.ndarray]:
    """The guided filter's mean linear coefficients: ``src ~ A guide + B`` over each window.

    Args:
        guide: (h, w) float32; src: (h, w, C) float32.

    Returns:
        ``(A, B)``, each (h, w, C) float32, already averaged over the windows (so the filtered
        ``src`` is ``A * guide + B``).
    """
    radius = max(1, min(radius, min(guide.shape) - 1))
    size = (2 * radius + 1, 2 * radius + 1)

    def box(x: np.ndarray) -> np.ndarray:
        return cv2.boxFilter(x, -1, size, borderType=cv2.BORDER_REFLECT)

    mean_i = box(guide)
    var_i = box(guide * guide) - mean_i * mean_i + np.float32(eps)
    mean_p = box(src)
    cov_ip = box(src * guide[..., None]) - mean_i[..., None] * mean_p
    a = cov_ip / var_i[..., None]
    b = mean_p - a * mean_i[..., None]
    a, b = box(a), box(b)
    if a.ndim == 2:  # OpenCV drops a last axis of length 1
        a, b = a[..., None], b[..., None]
    return a, b


def _put_hints(ab: np.ndarray, keyframe: Keyframe | None) -> np.ndarray:
    """Hinted pixels get exactly their hint: an artist's color is not up for interpretation (a
    carried hint's pixels move towards it as far as its confidence)."""
    if keyframe is not None:
        hint, weight = paint_hints(keyframe, *ab.shape[:2])
        ab = np.ascontiguousarray(ab)
        # the hinted pixels' flat indices, found once (a boolean mask indexes 3x slower)
        hinted = np.flatnonzero(weight > 0)
        strength = weight.reshape(-1)[hinted][:, None]
        pixels = ab.reshape(-1, 2)
        pixels[hinted] = strength * hint.reshape(-1, 2)[hinted] + (1 - strength) * pixels[hinted]
    return ab


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
def get_colorizer(name: str, device: str, members: int = 1, mode: EnsembleMode = "mean") -> Colorizer:
    """The shipped model ``name`` on ``device`` as an ensemble of ``members`` (see
    :func:`plan_members`); made once per process.

    Raises:
        ModelUnavailableError: no weights for that model are installed.
        SettingError: more members than its variants can make, or an unknown mode.
    """
    return Colorizer(_shipped_models(name, device), device, members=members, mode=mode)


@cache
def _model_from_file(path: Path, mtime_ns: int, device: str) -> ColorUNet:
    log.info("loading %s on %s", path, device)
    return load_model(path, device=device)


def load_colorizer(
    model: str | os.PathLike[str], device: str, *, members: int = 1, mode: EnsembleMode = "mean"
) -> Colorizer:
    """The colorizer ``model`` names on ``device``: ``"auto"``, a shipped model's name, or the path
    of a weights file (say one ``vscolorize train`` wrote); ``members`` and ``mode`` make it an
    ensemble. Each model is loaded once per process (a weights file again when it changes).

    Raises:
        ModelUnavailableError: not installed, no such file, or not a usable weights file.
        SettingError: more members than the model's variants can make, or an unknown mode.
    """
    if isinstance(model, str) and (model == "auto" or model in MODEL_NAMES):
        return get_colorizer(pick_model(model, device), device, members, mode)
    path = Path(model).resolve()
    if not path.is_file():
        raise ModelUnavailableError(
            f"model: {os.fspath(model)!r} is neither 'auto', 'fast', 'large' nor a weights file"
        )
    network = _model_from_file(path, path.stat().st_mtime_ns, device)
    return Colorizer(network, device, members=members, mode=mode)


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
