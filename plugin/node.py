"""``vscolorize.colorize``: the VapourSynth node (DESIGN.md, a contract).

Everything is checked, the model loaded and the hints propagated (``tracks.py``: once per clip and
hints, then cached) when the node is built, so a script fails at once with one clear line and no
frame is ever requested from a half-configured filter. Each output frame is computed by
``std.ModifyFrame`` from its source frame and, for the temporal filter, the ``temporal`` frames on
each side (shifted copies of the clip): VapourSynth runs the callbacks on its worker threads
(torch, OpenCV and numpy release the GIL while they compute). Predictions and the motion between
neighbors are shared through small caches, but every cached value is a pure function of its own
frames, so the same frame comes out bit-identical in any order and with any thread count.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from functools import partial

import cv2
import numpy as np
import vapoursynth as vs

from vscolorize.core.engine import DEFAULT_METHOD, FrameColorizer, lightness_ab_to_srgb
from vscolorize.core.errors import HintError, VscolorizeError
from vscolorize.core.hints import Hints, HintsLike, resolve_hints
from vscolorize.core.propagation import scene_cut
from vscolorize.core.temporal import DEFAULT_TEMPORAL, MAX_TEMPORAL, Link, temporal_filter

from .frames import check_format, frame_lightness, write_rgb
from .tracks import DEFAULT_SETTINGS, propagated_hints

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
    temporal: int = DEFAULT_TEMPORAL,
    postprocess: Sequence[str] = (),
    ensemble: int = 1,
    ensemble_mode: str = "mean",
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
        temporal: stabilize colors over time: each frame's a*b* is averaged with those of up to
            this many frames on each side, warped along optical flow (occlusions and other
            shots left out; ``vscolorize.core.temporal``); 0 turns it off.
        propagate: carry each keyframe's hints to the other frames of its shot along optical
            flow (computed when the node is built, with a progress bar on stderr, and cached;
            see ``vscolorize.tracks``). With False a keyframe's hints color only that frame.
        postprocess: clean-ups of each frame's a*b*: ``("segment_fill",)`` fills each segment of
            the picture (SEEDS superpixels; ``"segment_fill:slic"`` or
            ``"segment_fill:felzenszwalb"`` for other segmentations) with its dominant color,
            before the temporal filter.
        ensemble: how many predictions to average (``method="model"``): the model as is,
            mirrored, at a second working scale and both, then the next shipped variant
            likewise (see ``vscolorize.core.inference.plan_members``).
        ensemble_mode: ``"mean"``, ``"median"`` or ``"saturated"``.
        output: ``"RGBS"`` (float32) or ``"RGBH"`` (float16).

    Returns:
        An RGB clip of the same size, length and frame rate, every frame's properties copied,
        ``_Matrix`` set to RGB and ``_Range`` to full.

    Raises:
        vs.Error: any bad argument, in one line that starts with ``colorize:`` and names it.
    """
    try:
        return _colorize(clip, hints, method, model, device, propagate, temporal, postprocess,
                         ensemble, ensemble_mode, output)  # fmt: skip
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
    temporal: int,
    postprocess: Sequence[str],
    ensemble: int,
    ensemble_mode: str,
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
    if (
        isinstance(temporal, bool)
        or not isinstance(temporal, int)
        or not 0 <= temporal <= MAX_TEMPORAL
    ):
        raise ValueError(
            f"{_CALLER}: temporal must be a whole number of frames in [0, {MAX_TEMPORAL}], "
            f"not {temporal!r}"
        )
    resolved = _check_hints(hints, clip.num_frames)
    engine = FrameColorizer(
        caller=_CALLER,
        method=method,
        device=device,
        model=model,
        postprocess=postprocess,
        ensemble=ensemble,
        ensemble_mode=ensemble_mode,  # type: ignore[arg-type]
    )
    if propagate and resolved is not None:
        resolved = propagated_hints(clip, resolved, progress=_progress_bar)
    if method == "optimization" and resolved is None:
        log.warning("colorize: method='optimization' without hints leaves every frame gray")
    dtype = np.float16 if output == "RGBH" else np.float32
    blank = clip.std.BlankClip(format=OUTPUTS[output], keep=True)
    offsets = range(-temporal, temporal + 1)
    window = _Window(engine, resolved, clip.num_frames, temporal)

    def colorize_frame(n: int, f: list[vs.VideoFrame]) -> vs.VideoFrame:
        out, sources = f[0].copy(), f[1:]
        source = sources[temporal]
        keyframe = resolved.keyframe(n) if resolved is not None else None
        lightness = frame_lightness(source)
        if temporal:
            # each frame is post-processed before the filter averages it with its neighbors:
            # segments differ a little from frame to frame, and the filter evens that out
            ab = engine.finish(window.filtered(n, sources, lightness), lightness, keyframe,
                               clean=False)  # fmt: skip
        else:
            ab = engine.ab(lightness, keyframe)
        rgb = lightness_ab_to_srgb(lightness, ab)
        write_rgb(out, rgb.astype(dtype, copy=False))
        props = out.props
        for key, value in source.props.items():
            props[key] = value
        props["_Matrix"] = vs.MatrixCoefficients.MATRIX_RGB
        props["_Range"] = vs.ColorRange.RANGE_FULL
        props.pop("_ChromaLocation", None)
        return out

    neighbors = [_shift(clip, k) for k in offsets]
    return blank.std.ModifyFrame(clips=[blank, *neighbors], selector=colorize_frame)


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


