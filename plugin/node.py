"""``vscolorize.colorize``: the VapourSynth node (DESIGN.md, a contract).

Everything is checked and the model loaded when the node is built, so a script fails at once with
one clear line; no frame is read then. Each output frame is computed on request by its own
``std.ModifyFrame`` made inside ``std.FrameEval`` (a single ModifyFrame runs one callback at a
time; one per frame lets VapourSynth's threads compute several frames at once). A frame gets its
source frame and, for the temporal filter, the ``temporal`` frames on each side (shifted copies
of the clip); the colorizing itself is ``vscolorize.core.pipeline``'s, the same for a picture, the
paint window's preview and a render. Motion comes from the motion store
(``vscolorize.core.store``), shared with the paint window, ``analyze`` and other renders.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from typing import cast

import cv2
import numpy as np
import torch
import vapoursynth as vs

from vscolorize.core.engines.learned import LearnedEngine
from vscolorize.core.errors import ClipError, SettingError, VscolorizeError, named
from vscolorize.core.footage import Footage
from vscolorize.core.hints import HintsLike
from vscolorize.core.pipeline import DEFAULT_METHOD, FramePipeline, Settings, VideoPipeline, check_keyframes
from vscolorize.core.store import MotionStore
from vscolorize.core.temporal import DEFAULT_TEMPORAL

from . import mlrt
from .frames import check_format, modify_per_frame, write_rgb
from .sources import ClipSource, FrameWindow

__all__ = ["INTERNAL_ERROR", "OUTPUTS", "colorize", "colorize_with"]

log = logging.getLogger(__name__)

OUTPUTS = {"RGBS": vs.RGBS, "RGBH": vs.RGBH}
# what a frame's error says when it is a bug of ours rather than a problem with the input
INTERNAL_ERROR = "vscolorize internal error"

_CALLER = "colorize"


def colorize(
    clip: vs.VideoNode,
    /,
    hints: HintsLike | None = None,
    *,
    method: str = DEFAULT_METHOD,
    model: str | os.PathLike[str] = "auto",
    device: str | None = None,
    propagate: bool = True,
    temporal: int = DEFAULT_TEMPORAL,
    postprocess: Sequence[str] = (),
    ensemble: int = 1,
    ensemble_mode: str = "mean",
    output: str = "RGBS",
    backend: str = "torch",
) -> vs.VideoNode:
    """Colorize a grayscale (or faded) clip, guided by an artist's hints.

    Args:
        clip: any constant-format GRAY, YUV or RGB clip, integer (up to 16 bits) or float; only
            its luma / lightness is used (``_Range`` honored; see ``vscolorize.frames``).
        hints: a ``*.hints.json`` path, a dict in that format, a loaded ``Hints``, or None for
            automatic colorization.
        method: ``"model"`` (the learned colorizer, the default) or ``"optimization"`` (Levin
            et al. 2004; a frame without hints stays gray).
        model: ``"auto"``, ``"fast"``, ``"large"`` or the path of a weights file that
            ``vscolorize train`` wrote (``method="model"`` only).
        device: ``None``/``"auto"``, ``"cpu"``, ``"cuda"`` or ``"cuda:N"``.
        propagate: carry each keyframe's hints to the other frames of its shot along optical
            flow (on demand: a frame reads the frames between the keyframes or cuts around it).
            With False a keyframe's hints color only that frame.
        temporal: stabilize colors over time: each frame's a*b* is averaged with those of up to
            this many frames on each side, warped along optical flow (occlusions and other
            shots left out; ``vscolorize.core.temporal``); 0 turns it off.
        postprocess: clean-ups of each frame's a*b*: ``("segment_fill",)`` flattens
            near-equal colors at full size and keeps the edges between different ones;
            ``"segment_fill:seeds"``, ``":slic"`` or ``":felzenszwalb"`` first fill each
            superpixel's stray colors with its dominant one, before the temporal filter.
        ensemble: how many predictions to average (``method="model"``): the model as is,
            mirrored, at a second working scale and both, then the next shipped variant
            likewise (see ``vscolorize.core.engines.members.plan_members``).
        ensemble_mode: ``"mean"``, ``"median"`` or ``"saturated"``.
        output: ``"RGBS"`` (float32) or ``"RGBH"`` (float16).
        backend: what runs the network (``method="model"``, ``ensemble=1``): ``"torch"``, or
            vs-mlrt's VapourSynth plugin ``"ort"`` (ONNX Runtime: CPU, or CUDA with a CUDA
            ``device``), ``"ov"`` (OpenVINO, CPU), ``"trt"`` (TensorRT, CUDA) or ``"ncnn"``
            (Vulkan), each from its ``vapoursynth-mlrt-*`` wheel, on the network exported to ONNX
            once per model and working size (kept in the cache folder). Frames are within float
            rounding of torch's; everything but the network stays the same code.

    Returns:
        An RGB clip of the same size, length and frame rate, every frame's properties copied,
        ``_Matrix`` set to RGB and ``_Range`` to full.

    Raises:
        vs.Error: any bad argument, in one line that starts with ``colorize:`` and names it.
    """
    try:
        with named(_CALLER):
            if not isinstance(clip, vs.VideoNode):
                raise ClipError(f"clip: expected a VapourSynth video clip, not {type(clip).__name__}")
            check_format(clip)
            if output not in OUTPUTS:
                raise SettingError(f"output must be one of {tuple(OUTPUTS)}, not {output!r}")
            settings = Settings(
                method=method,
                model=model,  # type: ignore[arg-type]
                device=device,
                propagate=propagate,
                temporal=temporal,
                postprocess=postprocess,  # type: ignore[arg-type]
                ensemble=ensemble,
                ensemble_mode=ensemble_mode,
                backend=backend,
            )
        return colorize_with(clip, hints, settings, output=output)
    except VscolorizeError as e:
        # VapourSynth users (vspipe, vspreview, VapourSynth Editor) expect vs.Error; anything
        # else is a bug of ours and keeps its traceback
        raise vs.Error(str(e)) from None


def colorize_with(
    clip: vs.VideoNode, hints: HintsLike | None, settings: Settings, *, output: str = "RGBS"
) -> vs.VideoNode:
    """:func:`colorize` with its settings as one object (what ``render`` and the farm call).

    Raises:
        VscolorizeError: bad hints, or the settings' device, model or backend is not there; the
            message starts with ``colorize:``.
    """
    with named(_CALLER):
        check_format(clip)
        resolved = check_keyframes(hints, clip.num_frames)
        if settings.backend != "torch":
            mlrt.mlrt_plugin(settings.backend)  # before the model is loaded
        pipeline = FramePipeline(settings)
    if settings.method == "optimization" and resolved is None:
        log.warning("colorize: method='optimization' without hints leaves every frame gray")
    _one_thread_per_frame()
    # nothing is read here: motion and carried hints are made when frames ask for them
    footage = Footage(ClipSource(clip), settings.propagation.motion, MotionStore())
    # a frame asked for alone (the first, a seek) has its window filled on every thread
    video = pipeline.video(footage, resolved, workers=vs.core.num_threads)
    blank = clip.std.BlankClip(format=OUTPUTS[output], keep=True)
    radius = settings.temporal
    window = range(-radius, radius + 1)
    clips = [blank, *(_shift(clip, k) for k in window)]
    predicted = settings.backend != "torch"
    if predicted:
        with named(_CALLER):
            engine = cast(LearnedEngine, pipeline.engine)
            network = mlrt.network_clip(
                clip, settings.backend, engine.colorizer, video.hints_of, pipeline.device, _guarded
            )
        clips += [_shift(network, k) for k in window]
    selector = _guarded(_frame_callback(video, np.float16 if output == "RGBH" else np.float32, predicted))
    return modify_per_frame(blank, clips, selector)


def _frame_callback(
    video: VideoPipeline, dtype: type[np.floating], predicted: bool
) -> Callable[[int, list[vs.VideoFrame]], vs.VideoFrame]:
    """The per-frame glue: frame n and its neighbors in (and, with ``predicted``, the network's
    a*b* of each from another runtime), the pipeline's sRGB written out."""
    width = 2 * video.radius + 1

    def colorize_frame(n: int, f: list[vs.VideoFrame]) -> vs.VideoFrame:
        out, sources, network = f[0].copy(), f[1 : 1 + width], f[1 + width :]

        def from_network(k: int) -> np.ndarray:
            return mlrt.read_ab(network[k - n + video.radius])

        rgb = video.rgb(n, FrameWindow(n, sources), from_network if predicted else None)
        write_rgb(out, rgb.astype(dtype, copy=False))
        props = out.props
        for key, value in sources[len(sources) // 2].props.items():
            props[key] = value
        props["_Matrix"] = vs.MatrixCoefficients.MATRIX_RGB
        props["_Range"] = vs.ColorRange.RANGE_FULL
        props["_Primaries"] = vs.ColorPrimaries.PRIMARIES_BT709
        props["_Transfer"] = vs.TransferCharacteristics.TRANSFER_IEC_61966_2_1  # sRGB
        props.pop("_ChromaLocation", None)
        return out

    return colorize_frame


def _one_thread_per_frame() -> None:
    """When VapourSynth computes frames on several threads, OpenCV and torch computing each
    frame on several threads of their own oversubscribe the cores: at 854x480 with two threads
    the default method went from 3.7 fps to 4.1-4.8 fps with them on one thread each (the model
    the same within noise). With one VapourSynth thread they keep theirs."""
    if vs.core.num_threads > 1:
        if cv2.getNumThreads() != 1 or torch.get_num_threads() != 1:
            log.info("colorize: %d frames at once: OpenCV and torch on one thread each", vs.core.num_threads)
        cv2.setNumThreads(1)
        torch.set_num_threads(1)


def _guarded(
    colorize_frame: Callable[[int, list[vs.VideoFrame]], vs.VideoFrame],
) -> Callable[[int, list[vs.VideoFrame]], vs.VideoFrame]:
    """The frame callback, with its failures told apart: a problem with the input stays one line;
    anything else is a bug of ours, logged with its traceback and reported as an internal error
    (so that ``render`` exits 1, not 2)."""

    def guarded(n: int, f: list[vs.VideoFrame]) -> vs.VideoFrame:
        try:
            return colorize_frame(n, f)
        except VscolorizeError as e:
            raise vs.Error(f"{_CALLER}: frame {n}: {e}") from None
        except Exception as e:
            if os.environ.get("VSCOLORIZE_DEBUG"):
                log.exception("colorize: frame %d failed", n)
            raise vs.Error(f"{INTERNAL_ERROR}: frame {n}: {type(e).__name__}: {e}") from e

    return guarded


def _shift(clip: vs.VideoNode, k: int) -> vs.VideoNode:
    """A clip whose frame n is ``clip``'s frame n + k, held at the ends."""
    count = clip.num_frames
    if k == 0:
        return clip
    if abs(k) >= count:
        return clip[-1 if k > 0 else 0] * count
    if k > 0:
        return clip[k:] + clip[-1] * k
    return clip[0] * -k + clip[: count + k]
