"""colorize_image: the engine API for one picture (DESIGN.md, a contract).

It validates its inputs, takes the picture's lightness, paints the frame-0 hints at the picture's
size, asks the chosen colorizer for a*b*, and converts back to sRGB with the chroma (not the
lightness) lowered where a color falls outside the sRGB gamut, so the output's L is the input's.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from typing import Literal

import cv2
import numpy as np
import torch

from .color import gray_to_l, lab_planes_to_srgb, srgb_to_l
from .errors import DeviceError, HintError, ImageError, ModelUnavailableError, SettingError
from .hints import Hints, HintsLike, Keyframe, paint_hints, rasterize, resolve_hints
from .inference import Colorizer, load_colorizer, upsample_ab
from .optimization import levin_colorize
from .postprocess import ENSEMBLE_MODES, EnsembleMode, parse_postprocess

__all__ = [
    "DEFAULT_METHOD",
    "METHODS",
    "FrameColorizer",
    "Method",
    "colorize_image",
    "image_lightness",
    "lightness_ab_to_srgb",
    "resolve_device",
]

log = logging.getLogger(__name__)

Method = Literal["model", "optimization"]
METHODS: tuple[str, ...] = ("model", "optimization")
DEFAULT_METHOD: Method = "model"


def resolve_device(device: str | None, *, name: str = "device") -> str:
    """Turn ``None``/``"auto"``/``"cpu"``/``"cuda"``/``"cuda:N"`` into a usable torch device name.

    Raises:
        DeviceError: the name is unknown, or CUDA was asked for and is not available.
    """
    if device is None or device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if not isinstance(device, str):
        raise DeviceError(f"{name}: expected 'auto', 'cpu' or 'cuda', not {device!r}")
    if device == "cpu":
        return device
    if device == "cuda" or (device.startswith("cuda:") and device[5:].isdigit()):
        if not torch.cuda.is_available():
            raise DeviceError(f"{name}: {device!r} was asked for but CUDA is not available here")
        if device != "cuda" and int(device[5:]) >= torch.cuda.device_count():
            raise DeviceError(f"{name}: {device!r} does not exist ({torch.cuda.device_count()} CUDA devices)")
        return device
    raise DeviceError(f"{name}: expected 'auto', 'cpu', 'cuda' or 'cuda:N', not {device!r}")


def image_lightness(image: np.ndarray, *, name: str = "image") -> np.ndarray:
    """Validate a picture and return its CIE L*.

    Args:
        image: (H, W) gray or (H, W, 3) sRGB, float in [0, 1] (uint8 and uint16 are scaled).
        name: what to call the picture in error messages.

    Returns:
        (H, W) float32 L in [0, 100].

    Raises:
        ImageError: wrong type, shape, range, or non-finite values.
    """
    if not isinstance(image, np.ndarray):
        raise ImageError(f"{name}: expected a numpy array, not {type(image).__name__}")
    if image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[2] != 3):
        raise ImageError(f"{name}: expected shape (H, W) or (H, W, 3), not {image.shape}")
    if image.shape[0] < 1 or image.shape[1] < 1:
        raise ImageError(f"{name}: the picture is empty ({image.shape})")
    if image.dtype in (np.uint8, np.uint16):
        image = image.astype(np.float32) / np.iinfo(image.dtype).max
    elif not np.issubdtype(image.dtype, np.floating):
        raise ImageError(f"{name}: expected float in [0, 1], uint8 or uint16, not {image.dtype}")
    image = image.astype(np.float32, copy=False)
    if not np.isfinite(image).all():
        raise ImageError(f"{name}: holds NaN or infinite values")
    low, high = float(image.min()), float(image.max())
    if low < 0 or high > 1:
        raise ImageError(f"{name}: values must lie in [0, 1], found [{low:g}, {high:g}]")
    if image.ndim == 2:
        return gray_to_l(image)
    return srgb_to_l(image)


def _frame_zero(hints: Hints | None) -> Hints | None:
    if hints is not None and hints.keyframes and hints.keyframe(0) is None:
        frames = ", ".join(map(str, hints.frames[:5]))
        raise HintError(f"colorize_image: hints have no keyframe for frame 0 (they have {frames})")
    return hints


# The optimization runs with the short side at most this long, its a*b* then upsampled guided by
# the full-resolution L like the model's: chroma is smooth, so at 854x480 this costs 0.04-0.07 dB
# against solving at full size and runs 3x faster (benchmarks/levin.py).
OPTIMIZATION_SHORT_SIDE = 320


def _optimization_size(height: int, width: int) -> tuple[int, int]:
    scale = min(1.0, OPTIMIZATION_SHORT_SIDE / min(height, width))
    return max(round(height * scale), 1), max(round(width * scale), 1)


class FrameColorizer:
    """Settings checked once, then any number of frames colorized with them.

    ``colorize_image`` and the VapourSynth node both use it, so a picture and a video frame go
    through exactly the same steps. It holds no per-frame state: :meth:`ab` is a pure function of
    its arguments and safe to call from several threads at once.

    Args:
        caller: the public function's name, put in front of every error message.
        method, device, model, postprocess, ensemble, ensemble_mode: as in
            :func:`colorize_image`.

    Raises:
        DeviceError, ModelUnavailableError, SettingError: a bad setting, named in one line.
    """

    def __init__(
        self,
        *,
        caller: str,
        method: str = DEFAULT_METHOD,
        device: str | None = None,
        model: str | os.PathLike[str] = "auto",
        postprocess: Sequence[str] = (),
        ensemble: int = 1,
        ensemble_mode: EnsembleMode = "mean",
    ) -> None:
        self.caller = caller
        if method not in METHODS:
            raise SettingError(f"{caller}: method must be one of {METHODS}, not {method!r}")
        self.cleanup = parse_postprocess(postprocess, caller=caller)
        if isinstance(ensemble, bool) or not isinstance(ensemble, int) or ensemble < 1:
            raise SettingError(f"{caller}: ensemble must be a whole number >= 1, not {ensemble!r}")
        if ensemble > 1 and method != "model":
            raise SettingError(f"{caller}: ensemble={ensemble} needs method='model'")
        if ensemble_mode not in ENSEMBLE_MODES:
            raise SettingError(
                f"{caller}: ensemble_mode must be one of {ENSEMBLE_MODES}, not {ensemble_mode!r}"
            )
        if not isinstance(model, str | os.PathLike):
            raise SettingError(f"{caller}: model must be 'auto', 'fast', 'large' or a path, not {model!r}")
        try:
            self.device = resolve_device(device)
        except DeviceError as e:
            raise DeviceError(f"{caller}: {e}") from None
        self.method = method
        self.colorizer: Colorizer | None = None
        if method == "model":
            try:
                self.colorizer = load_colorizer(model, self.device, members=ensemble, mode=ensemble_mode)
            except ModelUnavailableError as e:
                raise ModelUnavailableError(f"{caller}: {e}") from None
            except ValueError as e:
                raise SettingError(f"{caller}: {e}") from None

    def ab(self, lightness: np.ndarray, keyframe: Keyframe | None) -> np.ndarray:
        """(H, W) L in [0, 100] and the frame's hints (or None) -> (H, W, 2) float32 a*b*."""
        if self.colorizer is not None and not self.cleanup.active:
            (ab,) = self.colorizer.predict([lightness], [keyframe])
            return ab
        return self.finish(self.ab_small(lightness, keyframe), lightness, keyframe)

    def ab_small(self, lightness: np.ndarray, keyframe: Keyframe | None) -> np.ndarray:
        """The colorizer's own a*b* at its working resolution, (h, w, 2) float32, before any
        post-processing; :meth:`finish` (with the same ``lightness`` and ``keyframe``) brings it
        to full size."""
        if self.colorizer is not None:
            return self.colorizer.predict_small([lightness], [keyframe])[0]
        height, width = lightness.shape
        h, w = _optimization_size(height, width)
        small = lightness
        if (h, w) != (height, width):
            small = cv2.resize(lightness, (w, h), interpolation=cv2.INTER_AREA)
        ab_hint, weight = paint_hints(keyframe, h, w)
        # Levin's optimization spreads hints (a carried one as a soft constraint, as strong as
        # its confidence); with none there is nothing to spread (a*b* = 0)
        return levin_colorize(small / 100, ab_hint, weight)

    def clean(self, ab: np.ndarray, lightness: np.ndarray, keyframe: Keyframe | None) -> np.ndarray:
        """The post-processing steps on working-resolution a*b* (from :meth:`ab_small`);
        ``lightness`` and ``keyframe`` are the frame's own, at full size."""
        if not self.cleanup.active:
            return ab
        h, w = ab.shape[:2]
        small = cv2.resize(lightness, (w, h), interpolation=cv2.INTER_AREA)
        return self.cleanup.apply(small, ab, *rasterize(keyframe, h, w))

    def finish(
        self, ab: np.ndarray, lightness: np.ndarray, keyframe: Keyframe | None, *, clean: bool = True
    ) -> np.ndarray:
        """Working-resolution a*b* (from :meth:`ab_small`) -> post-processed (unless ``clean`` is
        False: done already) and upsampled to ``lightness``'s size, (H, W, 2) float32."""
        if clean:
            ab = self.clean(ab, lightness, keyframe)
        return upsample_ab(ab, lightness, keyframe)

    def rgb(self, lightness: np.ndarray, keyframe: Keyframe | None) -> np.ndarray:
        """(H, W) L in [0, 100] and hints -> (H, W, 3) float32 sRGB whose L* is ``lightness``."""
        return lightness_ab_to_srgb(lightness, self.ab(lightness, keyframe))