class _Memo[T]:
    """A small thread-safe cache of values that are pure functions of their key. A value being
    computed by one thread is waited for by the others, never computed twice at once."""

    def __init__(self, keep: int) -> None:
        self._keep = keep
        self._values: OrderedDict[int, T] = OrderedDict()
        self._pending: dict[int, threading.Event] = {}
        self._lock = threading.Lock()

    def get(self, key: int, make: Callable[[], T]) -> T:
        while True:
            with self._lock:
                if key in self._values:
                    self._values.move_to_end(key)
                    return self._values[key]
                pending = self._pending.get(key)
                if pending is None:
                    self._pending[key] = threading.Event()
                    break
            pending.wait()  # another thread is making it; then look again
        try:
            value = make()
            with self._lock:
                self._values[key] = value
                while len(self._values) > self._keep:
                    self._values.popitem(last=False)
        finally:
            with self._lock:
                self._pending.pop(key).set()
        return value


class _Window:
    """Per-frame predictions at the working size and the motion between consecutive frames, each
    computed once and kept for the frames around it; and the temporal filter over them."""

    def __init__(self, engine: FrameColorizer, hints: Hints | None, count: int,
                 radius: int) -> None:  # fmt: skip
        self.engine = engine
        self.hints = hints
        self.count = count
        # room for the windows of several frames in flight at once (vspipe's threads)
        keep = 4 * radius + 16
        self._entries: _Memo[tuple[np.ndarray, np.ndarray]] = _Memo(keep)
        self._links: _Memo[Link] = _Memo(keep)

    def entry(self, n: int, frame: vs.VideoFrame, lightness: np.ndarray | None = None
              ) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
        """(a*b*, uint8 lightness) of frame ``n`` at the working size (``lightness``: the
        frame's full-size L*, when the caller has it already)."""

        def make() -> tuple[np.ndarray, np.ndarray]:
            nonlocal lightness
            if lightness is None:
                lightness = frame_lightness(frame)
            keyframe = self.hints.keyframe(n) if self.hints is not None else None
            ab = self.engine.clean(self.engine.ab_small(lightness, keyframe), lightness, keyframe)
            small = cv2.resize(lightness, ab.shape[1::-1], interpolation=cv2.INTER_AREA)
            return ab, np.clip(small * 2.55 + 0.5, 0, 255).astype(np.uint8)

        return self._entries.get(n, make)

    def filtered(self, n: int, frames: Sequence[vs.VideoFrame], lightness: np.ndarray
                 ) -> np.ndarray:  # fmt: skip
        """Frame n's a*b* at the working size, filtered over ``frames`` (n - K .. n + K);
        ``lightness`` is frame n's full-size L*."""
        radius = len(frames) // 2
        entries: list[tuple[np.ndarray, np.ndarray] | None] = [None] * len(frames)
        links: list[Link | None] = [None] * (len(frames) - 1)
        entries[radius] = self.entry(n, frames[radius], lightness)
        # walk away from frame n on each side, stopping at the clip's ends and at scene cuts
        for step in (-1, 1):
            i = radius
            while 0 <= i + step < len(frames) and 0 <= n + i + step - radius < self.count:
                j = i + step
                near, far = entries[i], self.entry(n + j - radius, frames[j])
                assert near is not None
                early, late = (i, j) if step > 0 else (j, i)
                first, second = (near, far) if step > 0 else (far, near)
                if _cut_between(frames[early], frames[late], first[1], second[1]):
                    break
                # link m joins frames m and m + 1: a pure function of their pictures
                m = n + early - radius
                links[early] = self._links.get(m, partial(Link.between, first[1], second[1]))
                entries[j] = far
                i = j
        # the weights reach the window's ends: sigma grows with the radius (1 frame up to 2)
        sigma = max(1.0, radius / 2)
        return temporal_filter([e[0] if e else None for e in entries], links, sigma=sigma)


def _cut_between(first: vs.VideoFrame, second: vs.VideoFrame, a: np.ndarray,
                 b: np.ndarray) -> bool:  # fmt: skip
    """Whether a shot ends between two consecutive frames: their props say so, or (when they say
    nothing) the luma histograms do."""
    props = (first.props.get("_SceneChangeNext"), second.props.get("_SceneChangePrev"))
    if any(p is not None for p in props):
        return any(bool(p) for p in props)
    return scene_cut(a, b, DEFAULT_SETTINGS.cut_threshold)
