"""The training loop: AdamW with a warm-up and a cosine schedule, a moving average of the weights,
the loss on the sRGB picture, resumable checkpoints (safetensors too, no pickle), and warm starts
from another network's weights."""

from __future__ import annotations

import copy
import json
import logging
import math
import os
import time
from dataclasses import fields, replace
from pathlib import Path

import numpy as np
import torch
from safetensors import safe_open
from safetensors.torch import save_file
from torch.nn import functional as F

from ..color import lab_to_srgb
from ..models import ColorUNet, ModelConfig, load_model, network_bases, save_model
from .data import batches
from .evaluate import calibrate, validate
from .options import LOSSES, TrainOptions

__all__ = ["picture_loss", "train", "warm_start"]

log = logging.getLogger(__name__)

_EMA_DECAY = 0.999
_DEFAULT_OPTIONS = TrainOptions()
# the per-sample loss's floor on MSE (sRGB in [0, 1]): 50 dB, where a picture counts as perfect
_PSNR_FLOOR = 1e-5


def picture_loss(shown: torch.Tensor, truth: torch.Tensor, kind: str) -> torch.Tensor:
    """The training loss of a batch of sRGB pictures (B, 3, H, W) against their truth.

    ``"psnr"``: minus the mean of each picture's PSNR (dB, MSE floored at 50 dB), the measure
    itself: results are reported as the mean PSNR of pictures, where a picture the base already
    gets right (one flat color and its hint: 41 dB) loses 19 dB when the network tints it,
    while pooled MSE barely sees it. ``"mse"``: MSE pooled over the batch.
    """
    if kind == "mse":
        return F.mse_loss(shown, truth)
    if kind != "psnr":
        raise ValueError(f"unknown loss {kind!r}; one of {LOSSES}")
    per_picture = (shown - truth).square().mean((1, 2, 3))
    return 10 * torch.log10(per_picture + _PSNR_FLOOR).mean()


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
    """The model, its moving average (the model itself in a checkpoint without one), the
    optimizer's tensors and the step."""
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


def train(
    pictures: list[np.ndarray],
    out: Path,
    *,
    config: ModelConfig,
    options: TrainOptions = _DEFAULT_OPTIONS,
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
    (:func:`vscolorize.core.training.calibrate`)."""
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
    stream = batches(pictures, options, rng, device)
    for step in bar:
        for group in optimizer.param_groups:
            group["lr"] = options.lr * _schedule(step, options)
        l, ab_hint, mask, lab = next(stream)
        # the bases (numpy and OpenCV, no gradients) beside the network, which is torch alone
        pred = model(l, ab_hint, mask, network_bases(model.config, l, ab_hint, mask))
        # MSE on the sRGB picture, as the result is shown and measured (PSNR): an error in a*b*
        # costs more in bright colors than in dark ones, and a network trained on a*b* MSE
        # improved that MSE while it lowered RGB PSNR
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