def colorize_image(
    image: np.ndarray,
    hints: HintsLike | None = None,
    *,
    method: Method = DEFAULT_METHOD,
    device: str | None = None,
    model: str | os.PathLike[str] = "auto",
    postprocess: Sequence[str] = (),
    ensemble: int = 1,
    ensemble_mode: EnsembleMode = "mean",
) -> np.ndarray:
    """Colorize one picture.

    Args:
        image: (H, W) gray or (H, W, 3) sRGB, float in [0, 1]; a color picture is reduced to its
            L* first. A gray picture is read as sRGB gray, so ``ab = 0`` gives it back.
        hints: a path, a dict in the hints format, a :class:`Hints`, or None; the keyframe at
            frame 0 applies.
        method: ``"model"`` (the learned colorizer, the default) or ``"optimization"`` (Levin
            et al. 2004, CPU, leaves a picture without hints gray).
        device: ``None``/``"auto"``, ``"cpu"`` or ``"cuda[:N]"``; the optimization runs on CPU.
        model: ``"auto"`` (the large model on CUDA when installed, else the fast one), ``"fast"``,
            ``"large"``, or the path of a weights file ``vscolorize train`` wrote; only used by
            ``method="model"``.
        postprocess: clean-ups after the colorizer: ``("segment_fill",)`` fills each segment of
            the picture (SEEDS superpixels; ``"segment_fill:slic"`` or
            ``"segment_fill:felzenszwalb"`` for other segmentations) with its dominant predicted
            color (``vscolorize.core.postprocess``).
        ensemble: how many predictions to combine (``method="model"``): the model as is,
            mirrored, at a second working scale and both, then the next shipped variant
            likewise (see :func:`vscolorize.core.inference.plan_members`).
        ensemble_mode: ``"mean"``, ``"median"`` or ``"saturated"`` (see
            :func:`vscolorize.core.postprocess.ensemble`).

    Returns:
        (H, W, 3) float32 sRGB in [0, 1] whose L* is the input's, up to rounding.

    Raises:
        ImageError, HintError, DeviceError, ModelUnavailableError, SettingError: bad input, each
            with a one-line message naming the parameter.
    """
    colorizer = FrameColorizer(
        caller="colorize_image",
        method=method,
        device=device,
        model=model,
        postprocess=postprocess,
        ensemble=ensemble,
        ensemble_mode=ensemble_mode,
    )
    lightness = image_lightness(image)
    resolved = _frame_zero(resolve_hints(hints))
    keyframe = resolved.keyframe(0) if resolved else None
    if method == "optimization" and keyframe is None:
        log.warning("colorize_image: no hints on frame 0: the optimization leaves the picture gray")
    return colorizer.rgb(lightness, keyframe)


def lightness_ab_to_srgb(lightness: np.ndarray, ab: np.ndarray) -> np.ndarray:
    """(H, W) L and (H, W, 2) a*b* -> (H, W, 3) sRGB, chroma lowered (not L) where out of gamut."""
    return lab_planes_to_srgb(lightness, ab)
