"""Training and fine-tuning of the guided colorizer on any folder of color pictures (and videos).

Beside the inference path, never imported by it. Each step: random crops at several scales and
flips, converted to L*a*b*; hints like an artist's (:func:`simulate_hints`: small discs and short
strokes of one flat color inside one region); for some samples the hue rotated (those with hints)
or the gray conversion changed; MSE of the sRGB picture; AdamW with a cosine schedule and a moving
average of the weights. Checkpoints are safetensors too (no pickle) and resumable.
"""

from __future__ import annotations

import copy
import json
import logging
import math
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, fields, replace
from pathlib import Path

import cv2
import numpy as np
import torch
from safetensors import safe_open
from safetensors.torch import save_file
from torch.nn import functional as F

from .color import AB_SCALE, lab_to_srgb, srgb_to_lab
from .engine import image_lightness, lightness_ab_to_srgb
from .errors import ImageError
from .hints import Color, Hints, Keyframe, Point
from .images import PICTURE_SUFFIXES
from .inference import Colorizer
from .metrics import psnr
from .model import ColorUNet, ModelConfig, load_model, save_model

__all__ = [
    "CALIBRATION_SCALES",
    "LOSSES",
    "TrainOptions",
    "calibrate",
    "hint_count",
    "load_pictures",
    "picture_loss",
    "point_hints",
    "simulate_hints",
    "train",
    "validate",
    "warm_start",
]

log = logging.getLogger(__name__)

VIDEO_SUFFIXES = {".avi", ".mp4", ".mkv", ".mov", ".webm", ".m4v"}
VALIDATION_HINTS = (0, 1, 5, 10, 20, 50, 100)
_STROKE_SHARE = 0.3  # of simulated hints that are strokes rather than discs
_CARRIED_SHARE = 0.05  # of samples whose hints are a few pixels off, as carried by flow
_REGION_AB = 8.0  # a hint covers only pixels this close in a*b* and in L to its center
_REGION_L = 12.0
_COLOR_JITTER = 1.5
_FILM_SHARE = 0.15  # of samples whose L comes from another gray conversion, tone curve and grain
_FRAMES_PER_VIDEO = 40
_EMA_DECAY = 0.999
# the shares of its correction a picture with hints may get, tried by :func:`calibrate`
CALIBRATION_SCALES = tuple(i / 10 for i in range(11))
LOSSES = ("psnr", "mse")
# the per-sample loss's floor on MSE (sRGB in [0, 1]): 50 dB, where a picture counts as perfect
_PSNR_FLOOR = 1e-5


@dataclass(frozen=True)
class TrainOptions:
    steps: int = 20_000
    batch: int = 16
    crop: int = 128
    # the smallest crop as a share of the picture's short side (crops are 'smallest' to 100 %):
    # nearer 1, the things in a crop are nearer the size they have at the working size
    smallest_crop: float = 0.35
    lr: float = 1e-3
    weight_decay: float = 1e-4
    warmup: int = 200
    checkpoint_every: int = 250
    validate_every: int = 1_000
    seed: int = 0
    loss: str = "psnr"
    no_hints: float = 0.1  # share of samples with no hint at all: the prior without hints
    most_hints: int = 100  # hint counts are log-uniform from 1 to below this
    # share of samples with hints whose colors are rotated in hue and scaled in chroma: where
    # the hints alone say the colors, the network learns to follow them rather than its priors
    recolor: float = 0.5


def load_pictures(images: Path | None, videos: Path | None = None) -> list[np.ndarray]:
    """Color pictures under ``images`` and frames sampled from videos under ``videos``, RGB uint8.

    Raises:
        ImageError: a folder is missing or holds nothing usable.
    """
    pictures: list[np.ndarray] = []
    for folder, suffixes in ((images, PICTURE_SUFFIXES), (videos, VIDEO_SUFFIXES)):
        if folder is None:
            continue
        if not folder.is_dir():
            raise ImageError(f"{folder}: no such folder")
        for path in sorted(p for p in folder.rglob("*") if p.suffix.lower() in suffixes):
            if suffixes is PICTURE_SUFFIXES:
                bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
                if bgr is not None:
                    pictures.append(np.ascontiguousarray(bgr[..., ::-1]))
            else:
                pictures += _video_frames(path)
    if not pictures:
        raise ImageError(f"{images or videos}: holds no pictures or videos to train on")
    return pictures


