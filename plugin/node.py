"""``vscolorize.colorize``: the VapourSynth node (DESIGN.md, a contract).

Everything is checked and the model loaded when the node is built, so a script fails at once with
one clear line and no frame is ever requested from a half-configured filter. Each output frame is
computed by ``std.ModifyFrame`` from the source frame alone: VapourSynth runs the callbacks on its
worker threads (torch, OpenCV and numpy release the GIL while they compute), and as no state is
carried between requests, the same frame comes out bit-identical in any order and thread count.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterator, Sequence

import numpy as np
import vapoursynth as vs

from vscolorize.core.engine import DEFAULT_METHOD, FrameColorizer
from vscolorize.core.errors import HintError, VscolorizeError
from vscolorize.core.hints import Hints, HintsLike, resolve_hints

from .frames import check_format, frame_lightness, write_rgb
from .tracks import propagated_hints

__all__ = ["OUTPUTS", "colorize"]

log = logging.getLogger(__name__)

OUTPUTS = {"RGBS": vs.RGBS, "RGBH": vs.RGBH}
_CALLER = "colorize"


def _progress_bar(frames: Iterator[vs.VideoFrame], total: int) -> Iterator[vs.VideoFrame]:
    from tqdm import tqdm

    return iter(tqdm(frames, total=total, unit="frame", desc="vscolorize: tracking hints",
                     file=sys.stderr, leave=False))  # fmt: skip


def _check_hints(hints: HintsLike | None, num_frames: int) -> Hints | None:
    try:
        resolved = resolve_hints(hints)
    except HintError as e:
        raise HintError(f"{_CALLER}: {e}") from None
    if resolved is not None:
        late = [f for f in resolved.frames if f >= num_frames]
        if late:
            raise HintError(
                f"{_CALLER}: hints: keyframe {late[0]} is past the clip's last frame "
                f"({num_frames - 1})"
            )
    return resolved


def colorize(
    clip: vs.VideoNode,
    /,
    hints: HintsLike | None = None,
    *,
    method: str = DEFAULT_METHOD,
    model: str | os.PathLike[str] = "auto",
    device: str | None = None,
    propagate: bool = True,
    postprocess: Sequence[str] = (),
    ensemble: int = 1,
    output: str = "RGBS",
) -> vs.VideoNode:
    """Colorize a grayscale (or faded) clip, guided by an artist's hints.

    Args:
        clip: any constant-format GRAY, YUV or RGB clip, integer (up to 16 bits) or float; only
            its luma / lightness is used (``_Range`` honored; see ``vscolorize.frames``).
        hints: a ``*.hints.json`` path, a dict in that format, a loaded ``Hints``, or None for
            automatic colorization.
        method: ``"model"`` (the learned colorizer) or ``"optimization"`` (Levin et al. 2004; a
            frame without hints stays gray).
        model: ``"auto"``, ``"fast"``, ``"large"`` or the path of a weights file that
            ``vscolorize train`` wrote (``method="model"`` only).
        device: ``None``/``"auto"``, ``"cpu"``, ``"cuda"`` or ``"cuda:N"``.
        propagate: carry each keyframe's hints to the other frames of its shot along optical
            flow (computed when the node is built, with a progress bar on stderr, and cached;
            see ``vscolorize.tracks``). With False a keyframe's hints color only that frame.
        postprocess, ensemble: reserved for the post-processing steps; ``()`` and 1 for now.
        output: ``"RGBS"`` (float32) or ``"RGBH"`` (float16).

    Returns:
        An RGB clip of the same size, length and frame rate, every frame's properties copied,
        ``_Matrix`` set to RGB and ``_Range`` to full.

    Raises:
        vs.Error: any bad argument, in one line that starts with ``colorize:`` and names it.
    """
    try:
        return _colorize(clip, hints, method, model, device, propagate, postprocess, ensemble,
                         output)  # fmt: skip
    except (VscolorizeError, ValueError, TypeError) as e:
        # VapourSynth users (vspipe, vspreview, VapourSynth Editor) expect vs.Error
        raise vs.Error(str(e)) from None


def _colorize(
    clip: vs.VideoNode,
    hints: HintsLike | None,
    method: str,
    model: str | os.PathLike[str],
    device: str | None,
    propagate: bool,
    postprocess: Sequence[str],
    ensemble: int,
    output: str,
) -> vs.VideoNode:
    if not isinstance(clip, vs.VideoNode):
        raise TypeError(
            f"{_CALLER}: clip: expected a VapourSynth video clip, not {type(clip).__name__}"
        )
    check_format(clip, caller=_CALLER)
    if output not in OUTPUTS:
        raise ValueError(f"{_CALLER}: output must be one of {tuple(OUTPUTS)}, not {output!r}")
    if not isinstance(propagate, bool):
        raise ValueError(f"{_CALLER}: propagate must be True or False, not {propagate!r}")
    resolved = _check_hints(hints, clip.num_frames)
    engine = FrameColorizer(
        caller=_CALLER,
        method=method,
        device=device,
        model=model,
        postprocess=postprocess,
        ensemble=ensemble,
    )
    if propagate and resolved is not None:
        resolved = propagated_hints(clip, resolved, progress=_progress_bar)
    if method == "optimization" and resolved is None:
        log.warning("colorize: method='optimization' without hints leaves every frame gray")
    dtype = np.float16 if output == "RGBH" else np.float32
    blank = clip.std.BlankClip(format=OUTPUTS[output], keep=True)

    def colorize_frame(n: int, f: list[vs.VideoFrame]) -> vs.VideoFrame:
        out, source = f[0].copy(), f[1]
        keyframe = resolved.keyframe(n) if resolved is not None else None
        rgb = engine.rgb(frame_lightness(source), keyframe)
        write_rgb(out, rgb.astype(dtype, copy=False))
        props = out.props
        for key, value in source.props.items():
            props[key] = value
        props["_Matrix"] = vs.MatrixCoefficients.MATRIX_RGB
        props["_Range"] = vs.ColorRange.RANGE_FULL
        props.pop("_ChromaLocation", None)
        return out

    return blank.std.ModifyFrame(clips=[blank, clip], selector=colorize_frame)
