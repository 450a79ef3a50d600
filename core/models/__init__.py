"""The learned guided colorizer: a U-Net from L + a*b* hints + hint mask to a*b* (after Zhang et
al. 2017's user-guided network), the bases it starts from, and its weights files.

- :mod:`.network`: :class:`ModelConfig`, :class:`ColorUNet` (torch alone), :func:`spread_hints`.
- :mod:`.bases`: what the network starts from, computed beside it with numpy, SciPy and OpenCV
  (:func:`network_bases`, :func:`smooth_hints`, :func:`levin_hints`).
- :mod:`.weights`: safetensors files that carry their config and a checksum.

Training lives in :mod:`vscolorize.core.training`; nothing here imports it.
"""

from __future__ import annotations

from .bases import SMOOTHER_LAMBDA, SMOOTHER_SIGMA, levin_hints, network_bases, smooth_hints
from .network import BASE_CHANNELS, BASES, FAST, LARGE, ColorUNet, ModelConfig, spread_hints
from .weights import checksum, load_model, save_model

__all__ = [
    "BASES",
    "BASE_CHANNELS",
    "FAST",
    "LARGE",
    "SMOOTHER_LAMBDA",
    "SMOOTHER_SIGMA",
    "ColorUNet",
    "ModelConfig",
    "checksum",
    "levin_hints",
    "load_model",
    "network_bases",
    "save_model",
    "smooth_hints",
    "spread_hints",
]
