"""The network stage through vs-mlrt's VapourSynth plugins (``backend="ort" | "ov" | "trt" |
"ncnn"``): ONNX Runtime, OpenVINO, TensorRT or ncnn run the exported graph
(``vscolorize.core.models.export``) inside VapourSynth's own frame graph.

Three stages, each a clip, so VapourSynth schedules them like any filter::

    inputs     frame n's L* and hints -> the graph's input planes at the working size (L*, hint
               a*b*, mask, bases: ``Colorizer.stacked_inputs``, the same as torch's), made once
               per frame and dealt out to clips of at most 3 planes (vs-mlrt concatenates the
               planes of the clips it is given as the network's channels)
    network    ``core.<backend>.Model``: a GRAYS clip whose frames carry a* and b* at the working
               size as the props ``p0`` and ``p1``
    the rest   the node's own frame callback, given these frames (and its neighbors', for the
               temporal filter) in place of torch's predictions: clean-ups, the temporal filter,
               upsampling and sRGB stay the same code
"""

from __future__ import annotations

import logging
import shutil
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import vapoursynth as vs

from vscolorize.core.engines.learned import Colorizer, working_size
from vscolorize.core.errors import BackendUnavailableError, DeviceError
from vscolorize.core.hints import Keyframe
from vscolorize.core.memo import Memo
from vscolorize.core.models.export import cached_onnx, input_channels

from .frames import frame_lightness, modify_per_frame

__all__ = ["PLUGINS", "mlrt_plugin", "network_clip", "read_ab"]

log = logging.getLogger(__name__)

Selector = Callable[[int, list[vs.VideoFrame]], vs.VideoFrame]

# the frame props vs-mlrt puts the output channels in ("p0", "p1": a* and b*)
_PROP = "p"


@dataclass(frozen=True)
class _Plugin:
    runtime: str  # what users know it as
    wheel: str  # what installs it


PLUGINS = {
    "ort": _Plugin("ONNX Runtime", "vapoursynth-mlrt-ort"),
    "ov": _Plugin("OpenVINO", "vapoursynth-mlrt-ov"),
    "trt": _Plugin("TensorRT", "vapoursynth-mlrt-trt"),
    "ncnn": _Plugin("ncnn", "vapoursynth-mlrt-ncnn"),
}


def mlrt_plugin(backend: str) -> vs.Plugin:
    """VapourSynth's plugin for ``backend`` (its namespace is the backend's name).

    Raises:
        BackendUnavailableError: it is not installed, in one line naming the wheel that is.
    """
    plugin = PLUGINS[backend]
    found = getattr(vs.core, backend, None)
    if not isinstance(found, vs.Plugin) or not hasattr(found, "Model"):
        raise BackendUnavailableError(
            f"backend={backend!r} needs VapourSynth's {plugin.runtime} plugin: pip install {plugin.wheel}"
        )
    return found


def network_clip(
    clip: vs.VideoNode,
    backend: str,
    colorizer: Colorizer,
    hints_of: Callable[[int], Keyframe | None],
    device: str,
    guard: Callable[[Selector], Selector],
) -> vs.VideoNode:
    """The first variant of ``colorizer`` on every frame of ``clip``, run by ``backend``'s plugin:
    a GRAYS clip at the working size whose frames carry a* and b* (see :func:`read_ab`).

    Args:
        clip: the source (only its lightness is read).
        backend: ``"ort"``, ``"ov"``, ``"trt"`` or ``"ncnn"``.
        colorizer: the network, its config and how its inputs are made.
        hints_of: frame n's hints.
        device: the resolved torch device name (``"cpu"``, ``"cuda"``, ``"cuda:N"``).
        guard: wraps a frame callback so that its failures read as the node's.

    Raises:
        BackendUnavailableError: the backend's plugin (or TensorRT's ``trtexec``) is missing.
        DeviceError: the backend cannot run on ``device``.
    """
    plugin = mlrt_plugin(backend)
    options = _options(backend, device)  # checks the device before anything is exported
    network = colorizer.models[0]
    size = working_size(clip.height, clip.width, network.config.working_short_side)
    path = cached_onnx(network, size)
    if backend == "trt":
        path = _trt_engine(plugin, path, int(options["device_id"]))
    inputs = _input_clips(clip, colorizer, hints_of, size, input_channels(network), guard)
    out = plugin.Model(inputs, str(path), flexible_output_prop=_PROP, **options)
    result: vs.VideoNode = out["clip"]
    return result


