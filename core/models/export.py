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
import hashlib
import logging
import math
import os
import tempfile
from pathlib import Path

import torch
from torch import nn

from ..engines.learned import load_network, working_size
from ..errors import SettingError
from ..store import cache_folder
from .network import ColorUNet
from .weights import checksum

__all__ = ["cached_onnx", "export_onnx", "input_channels", "pyramid_sides"]

log = logging.getLogger(__name__)

# what a cached graph's name depends on besides the weights, the size and torch's version: raise it
# when the exported graph changes (its input's layout, the wrapper around the network)
_GRAPH_VERSION = 1


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
                external_data=False,  # one self-contained file (vs-mlrt reads the graph as bytes)
                verbose=False,
            )
        os.replace(partial, path)
    finally:
        exporter_log.setLevel(level)
        partial.unlink(missing_ok=True)
    return path


def cached_onnx(model: ColorUNet, size: tuple[int, int]) -> Path:
    """``model`` as a fixed-size float32 ONNX graph at (h, w) ``size``, exported once and kept in
    the cache folder (``$VSCOLORIZE_CACHE/onnx``, see :func:`vscolorize.core.store.cache_folder`)
    under a name made from its weights, its config, the size and torch's version.

    Processes that export the same graph at once each write their own file and move it into
    place, so a reader never sees half a graph.
    """
    h, w = size
    key = hashlib.sha256(
        "\n".join(
            [
                checksum(model.state_dict()),
                model.config.to_json(),
                f"{h}x{w}",
                torch.__version__,
                str(_GRAPH_VERSION),
            ]
        ).encode()
    ).hexdigest()[:24]
    path = cache_folder() / "onnx" / f"{model.config.name}-{h}x{w}-{key}.onnx"
    if path.is_file():
        os.utime(path)  # recently used, should the cache ever be pruned
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    log.info("exporting the %s model at %dx%d to %s", model.config.name, w, h, path)
    with tempfile.TemporaryDirectory(dir=path.parent, prefix=".export-") as work:
        os.replace(export_onnx(Path(work) / path.name, model, size=size), path)
    return path