def _video_frames(path: Path) -> list[np.ndarray]:
    capture = cv2.VideoCapture(str(path))
    total = int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) or _FRAMES_PER_VIDEO
    wanted = set(np.linspace(0, total - 1, min(total, _FRAMES_PER_VIDEO)).astype(int).tolist())
    frames, index = [], 0
    while True:
        ok, bgr = capture.read()
        if not ok:
            break
        if index in wanted:
            frames.append(np.ascontiguousarray(bgr[..., ::-1]))
        index += 1
    capture.release()
    return frames


def _crop(
    picture: np.ndarray, size: int, rng: np.random.Generator, smallest: float = TrainOptions.smallest_crop
) -> np.ndarray:
    """A random square crop of ``smallest``-100 % of the short side, resized to ``size``, maybe
    flipped."""
    h, w = picture.shape[:2]
    side = max(int(min(h, w) * rng.uniform(smallest, 1.0)), 8)
    y, x = rng.integers(0, h - side + 1), rng.integers(0, w - side + 1)
    crop = cv2.resize(picture[y : y + side, x : x + side], (size, size), interpolation=cv2.INTER_AREA)
    return crop[:, ::-1] if rng.random() < 0.5 else crop


def hint_count(
    rng: np.random.Generator,
    no_hints: float = TrainOptions.no_hints,
    most: int = TrainOptions.most_hints,
) -> int:
    """How many hints a training sample gets: none in a share ``no_hints`` of samples (1 in 10 by
    default), otherwise log-uniform from 1 to below ``most`` (1 when ``most`` is 1; with 100,
    three quarters get 30 or fewer). A smaller ``most`` weights training toward few hints."""
    if rng.random() < no_hints:
        return 0
    return int(np.exp(rng.uniform(0, np.log(most))))