def read_ab(frame: vs.VideoFrame) -> np.ndarray:
    """A frame of :func:`network_clip` -> (h, w, 2) float32 a*b* at the working size."""
    return np.stack([np.asarray(frame.props[f"{_PROP}{i}"][0]) for i in range(2)], axis=-1)


def _input_clips(
    clip: vs.VideoNode,
    colorizer: Colorizer,
    hints_of: Callable[[int], Keyframe | None],
    size: tuple[int, int],
    channels: int,
    guard: Callable[[Selector], Selector],
) -> list[vs.VideoNode]:
    """The graph's input planes of every frame at (h, w) ``size``, in clips of three planes
    (RGBS) and then of one (GRAYS): 10 channels are RGBS, RGBS, RGBS, GRAYS."""
    # a frame's planes are made once and read by each of the clips; frames in flight at once
    # (VapourSynth's threads) each need theirs until every clip has taken its part
    made: Memo[int, np.ndarray] = Memo(2 * vs.core.num_threads + 4)

    def planes(n: int, source: vs.VideoFrame) -> np.ndarray:
        found = made.peek(n)
        if found is not None:
            return found
        keyframe = hints_of(n)  # may read frames: not inside the memo's wait
        return made.get(n, lambda: colorizer.stacked_inputs(frame_lightness(source), keyframe))

    groups = [range(c, c + 3) for c in range(0, channels - 2, 3)]
    groups += [range(c, c + 1) for c in range(3 * len(groups), channels)]
    h, w = size
    clips = []
    for group in groups:
        fmt = vs.RGBS if len(group) == 3 else vs.GRAYS
        blank = clip.std.BlankClip(width=w, height=h, format=fmt, keep=True)
        clips.append(modify_per_frame(blank, [blank, clip], guard(_filler(group, planes))))
    return clips


def _filler(group: Sequence[int], planes: Callable[[int, vs.VideoFrame], np.ndarray]) -> Selector:
    """The callback that writes channels ``group`` of frame n's planes into an input clip."""

    def fill(n: int, f: list[vs.VideoFrame]) -> vs.VideoFrame:
        out, stacked = f[0].copy(), planes(n, f[1])
        for plane, channel in enumerate(group):
            np.copyto(np.asarray(out[plane]), stacked[channel])
        return out

    return fill


def _options(backend: str, device: str) -> dict[str, Any]:
    """``Model``'s options for ``backend`` on ``device``: float32 everywhere, so that a frame
    stays within float rounding of torch's."""
    index = int(device.partition(":")[2] or 0)
    if backend == "ort":
        if device.startswith("cuda"):
            return {"provider": "CUDA", "device_id": index}
        return {"provider": "CPU"}
    if backend == "ov":
        return {"device": "CPU"}  # OpenVINO's GPUs are Intel's: a CUDA device is not one
    if backend == "trt" and not device.startswith("cuda"):
        raise DeviceError("backend='trt' runs on an NVIDIA GPU: it needs device='cuda' (or 'cuda:N')")
    # trt: a CUDA device; ncnn: a Vulkan device, numbered by Vulkan (the first unless cuda:N says)
    return {"device_id": index}


def _trt_engine(plugin: vs.Plugin, onnx: Path, device_id: int) -> Path:
    """A TensorRT engine built from ``onnx`` by ``trtexec`` for this GPU and TensorRT, kept
    beside the graph (an engine runs only where it was built)."""
    import torch

    gpu = torch.cuda.get_device_name(device_id).replace(" ", "_")
    version = plugin.version  # the wheel's, which pins TensorRT's
    engine = onnx.with_name(f"{onnx.stem}-{gpu}-trt{version.major}.{version.minor}.engine")
    if engine.is_file():
        return engine
    bundled = Path(plugin.plugin_path).parent / "vsmlrt-cuda" / "trtexec"
    trtexec = str(bundled) if bundled.is_file() else shutil.which("trtexec")
    if trtexec is None:
        raise BackendUnavailableError(
            "backend='trt' needs TensorRT's trtexec (it comes with vapoursynth-mlrt-trt) to build an engine"
        )
    partial = engine.with_name(f".{engine.name}.partial")
    command = [trtexec, f"--onnx={onnx}", f"--saveEngine={partial}", f"--device={device_id}"]
    log.info("building a TensorRT engine: %s", " ".join(command))
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0 or not partial.is_file():
        partial.unlink(missing_ok=True)
        last = (result.stdout + result.stderr).strip().splitlines()[-1:] or ["no output"]
        raise BackendUnavailableError(f"backend='trt': trtexec could not build an engine ({last[0]})")
    partial.replace(engine)
    return engine
