"""Training and fine-tuning of the guided colorizer on any folder of color pictures (and videos).

Beside the inference path, never imported by it. Each step: random crops at several scales and
flips, converted to L*a*b*; simulated artist hints (after Zhang et al. 2017: a geometric number of
points, p = 1/8, placed Gaussian around the center with sigma = 1/4 of the size, each revealing the
mean a*b* of a 1x1 to 9x9 ground-truth patch; some hints are short strokes of one color); smooth-L1
on a*b*; AdamW with a cosine schedule. Checkpoints are safetensors too (no pickle) and resumable.
"""

from __future__ import annotations

import json
import logging
import math
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch
from safetensors import safe_open
from safetensors.torch import save_file
from torch.nn import functional as F

from .color import AB_SCALE, lab_to_srgb, srgb_to_lab
from .errors import ImageError
from .images import PICTURE_SUFFIXES
from .metrics import psnr
from .model import ColorUNet, ModelConfig, load_model, save_model

__all__ = ["TrainOptions", "load_pictures", "simulate_hints", "train", "validate"]

log = logging.getLogger(__name__)

VIDEO_SUFFIXES = {".avi", ".mp4", ".mkv", ".mov", ".webm", ".m4v"}
VALIDATION_HINTS = (0, 1, 5, 10, 20, 50, 100)
_GEOMETRIC_P = 1 / 8
_MAX_POINTS = 200
_STROKE_SHARE = 0.25  # of simulated hints that are strokes rather than points
_FRAMES_PER_VIDEO = 40
# smooth-L1 quadratic below 0.25 * 110 a*b* units: close to the mean (what PSNR rewards) for the
# usual errors, robust to the rare wild ones. 0.05 (nearly L1, the median) gave bolder guesses that
# fell below gray without hints (CPU run 1).
_HUBER_BETA = 0.25


@dataclass(frozen=True)
class TrainOptions:
    steps: int = 20_000
    batch: int = 16
    crop: int = 128
    lr: float = 1e-3
    weight_decay: float = 1e-4
    warmup: int = 200
    checkpoint_every: int = 500
    validate_every: int = 2_000
    seed: int = 0


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