def simulate_hints(
    ab: np.ndarray, lightness: np.ndarray, rng: np.random.Generator, count: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Hints like an artist's for one ground truth.

    Each hint is a small disc (70 %) or a short stroke (30 %) of one flat color, kept inside one
    region: only the pixels near its center whose color and lightness are close to the center's.
    Its color is their mean a*b*, jittered by about 1.5 units; in one sample in 20 every
    hint is then painted a few pixels off its place, as hints carried along optical flow are.
    Centers are uniform over the picture.

    Args:
        ab: (2, H, W) ground-truth a*b*.
        lightness: (H, W) ground-truth L.
        count: how many hints; None draws it (:func:`hint_count`).

    Returns:
        ``(ab_hint, mask)``: (2, H, W) float32 and (1, H, W) float32 in {0, 1}.
    """
    _, h, w = ab.shape
    hint = np.zeros_like(ab, dtype=np.float32)
    mask = np.zeros((1, h, w), np.float32)
    if count is None:
        count = hint_count(rng)
    shift = (0, 0) if rng.random() >= _CARRIED_SHARE else tuple(rng.integers(-3, 4, size=2))
    for _ in range(count):
        cy, cx = int(rng.integers(0, h)), int(rng.integers(0, w))
        shape = np.zeros((h, w), np.uint8)
        if rng.random() < _STROKE_SHARE:
            points = [(cx, cy)]
            for _ in range(int(rng.integers(1, 4))):
                angle, length = rng.uniform(0, 2 * math.pi), rng.uniform(3, 0.08 * min(h, w) + 4)
                x, y = points[-1]
                x, y = x + length * math.cos(angle), y + length * math.sin(angle)
                points.append((int(x), int(y)))
            cv2.polylines(shape, [np.array(points, np.int32)], False, 1, int(rng.integers(1, 4)))
        else:
            cv2.circle(shape, (cx, cy), int(rng.integers(1, 5)), 1, -1)
        same = (np.abs(ab - ab[:, cy, cx, None, None]).max(0) < _REGION_AB) & (
            np.abs(lightness - lightness[cy, cx]) < _REGION_L
        )
        covered = shape.astype(bool) & same
        covered[cy, cx] = True
        color = ab[:, covered].mean(axis=1) + rng.normal(0, _COLOR_JITTER, 2)
        if shift != (0, 0):
            covered = np.roll(covered, shift, axis=(0, 1))
        hint[:, covered] = color[:, None]
        mask[:, covered] = 1
    return hint, mask


def _augment_colors(
    lab: torch.Tensor, counts: list[int], share: float, rng: np.random.Generator
) -> torch.Tensor:
    """Rotate the hue and scale the chroma of the ground truth of a ``share`` of the pictures with
    hints (before their hints are made from it): there the hints, not what the picture shows,
    say the colors, which teaches propagation without false priors; a picture without hints
    keeps its colors, the priors it teaches are true."""
    ab = lab[:, 1:].clone()
    for i in range(len(lab)):
        if counts[i] > 0 and rng.random() < share:
            angle, scale = rng.uniform(-math.pi, math.pi), rng.uniform(0.6, 1.3)
            c, s = math.cos(angle) * scale, math.sin(angle) * scale
            a, b = ab[i, 0].clone(), ab[i, 1].clone()
            ab[i, 0], ab[i, 1] = c * a - s * b, s * a + c * b
    return torch.cat([lab[:, :1], ab.clamp(-AB_SCALE, AB_SCALE)], 1)


def _film_lightness(rgb: torch.Tensor, lab: torch.Tensor, rng: np.random.Generator) -> torch.Tensor:
    """The L the network sees: for some pictures from another gray conversion (film stocks see
    red, green and blue in other proportions), through a tone curve, with grain."""
    out = lab[:, :1].clone()
    for i in range(len(rgb)):
        if rng.random() < _FILM_SHARE:
            weights = torch.from_numpy(rng.dirichlet([3.0, 6.0, 1.5]).astype(np.float32))
            gray = (rgb[i] * weights.to(rgb.device)[:, None, None]).sum(0, keepdim=True)
            lightness = srgb_to_lab(gray.expand(3, -1, -1)[None])[0, :1]
            lightness = 100 * (lightness / 100).clamp(0, 1) ** rng.uniform(0.8, 1.25)
            grain = torch.randn_like(lightness) * rng.uniform(0, 3)
            out[i] = (lightness + grain).clamp(0, 100)
    return out


def _batch(
    pictures: list[np.ndarray], options: TrainOptions, rng: np.random.Generator, device: str
) -> tuple[torch.Tensor, ...]:
    """L as the network sees it, hint a*b*, mask and the ground truth L*a*b*."""
    crops = np.stack(
        [
            _crop(pictures[rng.integers(len(pictures))], options.crop, rng, options.smallest_crop)
            for _ in range(options.batch)
        ]
    )
    rgb = torch.from_numpy(crops).to(device).permute(0, 3, 1, 2).float() / 255
    counts = [hint_count(rng, options.no_hints, options.most_hints) for _ in range(options.batch)]
    lab = _augment_colors(srgb_to_lab(rgb), counts, options.recolor, rng)
    ab, lightness = lab[:, 1:].cpu().numpy(), lab[:, 0].cpu().numpy()
    hints = [simulate_hints(ab[i], lightness[i], rng, counts[i]) for i in range(options.batch)]
    ab_hint = torch.from_numpy(np.stack([h for h, _ in hints])).to(device)
    mask = torch.from_numpy(np.stack([m for _, m in hints])).to(device)
    return _film_lightness(rgb, lab, rng), ab_hint, mask, lab


def point_hints(rgb: np.ndarray, count: int, seed: int) -> Hints:
    """``count`` uniformly placed points on an RGB picture, each revealing its 5x5 ground-truth
    patch mean as a disc of radius 2 px: the hints of validation and of benchmarks/models.py."""
    rng = np.random.default_rng(seed)
    lab = srgb_to_lab(rgb)
    h, w = rgb.shape[:2]
    points = []
    for _ in range(count):
        r, c = int(rng.integers(2, h - 2)), int(rng.integers(2, w - 2))
        a, b = lab[r - 2 : r + 3, c - 2 : c + 3, 1:].reshape(-1, 2).mean(0).tolist()
        points.append(Point(x=(c + 0.5) / w, y=(r + 0.5) / h, color=Color(ab=(a, b)), radius=2 / min(h, w)))
    return Hints(keyframes=(Keyframe(frame=0, points=tuple(points)),))


def validate(
    model: ColorUNet, pictures: list[np.ndarray], counts: tuple[int, ...] = VALIDATION_HINTS
) -> dict[int, float]:
    """Mean RGB PSNR per hint count through the inference path (working size, guided upsampling,
    exact hints), as ``colorize_image`` runs the model; :func:`point_hints` with fixed seeds."""
    colorizer = Colorizer(copy.deepcopy(model).cpu(), "cpu")
    result = {}
    for count in counts:
        scores = []
        for i, rgb in enumerate(pictures):
            picture = rgb.astype(np.float32) / 255
            lightness = image_lightness(picture)
            hints = point_hints(picture, count, seed=1000 * count + i)
            (ab,) = colorizer.predict([lightness], [hints.keyframes[0]])
            scores.append(psnr(lightness_ab_to_srgb(lightness, ab), picture))
        result[count] = float(np.mean(scores))
    return result


def calibrate(model: ColorUNet, pictures: list[np.ndarray]) -> tuple[ColorUNet, dict[int, float]]:
    """``model`` with the share of its correction that pictures with hints get
    (``hinted_correction``) chosen on ``pictures``, which it was never trained on: of
    :data:`CALIBRATION_SCALES`, the one with the best mean validation PSNR over 1 to 100 hints;
    and its validation scores (:func:`validate`). Pictures without hints keep all of it.

    A network trained on a few hundred pictures is surer of its corrections than pictures it never
    saw bear out: on the validation pictures, run 5's third cycle is at 23.93 dB with 5 hints
    given all of its correction and at 24.17 given 0.4 of it."""
    hinted = tuple(count for count in VALIDATION_HINTS if count > 0)
    best: tuple[float, ColorUNet, dict[int, float]] | None = None
    for scale in CALIBRATION_SCALES:
        candidate = copy.deepcopy(model)
        candidate.config = replace(model.config, hinted_correction=scale)
        scores = validate(candidate, pictures, hinted)
        mean = float(np.mean(list(scores.values())))
        log.info("correction x%.1f with hints: validation PSNR %.3f dB (1-100 hints)", scale, mean)
        if best is None or mean > best[0]:
            best = (mean, candidate, scores)
    assert best is not None
    _, chosen, scores = best
    return chosen, validate(chosen, pictures, (0,)) | scores


def _base_of(config: ModelConfig) -> tuple[object, ...]:
    return tuple(getattr(config, f.name) for f in fields(config) if f.name.startswith("base"))


def warm_start(source: ColorUNet, config: ModelConfig) -> ColorUNet:
    """A network of ``config`` starting from ``source``'s weights: ``source`` itself when the
    configs agree; otherwise every tensor of the same shape is taken over, the first convolution
    for the inputs both have (a new base's extra inputs are appended, so the first ones agree;
    the new ones start at zero), and the correction's last layer starts at zero when the base
    or its settings changed, so the new network starts from its own base's answer."""
    if source.config == config:
        return source
    target = ColorUNet(config)
    state = target.state_dict()
    taken = []
    for key, value in source.state_dict().items():
        if key not in state:
            continue
        if value.shape == state[key].shape:
            state[key] = value.clone()
        elif key == "stem.0.weight" and value.shape[0] == state[key].shape[0]:
            shared = min(value.shape[1], state[key].shape[1])
            state[key] = torch.zeros_like(state[key])
            state[key][:, :shared] = value[:, :shared]
        else:
            continue
        taken.append(key)
    if _base_of(source.config) != _base_of(config):
        for key in ("head.weight", "head.bias"):
            state[key] = torch.zeros_like(state[key])
            taken.remove(key)
    target.load_state_dict(state)
    log.info("warm start: %d of %d tensors taken over", len(taken), len(state))
    return target


def _checkpoint_path(out: Path) -> Path:
    return out.with_name(out.name + ".checkpoint")


def _save_checkpoint(
    path: Path, model: ColorUNet, ema: ColorUNet, optimizer: torch.optim.Optimizer, step: int
) -> None:
    tensors = {f"model.{k}": v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    tensors |= {f"ema.{k}": v.detach().cpu().contiguous() for k, v in ema.state_dict().items()}
    for index, state in optimizer.state_dict()["state"].items():
        for key, value in state.items():
            tensors[f"optimizer.{index}.{key}"] = torch.as_tensor(value).detach().cpu().contiguous()
    metadata = {"step": str(step), "config": model.config.to_json()}
    tmp = path.with_name(f".{path.name}.tmp")
    save_file(tensors, str(tmp), metadata=metadata)
    os.replace(tmp, path)


def _load_checkpoint(path: Path, device: str) -> tuple[ColorUNet, ColorUNet, dict[str, torch.Tensor], int]:
    """The model, its moving average (the model itself in checkpoints older than the average),
    the optimizer's tensors and the step."""
    with safe_open(str(path), framework="pt") as f:
        metadata = f.metadata() or {}
        tensors = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118
    config = ModelConfig.from_json(metadata["config"])
    model, ema = ColorUNet(config), ColorUNet(config)
    model.load_state_dict({k[6:]: v for k, v in tensors.items() if k.startswith("model.")})
    averaged = {k[4:]: v for k, v in tensors.items() if k.startswith("ema.")}
    ema.load_state_dict(averaged or model.state_dict())
    return model.to(device), ema.to(device), tensors, int(metadata["step"])


@torch.no_grad()
def _update_average(ema: ColorUNet, model: ColorUNet, step: int) -> None:
    """Exponential moving average of the weights; early on it follows faster (1 - 1/(step+10) at
    most), so a fresh run's average is not dragged toward its random start."""
    decay = min(_EMA_DECAY, 1 - 1 / (step + 10))
    for average, current in zip(ema.parameters(), model.parameters(), strict=True):
        average.lerp_(current, 1 - decay)


def _restore_optimizer(optimizer: torch.optim.Optimizer, tensors: dict[str, torch.Tensor]) -> None:
    state = optimizer.state_dict()
    for key, value in tensors.items():
        if key.startswith("optimizer."):
            _, index, name = key.split(".", 2)
            state["state"].setdefault(int(index), {})[name] = value
    optimizer.load_state_dict(state)


def _schedule(step: int, options: TrainOptions) -> float:
    if step < options.warmup:
        return (step + 1) / options.warmup
    progress = (step - options.warmup) / max(options.steps - options.warmup, 1)
    return 0.5 * (1 + math.cos(math.pi * min(progress, 1.0)))


def picture_loss(shown: torch.Tensor, truth: torch.Tensor, kind: str) -> torch.Tensor:
    """The training loss of a batch of sRGB pictures (B, 3, H, W) against their truth.

    ``"psnr"``: minus the mean of each picture's PSNR (dB, MSE floored at 50 dB), the measure
    itself: results are reported as the mean PSNR of pictures, where a picture the base already
    gets right (one flat color and its hint: 41 dB) loses 19 dB when the network tints it,
    while pooled MSE barely sees it. ``"mse"``: MSE pooled over the batch (runs 3 and 4).
    """
    if kind == "mse":
        return F.mse_loss(shown, truth)
    if kind != "psnr":
        raise ValueError(f"unknown loss {kind!r}; one of {LOSSES}")
    per_picture = (shown - truth).square().mean((1, 2, 3))
    return 10 * torch.log10(per_picture + _PSNR_FLOOR).mean()


def _batches(
    pictures: list[np.ndarray], options: TrainOptions, rng: np.random.Generator, device: str
) -> Iterator[tuple[torch.Tensor, ...]]:
    while True:
        yield _batch(pictures, options, rng, device)


def train(
    pictures: list[np.ndarray],
    out: Path,
    *,
    config: ModelConfig,
    options: TrainOptions = TrainOptions(),
    device: str = "cpu",
    resume: bool = False,
    init: Path | None = None,
    validation: list[np.ndarray] | None = None,
    progress: bool = True,
) -> dict[int, float]:
    """Train (or fine-tune from ``init``), write the weights to ``out``; return validation PSNR.

    ``out`` gets the exponential moving average of the weights (what validation measures); the
    checkpoint beside it (``out.checkpoint``) holds the weights, their average and the optimizer
    state for ``resume``. Given ``validation`` pictures, the written weights end calibrated on them
    (:func:`calibrate`)."""
    from tqdm import tqdm

    torch.manual_seed(options.seed)
    rng = np.random.default_rng(options.seed)
    config = replace(config, hinted_correction=1.0)  # calibrated after training, not during
    checkpoint = _checkpoint_path(out)
    start = 0
    tensors: dict[str, torch.Tensor] = {}
    if resume and checkpoint.exists():
        model, ema, tensors, start = _load_checkpoint(checkpoint, device)
        rng = np.random.default_rng([options.seed, start])
        log.info("resuming %s at step %d", checkpoint, start)
    else:
        model = ColorUNet(config) if init is None else warm_start(load_model(init), config)
        model = model.to(device)
        ema = copy.deepcopy(model)
    model.train()
    ema.eval().requires_grad_(False)
    optimizer = torch.optim.AdamW(model.parameters(), lr=options.lr, weight_decay=options.weight_decay)
    if tensors:
        _restore_optimizer(optimizer, tensors)
    val = validation or pictures[:8]
    bar = tqdm(
        range(start, options.steps),
        initial=start,
        total=options.steps,
        disable=not progress,
        desc=f"training {model.config.name}",
        unit="step",
    )
    began = time.perf_counter()
    scores: dict[int, float] = {}
    batches = _batches(pictures, options, rng, device)
    for step in bar:
        for group in optimizer.param_groups:
            group["lr"] = options.lr * _schedule(step, options)
        l, ab_hint, mask, lab = next(batches)
        pred = model(l, ab_hint, mask)
        # MSE on the sRGB picture, as the result is shown and measured (PSNR): an error in a*b*
        # costs more in bright colors than in dark ones, and a*b* MSE improved by the network
        # lowered RGB PSNR (run 3's first 1250 steps)
        shown = lab_to_srgb(torch.cat([lab[:, :1], pred], 1))  # clipped: fast, differentiable
        loss = picture_loss(shown, lab_to_srgb(lab), options.loss)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        _update_average(ema, model, step)
        bar.set_postfix(loss=f"{loss.item():.5f}")
        done = step + 1
        if done % options.checkpoint_every == 0 or done == options.steps:
            _save_checkpoint(checkpoint, model, ema, optimizer, done)
            save_model(ema, out, steps=str(done), seconds=f"{time.perf_counter() - began:.0f}")
        if done % options.validate_every == 0 or done == options.steps:
            scores = validate(ema, val)
            log.info(
                "step %d validation PSNR %s",
                done,
                json.dumps({k: round(v, 2) for k, v in scores.items()}),
            )
    if validation is not None:
        ema, scores = calibrate(ema, validation)
        seconds = f"{time.perf_counter() - began:.0f}"
        save_model(ema, out, steps=str(options.steps), seconds=seconds)
        log.info("calibrated: %.1f of the correction with hints", ema.config.hinted_correction)
    return scores
