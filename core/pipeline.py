"""Settings and the per-frame path: one frame from its L* and hints to sRGB.

:class:`Settings` is everything that decides how a frame is colorized (the engine, its model and
device, the clean-ups, the ensemble, the temporal filter, propagation); it is checked once, where
it is made, and travels as one object to the VapourSynth node, ``render``, the distributed chunks,
the paint window's preview and :func:`colorize_image`.

:class:`FramePipeline` is the one path every one of them takes::

    engine (a*b* at its working size, members of an ensemble combined)
      -> clean-ups at the working size (a superpixel fill, ``core.cleanup``)
      -> temporal filter (video only: neighbors warped along optical flow, ``core.temporal``)
      -> upsample (guided by the full-size L*, ``core.upsample``)
      -> clean-ups at full size (the colors flattened), hints put back exactly
      -> sRGB (chroma lowered into the gamut, L* kept)

A picture and a video frame go through the same steps, so the same settings give the same bits.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields, replace
from typing import Any, cast

import cv2
import numpy as np
import torch

from .allocator import keep_freed_memory
from .cleanup import parse_postprocess
from .color import lab_planes_to_srgb
from .engines import DEFAULT_METHOD, METHODS, Engine, create_engine
from .engines.members import plan_members
from .errors import DeviceError, HintError, SettingError, named
from .footage import Footage
from .hints import Hints, HintsLike, Keyframe, check_frames, rasterize, resolve_hints
from .images import image_lightness
from .postprocess import ENSEMBLE_MODES, EnsembleMode, ensemble
from .propagation import CarriedHints, PropagationSettings
from .temporal import DEFAULT_TEMPORAL, MAX_TEMPORAL, Neighbors, Predicted, TemporalWindow
from .upsample import upsample_ab

__all__ = [
    "BACKENDS",
    "DEFAULT_METHOD",
    "METHODS",
    "FramePipeline",
    "Settings",
    "VideoPipeline",
    "colorize_image",
    "resolve_device",
]

log = logging.getLogger(__name__)


# what runs the network: torch itself, or vs-mlrt's VapourSynth plugin of that name (ONNX Runtime,
# OpenVINO, TensorRT, ncnn) on the exported graph; only the VapourSynth node has the plugins
BACKENDS = ("torch", "ort", "ov", "trt", "ncnn")


def _whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True)
class Settings:
    """How frames are colorized: checked when made, then passed around as one object.

    Attributes:
        method: the engine: ``"model"`` (the learned colorizer, the default) or
            ``"optimization"`` (Levin et al. 2004; a frame without hints stays gray).
        model: ``"auto"`` (the large model on CUDA when installed, else the fast one), ``"fast"``,
            ``"large"``, or the path of a weights file ``vscolorize train`` wrote.
        device: ``None``/``"auto"``, ``"cpu"``, ``"cuda"`` or ``"cuda:N"`` (whether it exists is
            checked where the pipeline is built: a farm's coordinator may have no GPU).
        propagate: carry each keyframe's hints along optical flow to the other frames of its shot.
        temporal: average each frame's a*b* with up to this many frames on each side, warped along
            optical flow (``vscolorize.core.temporal``); 0 turns it off.
        postprocess: clean-ups of each frame's a*b* (``vscolorize.core.cleanup``):
            ``"segment_fill"`` (the colors flattened), ``"segment_fill:seeds"``, ``":slic"`` or
            ``":felzenszwalb"`` (superpixels filled first).
        ensemble: how many predictions to combine (``method="model"``; see
            :func:`vscolorize.core.engines.members.plan_members`).
        ensemble_mode: ``"mean"``, ``"median"`` or ``"saturated"``.
        propagation: how hints travel and motion is measured.
        backend: what runs the network (``method="model"``, no ensemble, in VapourSynth only):
            ``"torch"``, or vs-mlrt's plugin ``"ort"``, ``"ov"``, ``"trt"`` or ``"ncnn"``.

    Raises:
        SettingError, DeviceError: a bad setting, in one line naming it.
    """

    method: str = DEFAULT_METHOD
    model: str = "auto"
    device: str | None = None
    propagate: bool = True
    temporal: int = DEFAULT_TEMPORAL
    postprocess: tuple[str, ...] = ()
    ensemble: int = 1
    ensemble_mode: str = "mean"
    propagation: PropagationSettings = field(default_factory=PropagationSettings)
    backend: str = "torch"

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise SettingError(f"method must be one of {METHODS}, not {self.method!r}")
        parse_postprocess(self.postprocess)
        if not isinstance(self.postprocess, tuple):
            object.__setattr__(self, "postprocess", tuple(self.postprocess))
        if not _whole(self.ensemble) or self.ensemble < 1:
            raise SettingError(f"ensemble must be a whole number >= 1, not {self.ensemble!r}")
        if self.ensemble > 1 and self.method != "model":
            raise SettingError(f"ensemble={self.ensemble} needs method='model'")
        if self.ensemble_mode not in ENSEMBLE_MODES:
            raise SettingError(f"ensemble_mode must be one of {ENSEMBLE_MODES}, not {self.ensemble_mode!r}")
        if not isinstance(self.model, str | os.PathLike):
            raise SettingError(f"model must be 'auto', 'fast', 'large' or a path, not {self.model!r}")
        object.__setattr__(self, "model", os.fspath(self.model))
        _check_device_name(self.device)
        if not isinstance(self.propagate, bool):
            raise SettingError(f"propagate must be True or False, not {self.propagate!r}")
        if not _whole(self.temporal) or not 0 <= self.temporal <= MAX_TEMPORAL:
            raise SettingError(
                f"temporal must be a whole number of frames in [0, {MAX_TEMPORAL}], not {self.temporal!r}"
            )
        if self.backend not in BACKENDS:
            raise SettingError(f"backend must be one of {BACKENDS}, not {self.backend!r}")
        if self.backend != "torch" and self.method != "model":
            raise SettingError(f"backend={self.backend!r} runs the network: it needs method='model'")
        if self.backend != "torch" and self.ensemble != 1:
            raise SettingError(f"backend={self.backend!r} runs one prediction a frame: it needs ensemble=1")

    @classmethod
    def of(cls, **keywords: Any) -> Settings:
        """Settings from keywords as a public function passes them on: an unknown name is a
        SettingError naming it, not a TypeError."""
        known = [f.name for f in fields(cls)]
        unknown = sorted(set(keywords) - set(known))
        if unknown:
            raise SettingError(f"unknown setting {unknown[0]!r} (known: {', '.join(known)})")
        return cls(**keywords)

    def replace(self, **changes: Any) -> Settings:
        """These settings with ``changes``, checked again."""
        return replace(self, **changes)


def _check_device_name(device: object) -> None:
    if device is None or device in ("auto", "cpu", "cuda"):
        return
    if not isinstance(device, str):
        raise DeviceError(f"device: expected 'auto', 'cpu' or 'cuda', not {device!r}")
    if not (device.startswith("cuda:") and device[5:].isdigit()):
        raise DeviceError(f"device: expected 'auto', 'cpu', 'cuda' or 'cuda:N', not {device!r}")


def resolve_device(device: str | None) -> str:
    """Turn ``None``/``"auto"``/``"cpu"``/``"cuda"``/``"cuda:N"`` into a usable torch device name.

    Raises:
        DeviceError: the name is unknown, or CUDA was asked for and is not available.
    """
    _check_device_name(device)
    if device is None or device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cpu":
        return device
    if not torch.cuda.is_available():
        raise DeviceError(f"device: {device!r} was asked for but CUDA is not available here")
    if device != "cuda" and int(device[5:]) >= torch.cuda.device_count():
        raise DeviceError(f"device: {device!r} does not exist ({torch.cuda.device_count()} CUDA devices)")
    return device


class FramePipeline:
    """A frame from its L* and hints to sRGB with one :class:`Settings`.

    Building it resolves the device, loads the engine (a model once per process) and has the C
    allocator keep freed memory for the next frame (:mod:`vscolorize.core.allocator`); it holds no
    per-frame state: every method is a pure function of its arguments, safe from several threads.

    Raises:
        DeviceError, ModelUnavailableError, SettingError: the device or the model is not there.
    """

    def __init__(self, settings: Settings) -> None:
        keep_freed_memory()  # a frame's large arrays reuse the last frame's pages
        self.settings = settings
        self.device = resolve_device(settings.device)
        self.engine: Engine = create_engine(settings, self.device)
        self.members = plan_members(settings.ensemble, self.engine.variants)
        self.cleanup = parse_postprocess(settings.postprocess)

    def ab_small(self, lightness: np.ndarray, keyframe: Keyframe | None) -> np.ndarray:
        """The engine's a*b* at its working size, (h, w, 2) float32, an ensemble's members
        combined; ``lightness``: (H, W) L* in [0, 100] at full size."""
        predictions = self.engine.predict(lightness, keyframe, self.members)
        return ensemble(predictions, cast(EnsembleMode, self.settings.ensemble_mode))

    def clean(self, ab: np.ndarray, lightness: np.ndarray, keyframe: Keyframe | None) -> np.ndarray:
        """The clean-ups on working-size a*b* (from :meth:`ab_small`); ``lightness`` and
        ``keyframe`` are the frame's own, at full size."""
        if not self.cleanup.active:
            return ab
        h, w = ab.shape[:2]
        small = cv2.resize(lightness, (w, h), interpolation=cv2.INTER_AREA)
        return self.cleanup.apply(small, ab, *rasterize(keyframe, h, w))

    def prediction(self, lightness: np.ndarray, keyframe: Keyframe | None) -> np.ndarray:
        """The engine's a*b* at its working size, cleaned up: what the temporal filter averages."""
        return self.clean(self.ab_small(lightness, keyframe), lightness, keyframe)

    def upsample(self, ab: np.ndarray, lightness: np.ndarray, keyframe: Keyframe | None) -> np.ndarray:
        """Working-size a*b* -> (H, W, 2) at ``lightness``'s size, guided by it, cleaned up at that
        size, hints exact."""
        full = upsample_ab(ab, lightness, None, device=self.device, eps=self.cleanup.guide_eps)
        return self.cleanup.finish(lightness, full, keyframe)

    def ab(self, lightness: np.ndarray, keyframe: Keyframe | None) -> np.ndarray:
        """(H, W) L* and the frame's hints -> (H, W, 2) float32 a*b* (no temporal filter)."""
        return self.upsample(self.prediction(lightness, keyframe), lightness, keyframe)

    def rgb(self, lightness: np.ndarray, keyframe: Keyframe | None) -> np.ndarray:
        """(H, W) L* and hints -> (H, W, 3) float32 sRGB whose L* is ``lightness``."""
        return lab_planes_to_srgb(lightness, self.ab(lightness, keyframe))

    def video(self, footage: Footage, hints: Hints | None, *, workers: int = 1) -> VideoPipeline:
        """This pipeline on the frames of ``footage``, with its hints (carried along the shots
        when the settings propagate them); ``workers``: threads that may make one frame's
        temporal window at once (see :class:`vscolorize.core.temporal.TemporalWindow`)."""
        return VideoPipeline(self, footage, hints, workers=workers)


class VideoPipeline:
    """A :class:`FramePipeline` bound to a clip: frame n's hints (the artist's keyframe, or those
    carried to it), and the temporal filter over its neighbors.

    Every value it keeps (predictions, motion, carried hints) is a pure function of its own frames,
    so a frame comes out bit-identical in any order, on any number of threads.
    """

    def __init__(
        self, pipeline: FramePipeline, footage: Footage, hints: Hints | None, *, workers: int = 1
    ) -> None:
        self.pipeline = pipeline
        self.footage = footage
        settings = pipeline.settings
        self.hints_of: Callable[[int], Keyframe | None]
        if hints is None:
            self.hints_of = lambda n: None
        elif settings.propagate:
            self.hints_of = CarriedHints(footage, hints, settings.propagation).keyframe
        else:
            self.hints_of = hints.painted
        self.radius = settings.temporal
        self.window = (
            TemporalWindow(pipeline, footage, self.hints_of, self.radius, workers) if self.radius else None
        )

    def rgb(self, n: int, frames: Neighbors, predicted: Predicted | None = None) -> np.ndarray:
        """Frame ``n`` in sRGB, (H, W, 3) float32; ``frames`` holds it and its ``radius``
        neighbors on each side (held at the clip's ends). ``predicted``: the network's a*b* of
        those frames made elsewhere (another runtime), in place of the engine's."""
        lightness = frames.lightness(n)
        keyframe = self.hints_of(n)
        if self.window is not None:
            # each frame is cleaned up before the filter averages it with its neighbors: segments
            # differ a little from frame to frame, and the filter evens that out
            ab = self.window.filtered(n, frames, predicted)
        elif predicted is not None:
            ab = self.pipeline.clean(predicted(n), lightness, keyframe)
        else:
            ab = self.pipeline.prediction(lightness, keyframe)
        return lab_planes_to_srgb(lightness, self.pipeline.upsample(ab, lightness, keyframe))


def check_keyframes(hints: HintsLike | None, count: int) -> Hints | None:
    """``hints`` loaded and checked against a ``count``-frame clip (no keyframe past its end).

    Raises:
        HintError: unreadable hints, or a keyframe past the clip's last frame.
    """
    resolved = resolve_hints(hints)
    check_frames(resolved, count)
    return resolved


def colorize_image(
    image: np.ndarray,
    hints: HintsLike | None = None,
    *,
    method: str = DEFAULT_METHOD,
    device: str | None = None,
    model: str | os.PathLike[str] = "auto",
    postprocess: Sequence[str] = (),
    ensemble: int = 1,
    ensemble_mode: str = "mean",
    settings: Settings | None = None,
) -> np.ndarray:
    """Colorize one picture.

    Args:
        image: (H, W) gray or (H, W, 3) sRGB, float in [0, 1]; a color picture is reduced to its
            L* first. A gray picture is read as sRGB gray, so ``ab = 0`` gives it back.
        hints: a path, a dict in the hints format, a :class:`Hints`, or None; the keyframe at
            frame 0 applies.
        method, device, model, postprocess, ensemble, ensemble_mode: as :class:`Settings` holds
            them.
        settings: all of them as one object, in place of the keywords (its video settings,
            ``temporal`` and ``propagate``, do not apply to one picture).

    Returns:
        (H, W, 3) float32 sRGB in [0, 1] whose L* is the input's, up to rounding.

    Raises:
        ImageError, HintError, DeviceError, ModelUnavailableError, SettingError: bad input, each
            with a one-line message naming the parameter.
    """
    with named("colorize_image"):
        if settings is None:
            settings = Settings(
                method=method,
                model=model,  # type: ignore[arg-type]
                device=device,
                postprocess=postprocess,  # type: ignore[arg-type]
                ensemble=ensemble,
                ensemble_mode=ensemble_mode,
            )
        if settings.backend != "torch":
            raise SettingError(f"backend={settings.backend!r} runs in VapourSynth only: pictures use torch")
        pipeline = FramePipeline(settings)
    lightness = image_lightness(image)
    resolved = resolve_hints(hints)
    if resolved is not None and resolved.keyframes and resolved.keyframe(0) is None:
        frames = ", ".join(map(str, resolved.frames[:5]))
        raise HintError(f"colorize_image: hints have no keyframe for frame 0 (they have {frames})")
    keyframe = resolved.keyframe(0) if resolved else None
    if settings.method == "optimization" and keyframe is None:
        log.warning("colorize_image: no hints on frame 0: the optimization leaves the picture gray")
    return pipeline.rgb(lightness, keyframe)
