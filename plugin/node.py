"""``vscolorize.colorize``: the VapourSynth node (DESIGN.md, a contract).

Everything is checked and the model loaded when the node is built, so a script fails at once with
one clear line; no frame is read then. Each output frame is computed on request by its own
``std.ModifyFrame`` made inside ``std.FrameEval`` (a single ModifyFrame runs one callback at a
time; one per frame lets VapourSynth's threads compute several frames at once). A frame gets its
source frame and, for the temporal filter, the ``temporal`` frames on each side (shifted copies
of the clip). Its hints are the artist's keyframe or those carried to it from the keyframes of
its shot (``vscolorize.core.propagation``: on demand, from its span of the shot alone), and the
motion both need comes from the motion store (``vscolorize.core.store``): measured once per pair
of frames, whatever the hints, and shared with the paint window, ``analyze`` and other renders.
Predictions and motion are shared between neighboring frames through small bounded caches, but
every cached value is a pure function of its own frames, so a frame comes out bit-identical in
any order, with any thread count and with a cold or warm store.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Sequence
from functools import partial

import cv2
import numpy as np
import torch
import vapoursynth as vs

from vscolorize.core.engine import DEFAULT_METHOD, FrameColorizer, lightness_ab_to_srgb
from vscolorize.core.errors import ClipError, HintError, SettingError, VscolorizeError
from vscolorize.core.footage import Footage, SourceFrame
from vscolorize.core.hints import Hints, HintsLike, Keyframe, resolve_hints
from vscolorize.core.memo import Memo
from vscolorize.core.propagation import CarriedHints, PropagationSettings
from vscolorize.core.store import MotionStore
from vscolorize.core.temporal import DEFAULT_TEMPORAL, MAX_TEMPORAL, Link, temporal_filter

from .frames import check_format, frame_lightness, write_rgb
from .tracks import ClipSource, source_frame

__all__ = ["INTERNAL_ERROR", "OUTPUTS", "check_hints", "colorize"]

log = logging.getLogger(__name__)

OUTPUTS = {"RGBS": vs.RGBS, "RGBH": vs.RGBH}
# what a frame's error says when it is a bug of ours rather than a problem with the input
INTERNAL_ERROR = "vscolorize internal error"

_CALLER = "colorize"
_PROPAGATION = PropagationSettings()


def check_hints(hints: HintsLike | None, num_frames: int) -> Hints | None:
    """``hints`` loaded, refused in one line when unreadable or with a keyframe past the end
    of a ``num_frames``-frame clip (what ``colorize``, ``render`` and ``paint`` say).

    Raises:
        HintError: bad hints, or a keyframe past the clip's end.
    """
    try:
        resolved = resolve_hints(hints)
    except HintError as e:
        raise HintError(f"{_CALLER}: {e}") from None
    if resolved is not None:
        late = [f for f in resolved.frames if f >= num_frames]
        if late:
            raise HintError(
                f"{_CALLER}: hints: keyframe {late[0]} is past the clip's last frame ({num_frames - 1})"
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
        method: ``"model"`` (the learned colorizer, the default) or ``"optimization"`` (Levin
            et al. 2004; a frame without hints stays gray).
        model: ``"auto"``, ``"fast"``, ``"large"`` or the path of a weights file that
            ``vscolorize train`` wrote (``method="model"`` only).
        device: ``None``/``"auto"``, ``"cpu"``, ``"cuda"`` or ``"cuda:N"``.
        temporal: stabilize colors over time: each frame's a*b* is averaged with those of up to
            this many frames on each side, warped along optical flow (occlusions and other
            shots left out; ``vscolorize.core.temporal``); 0 turns it off.
        propagate: carry each keyframe's hints to the other frames of its shot along optical
            flow (on demand: a frame reads the frames between the keyframes or cuts around it;
            motion is kept in the motion store, ``vscolorize.core.store``). With False a
            keyframe's hints color only that frame.
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
        return _colorize(
            clip,
            hints,
            method,
            model,
            device,
            propagate,
            temporal,
            postprocess,
            ensemble,
            ensemble_mode,
            output,
        )
    except VscolorizeError as e:
        # VapourSynth users (vspipe, vspreview, VapourSynth Editor) expect vs.Error; anything
        # else is a bug of ours and keeps its traceback
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
        raise ClipError(f"{_CALLER}: clip: expected a VapourSynth video clip, not {type(clip).__name__}")
    check_format(clip, caller=_CALLER)
    if output not in OUTPUTS:
        raise SettingError(f"{_CALLER}: output must be one of {tuple(OUTPUTS)}, not {output!r}")
    if not isinstance(propagate, bool):
        raise SettingError(f"{_CALLER}: propagate must be True or False, not {propagate!r}")
    if isinstance(temporal, bool) or not isinstance(temporal, int) or not 0 <= temporal <= MAX_TEMPORAL:
        raise SettingError(
            f"{_CALLER}: temporal must be a whole number of frames in [0, {MAX_TEMPORAL}], not {temporal!r}"
        )
    resolved = check_hints(hints, clip.num_frames)
    engine = FrameColorizer(
        caller=_CALLER,
        method=method,
        device=device,
        model=model,
        postprocess=postprocess,
        ensemble=ensemble,
        ensemble_mode=ensemble_mode,  # type: ignore[arg-type]
    )
    if method == "optimization" and resolved is None:
        log.warning("colorize: method='optimization' without hints leaves every frame gray")
    _one_thread_per_frame()
    # nothing is read here: motion and carried hints are made when frames ask for them
    footage = Footage(ClipSource(clip), _PROPAGATION.motion, MotionStore())
    hints_of: Callable[[int], Keyframe | None]
    if resolved is None:
        hints_of = lambda n: None  # noqa: E731
    elif propagate:
        hints_of = CarriedHints(footage, resolved, _PROPAGATION).keyframe
    else:
        hints_of = resolved.keyframe
    dtype = np.float16 if output == "RGBH" else np.float32
    blank = clip.std.BlankClip(format=OUTPUTS[output], keep=True)
    window = _Window(engine, footage, hints_of, temporal)

    def colorize_frame(n: int, f: list[vs.VideoFrame]) -> vs.VideoFrame:
        out, sources = f[0].copy(), f[1:]
        source = sources[temporal]
        lightness = frame_lightness(source)
        if temporal:
            # each frame is post-processed before the filter averages it with its neighbors:
            # segments differ a little from frame to frame, and the filter evens that out
            ab = engine.finish(window.filtered(n, sources, lightness), lightness, hints_of(n), clean=False)
        else:
            ab = engine.ab(lightness, hints_of(n))
        rgb = lightness_ab_to_srgb(lightness, ab)
        write_rgb(out, rgb.astype(dtype, copy=False))
        props = out.props
        for key, value in source.props.items():
            props[key] = value
        props["_Matrix"] = vs.MatrixCoefficients.MATRIX_RGB
        props["_Range"] = vs.ColorRange.RANGE_FULL
        props["_Primaries"] = vs.ColorPrimaries.PRIMARIES_BT709
        props["_Transfer"] = vs.TransferCharacteristics.TRANSFER_IEC_61966_2_1  # sRGB
        props.pop("_ChromaLocation", None)
        return out

    clips = [blank, *(_shift(clip, k) for k in range(-temporal, temporal + 1))]
    selector = _guarded(colorize_frame)

    def frame_node(n: int) -> vs.VideoNode:
        return blank.std.ModifyFrame(clips=clips, selector=selector)

    return blank.std.FrameEval(frame_node, clip_src=clips)


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


class _Window:
    """Per-frame predictions at the working size and the links of motion between consecutive
    frames, each computed once and kept for the frames around it; and the temporal filter."""

    def __init__(
        self,
        engine: FrameColorizer,
        footage: Footage,
        hints_of: Callable[[int], Keyframe | None],
        radius: int,
    ) -> None:
        self.engine = engine
        self.footage = footage
        self.hints_of = hints_of
        # room for the windows of several frames in flight at once (vspipe's threads)
        keep = 4 * radius + 16
        self._entries: Memo[int, np.ndarray] = Memo(keep)
        self._links: Memo[int, Link] = Memo(keep)
        self._lock = threading.Lock()

    def entry(self, n: int, lightness: Callable[[], np.ndarray]) -> np.ndarray:
        """a*b* of frame ``n`` at the working size, post-processed (``lightness()``: the frame's
        full-size L*, asked for only if the prediction is not made yet)."""

        found = self._entries.peek(n)
        if found is not None:
            return found
        keyframe = self.hints_of(n)  # may read frames: not inside the memo's wait

        def make() -> np.ndarray:
            full = lightness()
            return self.engine.clean(self.engine.ab_small(full, keyframe), full, keyframe)

        return self._entries.get(n, make)

    def link(self, m: int, size: tuple[int, int]) -> Link:
        """The motion between frames m and m + 1 at (h, w) ``size``."""
        found = self._links.peek(m)
        if found is not None:
            return found
        pair = self.footage.pair(m)  # may read frames: not inside the memo's wait
        return self._links.get(m, lambda: Link.from_pair(pair, size))

    def filtered(self, n: int, frames: Sequence[vs.VideoFrame], lightness: np.ndarray) -> np.ndarray:
        """Frame n's a*b* at the working size, filtered over ``frames`` (n - K .. n + K);
        ``lightness`` is frame n's full-size L*."""
        radius = len(frames) // 2
        count = self.footage.count
        first, last = max(n - radius, 0), min(n + radius, count - 1)
        # each frame's full-size L*, computed at most once here whoever needs it (the footage's
        # picture of a frame it has not seen, the prediction of a frame not predicted yet)
        known = {n: lightness}

        def full(k: int) -> np.ndarray:
            if k not in known:
                known[k] = frame_lightness(frames[k - n + radius])
            return known[k]

        def seen(k: int) -> SourceFrame:
            return source_frame(frames[k - n + radius], full(k))

        for k in range(first, last + 1):  # the frames at hand: the footage need not read them
            self.footage.offer(k, partial(seen, k))
        # the window stops at the clip's ends and at scene cuts (pictures only: cheap)
        for k in range(first + 1, n + 1):
            if self.footage.cut_before(k):
                first = k
        for k in range(n + 1, last + 1):
            if self.footage.cut_before(k):
                last = k - 1
                break
        # predictions farthest first: the nearer ones are those a frame in flight beside this
        # one (n - 1, n + 1) is making now, and are ready by the time they are wanted
        entries: list[np.ndarray | None] = [None] * len(frames)
        for k in sorted(range(first, last + 1), key=lambda k: -abs(k - n)):
            entries[k - n + radius] = self.entry(k, partial(full, k))
        center = entries[radius]
        assert center is not None
        size = center.shape[:2]
        links: list[Link | None] = [None] * (len(frames) - 1)
        for m in range(first, last):
            links[m - n + radius] = self.link(m, size)
        # the weights reach the window's ends: sigma grows with the radius (1 frame up to 2)
        sigma = max(1.0, radius / 2)
        return temporal_filter(entries, links, sigma=sigma)