def _crop(picture: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    """A random square crop of 35-100 % of the short side, resized to ``size``, maybe flipped."""
    h, w = picture.shape[:2]
    side = max(int(min(h, w) * rng.uniform(0.35, 1.0)), 8)
    y, x = rng.integers(0, h - side + 1), rng.integers(0, w - side + 1)
    crop = cv2.resize(
        picture[y : y + side, x : x + side], (size, size), interpolation=cv2.INTER_AREA
    )
    return crop[:, ::-1] if rng.random() < 0.5 else crop


def simulate_hints(
    ab: np.ndarray, rng: np.random.Generator, count: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Artist-like hints for one ground truth.

    Args:
        ab: (2, H, W) ground-truth a*b*.
        count: how many hints; None draws it from a geometric distribution (p = 1/8, so 1 in 8
            samples gets none).

    Returns:
        ``(ab_hint, mask)``: (2, H, W) float32 and (1, H, W) float32 in {0, 1}.
    """
    _, h, w = ab.shape
    hint = np.zeros_like(ab, dtype=np.float32)
    mask = np.zeros((1, h, w), np.float32)
    n = min(int(rng.geometric(_GEOMETRIC_P)) - 1, _MAX_POINTS) if count is None else count
    for _ in range(n):
        cy = int(np.clip(rng.normal(h / 2, h / 4), 0, h - 1))
        cx = int(np.clip(rng.normal(w / 2, w / 4), 0, w - 1))
        half = int(rng.integers(0, 5))  # 1x1 .. 9x9
        if rng.random() < _STROKE_SHARE:
            _stroke(ab, hint, mask, cy, cx, half, rng)
            continue
        y0, y1, x0, x1 = (
            max(cy - half, 0),
            min(cy + half + 1, h),
            max(cx - half, 0),
            min(cx + half + 1, w),
        )
        hint[:, y0:y1, x0:x1] = ab[:, y0:y1, x0:x1].mean(axis=(1, 2))[:, None, None]
        mask[:, y0:y1, x0:x1] = 1
    return hint, mask


def _stroke(ab: np.ndarray, hint: np.ndarray, mask: np.ndarray, cy: int, cx: int, half: int,
            rng: np.random.Generator) -> None:  # fmt: skip
    """A short straight stroke of one color: the mean a*b* under it, as an artist would pick."""
    _, h, w = ab.shape
    length = rng.uniform(0.03, 0.15) * min(h, w)
    angle = rng.uniform(0, math.pi)
    ey = int(np.clip(cy + length * math.sin(angle), 0, h - 1))
    ex = int(np.clip(cx + length * math.cos(angle), 0, w - 1))
    line = np.zeros((h, w), np.uint8)
    cv2.line(line, (cx, cy), (ex, ey), 1, thickness=max(1, 2 * half + 1) // 2 + 1)
    covered = line.astype(bool)
    hint[:, covered] = ab[:, covered].mean(axis=1)[:, None]
    mask[:, covered] = 1


def _batch(pictures: list[np.ndarray], options: TrainOptions, rng: np.random.Generator,
           device: str) -> tuple[torch.Tensor, ...]:  # fmt: skip
    crops = np.stack(
        [
            _crop(pictures[rng.integers(len(pictures))], options.crop, rng)
            for _ in range(options.batch)
        ]
    )
    rgb = torch.from_numpy(crops).to(device).permute(0, 3, 1, 2).float() / 255
    lab = srgb_to_lab(rgb)
    ab = lab[:, 1:].cpu().numpy()
    hints = [simulate_hints(ab[i], rng) for i in range(options.batch)]
    ab_hint = torch.from_numpy(np.stack([h for h, _ in hints])).to(device)
    mask = torch.from_numpy(np.stack([m for _, m in hints])).to(device)
    return lab[:, :1], ab_hint, mask, lab[:, 1:]


def validation_set(pictures: list[np.ndarray], size: int = 256) -> list[np.ndarray]:
    """Center crops of the short side, resized to ``size``: a fixed set to compare runs on."""
    out = []
    for p in pictures:
        h, w = p.shape[:2]
        s = min(h, w)
        crop = p[(h - s) // 2 : (h - s) // 2 + s, (w - s) // 2 : (w - s) // 2 + s]
        out.append(cv2.resize(crop, (size, size), interpolation=cv2.INTER_AREA))
    return out


@torch.no_grad()
def validate(model: ColorUNet, pictures: list[np.ndarray], device: str,
             counts: tuple[int, ...] = VALIDATION_HINTS) -> dict[int, float]:  # fmt: skip
    """Mean RGB PSNR per hint count; hints are 5x5 ground-truth patch means, fixed seeds."""
    model.eval()
    result = {}
    for count in counts:
        scores = []
        for i, picture in enumerate(pictures):
            rgb = torch.from_numpy(picture).to(device).permute(2, 0, 1)[None].float() / 255
            lab = srgb_to_lab(rgb)
            hint, mask = _validation_hints(
                lab[0, 1:].cpu().numpy(), count, np.random.default_rng(i)
            )
            pred = model(
                lab[:, :1],
                torch.from_numpy(hint)[None].to(device),
                torch.from_numpy(mask)[None].to(device),
            )
            out = lab_to_srgb(torch.cat([lab[:, :1], pred], 1))
            scores.append(psnr(out, rgb))
        result[count] = float(np.mean(scores))
    model.train()
    return result


def _validation_hints(
    ab: np.ndarray, count: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """``count`` uniformly placed points, each the 5x5 patch mean painted as a radius-2 disc."""
    _, h, w = ab.shape
    hint = np.zeros_like(ab, dtype=np.float32)
    mask = np.zeros((1, h, w), np.float32)
    yy, xx = np.mgrid[0:h, 0:w]
    for _ in range(count):
        r, c = int(rng.integers(2, h - 2)), int(rng.integers(2, w - 2))
        disc = (yy - r) ** 2 + (xx - c) ** 2 <= 4
        hint[:, disc] = ab[:, r - 2 : r + 3, c - 2 : c + 3].mean(axis=(1, 2))[:, None]
        mask[:, disc] = 1
    return hint, mask


def _checkpoint_path(out: Path) -> Path:
    return out.with_name(out.name + ".checkpoint")


def _save_checkpoint(
    path: Path, model: ColorUNet, optimizer: torch.optim.Optimizer, step: int
) -> None:
    tensors = {f"model.{k}": v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    for index, state in optimizer.state_dict()["state"].items():
        for key, value in state.items():
            tensors[f"optimizer.{index}.{key}"] = torch.as_tensor(value).detach().cpu().contiguous()
    metadata = {"step": str(step), "config": model.config.to_json()}
    tmp = path.with_name(f".{path.name}.tmp")
    save_file(tensors, str(tmp), metadata=metadata)
    os.replace(tmp, path)


def _load_checkpoint(path: Path, device: str) -> tuple[ColorUNet, dict[str, torch.Tensor], int]:
    with safe_open(str(path), framework="pt") as f:
        metadata = f.metadata() or {}
        tensors = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118
    model = ColorUNet(ModelConfig.from_json(metadata["config"]))
    model.load_state_dict({k[6:]: v for k, v in tensors.items() if k.startswith("model.")})
    return model.to(device), tensors, int(metadata["step"])


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


def _batches(pictures: list[np.ndarray], options: TrainOptions, rng: np.random.Generator,
             device: str) -> Iterator[tuple[torch.Tensor, ...]]:  # fmt: skip
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
    """Train (or fine-tune from ``init``), write the weights to ``out``; return validation PSNR."""
    from tqdm import tqdm

    torch.manual_seed(options.seed)
    rng = np.random.default_rng(options.seed)
    checkpoint = _checkpoint_path(out)
    start = 0
    tensors: dict[str, torch.Tensor] = {}
    if resume and checkpoint.exists():
        model, tensors, start = _load_checkpoint(checkpoint, device)
        rng = np.random.default_rng([options.seed, start])
        log.info("resuming %s at step %d", checkpoint, start)
    elif init is not None:
        model = load_model(init, device=device).train()
    else:
        model = ColorUNet(config).to(device)
    model.train()
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=options.lr, weight_decay=options.weight_decay
    )
    if tensors:
        _restore_optimizer(optimizer, tensors)
    val = validation_set(validation or pictures[:8])
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
        l, ab_hint, mask, ab = next(batches)
        pred = model(l, ab_hint, mask)
        loss = F.smooth_l1_loss(pred / AB_SCALE, ab / AB_SCALE, beta=_HUBER_BETA)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        bar.set_postfix(loss=f"{loss.item():.4f}")
        done = step + 1
        if done % options.checkpoint_every == 0 or done == options.steps:
            _save_checkpoint(checkpoint, model, optimizer, done)
            save_model(model, out, steps=str(done), seconds=f"{time.perf_counter() - began:.0f}")
        if done % options.validate_every == 0 or done == options.steps:
            scores = validate(model, val, device)
            log.info(
                "step %d validation PSNR %s",
                done,
                json.dumps({k: round(v, 2) for k, v in scores.items()}),
            )
    return scores
