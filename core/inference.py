"""Running the guided colorizer on pictures of any size, one at a time or in batches.

The network runs at a working resolution (short side ``config.working_short_side``, sides rounded
to multiples of 16); hints are painted directly at that resolution (they are resolution-free). Its
a*b* is brought back to full size by a guided filter (opencv-contrib) steered by the
full-resolution L, so color edges follow the picture's edges; full-resolution L is never altered,
and hinted pixels get exactly their hint back.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Sequence
from functools import cache
from importlib import resources
from pathlib import Path

import cv2
import numpy as np
import torch
from torch.nn import functional as F

from .errors import ModelUnavailableError
from .hints import Keyframe, rasterize
from .model import ColorUNet, load_model

__all__ = [
    "MODEL_NAMES",
    "Colorizer",
    "get_colorizer",
    "guided_filter",
    "installed_models",
    "load_colorizer",
    "upsample_ab",
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


class Colorizer:
    """A loaded model on a device; thread-safe (one forward pass at a time per instance)."""

    def __init__(self, model: ColorUNet, device: str) -> None:
        self.model = model.to(device).eval()
        self.device = device
        self.config = model.config
        self._lock = threading.Lock()

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

    def _forward(self, lightness: Sequence[np.ndarray], keyframes: Sequence[Keyframe | None],
                 size: tuple[int, int]) -> torch.Tensor:  # fmt: skip
        h, w = size
        small = np.stack([cv2.resize(l, (w, h), interpolation=cv2.INTER_AREA) for l in lightness])
        painted = [rasterize(k, h, w) for k in keyframes]
        l_t = torch.from_numpy(small[:, None]).to(self.device)
        ab_t = (
            torch.from_numpy(np.stack([ab for ab, _ in painted]))
            .permute(0, 3, 1, 2)
            .to(self.device)
        )
        mask_t = torch.from_numpy(np.stack([m for _, m in painted])[:, None].astype(np.float32)).to(
            self.device
        )
        use_amp = self.device.startswith("cuda")
        with self._lock, torch.autocast("cuda", dtype=torch.float16, enabled=use_amp):
            out: torch.Tensor = self.model(l_t, ab_t, mask_t)
        return out

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
            up = F.interpolate(
                out.float(), size=(height, width), mode="bilinear", align_corners=False
            )
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

    Args:
        ab: (h, w, 2) a*b* at the working resolution.
        lightness: (H, W) full-resolution L* in [0, 100], the guide (never altered).
        keyframe: the frame's hints, put back exactly at full resolution.
    """
    height, width = lightness.shape
    h, w = ab.shape[:2]
    if (h, w) != (height, width):
        ab = cv2.resize(ab, (width, height), interpolation=cv2.INTER_LINEAR)
        guide = (lightness / 100).astype(np.float32)
        radius = _guide_radius((h, w), (height, width))
        ab = cv2.ximgproc.guidedFilter(guide, ab.astype(np.float32), radius, _GUIDE_EPS)
    return _put_hints(ab.astype(np.float32), keyframe)


def _put_hints(ab: np.ndarray, keyframe: Keyframe | None) -> np.ndarray:
    """Hinted pixels get exactly their hint: an artist's color is not up for interpretation."""
    if keyframe is not None:
        hint, mask = rasterize(keyframe, *ab.shape[:2])
        ab[mask] = hint[mask]
    return ab


@cache
def get_colorizer(name: str, device: str) -> Colorizer:
    """The shipped model ``name`` on ``device``, loaded once per process.

    Raises:
        ModelUnavailableError: no weights for that model are installed.
    """
    if name not in MODEL_NAMES:
        raise ModelUnavailableError(f"model: expected one of {MODEL_NAMES}, not {name!r}")
    path = _weights_path(name)
    if not path.is_file():
        have = ", ".join(installed_models()) or "none"
        raise ModelUnavailableError(f"model {name!r} is not installed (installed: {have})")
    log.info("loading %s on %s", path, device)
    return Colorizer(load_model(path, device=device), device)


@cache
def _colorizer_from_file(path: Path, mtime_ns: int, device: str) -> Colorizer:
    log.info("loading %s on %s", path, device)
    return Colorizer(load_model(path, device=device), device)


def load_colorizer(model: str | os.PathLike[str], device: str) -> Colorizer:
    """The colorizer ``model`` names on ``device``: ``"auto"``, a shipped model's name, or the path
    of a weights file (say one ``vscolorize train`` wrote). Each is loaded once per process (a
    weights file again when it changes).

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
    return _colorizer_from_file(path, path.stat().st_mtime_ns, device)


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
