"""Running the guided colorizer on pictures of any size, one at a time or in batches.

The network runs at a working resolution (short side ``config.working_short_side``, sides rounded
to multiples of 16); hints are painted directly at that resolution (they are resolution-free). Its
a*b* is brought back to full size by a guided filter (opencv-contrib) steered by the
full-resolution L, so color edges follow the picture's edges; full-resolution L is never altered,
and hinted pixels get exactly their hint back.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from functools import cache
from importlib import resources
from pathlib import Path

import cv2
import numpy as np
import torch

from .errors import ModelUnavailableError
from .hints import Keyframe, rasterize
from .model import ColorUNet, load_model

__all__ = ["MODEL_NAMES", "Colorizer", "get_colorizer", "installed_models", "working_size"]

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
            out = self.model(l_t, ab_t, mask_t)
        ab_small = out.float().permute(0, 2, 3, 1).cpu().numpy()
        return [_upsample(ab_small[i], lightness[i], keyframes[i]) for i in range(len(lightness))]


def _upsample(ab: np.ndarray, lightness: np.ndarray, keyframe: Keyframe | None) -> np.ndarray:
    height, width = lightness.shape
    h, w = ab.shape[:2]
    if (h, w) != (height, width):
        ab = cv2.resize(ab, (width, height), interpolation=cv2.INTER_LINEAR)
        radius = max(2, round(2 * max(height / h, width / w)))
        guide = (lightness / 100).astype(np.float32)
        ab = cv2.ximgproc.guidedFilter(guide, ab.astype(np.float32), radius, _GUIDE_EPS)
    if keyframe is not None:
        hint, mask = rasterize(keyframe, height, width)
        ab[mask] = hint[mask]
    return ab.astype(np.float32)


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
