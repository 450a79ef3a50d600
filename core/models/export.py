"""The network as ONNX, for runtimes other than torch (vs-mlrt's ONNX Runtime, OpenVINO, TensorRT
and ncnn plugins, or any ONNX runtime).

The exported graph takes one tensor, the network's inputs stacked along channels as vs-mlrt gives
them: ``(1, 4 + base channels, h, w)`` = L* (0-100), the hints' a*b* (2), the hint mask (0-1),
then the bases of :func:`vscolorize.core.models.network_bases` (numpy and OpenCV: they stay
outside the graph). It returns ``(1, 2, h, w)`` a*b*, as :class:`ColorUNet` does.

The hints' pull-push pyramid halves the picture down to one pixel, so its depth depends on the
larger side: a graph made for a dynamic size runs any size with the same depth as the one it was
traced at (the larger side in the same power-of-two range), and :func:`export_onnx` says which.
"""

from __future__ import annotations

import copy
import logging
import math
import os
from pathlib import Path

import torch
from torch import nn

from ..engines.learned import load_network, working_size
from ..errors import SettingError
from .network import ColorUNet

__all__ = ["export_onnx", "input_channels", "pyramid_sides"]


class _Stacked(nn.Module):
    """:class:`ColorUNet` on its inputs stacked along channels (vs-mlrt's one input)."""

    def __init__(self, model: ColorUNet) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.model(x[:, 0:1], x[:, 1:3], x[:, 3:4], x[:, 4:])
        return out


def input_channels(model: ColorUNet) -> int:
    """The channels of the exported graph's input: L*, a*b*, mask and the bases."""
    return 4 + model.config.base_channels


def pyramid_sides(size: tuple[int, int]) -> range:
    """The larger sides a graph traced at (h, w) ``size`` runs correctly at (see the module's
    doc): those whose pull-push pyramid has the same depth."""
    depth = math.ceil(math.log2(max(size)))
    return range(2 ** (depth - 1) + 1, 2**depth + 1)


def export_onnx(
    path: str | os.PathLike[str],
    model: str | os.PathLike[str] | ColorUNet = "auto",
    *,
    size: tuple[int, int] | None = None,
    dynamic: bool = False,
    half: bool = False,
) -> Path:
    """Write the network as ONNX to ``path`` (atomically) and return the path.

    Args:
        model: ``"auto"``, a shipped model's name or a weights file (as ``colorize`` takes them),
            or a loaded network.
        size: the working size (h, w) it is traced at, multiples of the model's
            ``config.multiple`` (default: the model's working size for a 854x480 frame); the
            graph's fixed size unless ``dynamic``.
        dynamic: height and width left free (see :func:`pyramid_sides` for the sizes it runs).
        half: float16 weights, input and output (for GPU runtimes; the CPU ones run float32).

    Raises:
        SettingError: ``size`` is not a multiple of the model's ``config.multiple``.
        ModelUnavailableError: ``model`` names no installed model or weights file.
    """
    if not isinstance(model, ColorUNet):
        model = load_network(model, "cpu").models[0]
    h, w = size if size is not None else working_size(480, 854, model.config.working_short_side)
    multiple = model.config.multiple
    if h <= 0 or w <= 0 or h % multiple or w % multiple:
        raise SettingError(f"export_onnx: size {h}x{w} (h x w) must be positive multiples of {multiple}")
    dtype = torch.float16 if half else torch.float32
    network = copy.deepcopy(model).to(device="cpu", dtype=dtype).to(memory_format=torch.contiguous_format)
    stacked = _Stacked(network).eval()
    example = torch.zeros(1, input_channels(model), h, w, dtype=dtype)
    example[:, 0] = 50.0  # a mid-gray picture with no hints
    if model.config.base_channels:
        example[:, 7] = 1.0  # the bases' distance to the nearest hint: none near
    path = Path(path)
    partial = path.with_name(f".{path.name}.partial")
    free = {2: torch.export.Dim("height", min=16, max=4096), 3: torch.export.Dim("width", min=16, max=4096)}
    exporter_log = logging.getLogger("torch.onnx")  # notes on operators this network does not use
    level = exporter_log.level
    exporter_log.setLevel(logging.ERROR)
    try:
        with torch.no_grad():
            torch.onnx.export(
                stacked,
                (example,),
                str(partial),
                input_names=["input"],
                output_names=["output"],
                dynamic_shapes=(free,) if dynamic else None,
                dynamo=True,
                verbose=False,
            )
        os.replace(partial, path)
    finally:
        exporter_log.setLevel(level)
        partial.unlink(missing_ok=True)
    return path
