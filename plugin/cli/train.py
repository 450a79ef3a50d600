"""``vscolorize train``: the guided colorizer trained, or fine-tuned, on a folder of pictures or
videos."""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

from .common import Commands, UsageError, add_command, add_device, flag


def register(commands: Commands) -> None:
    parser = add_command(
        commands,
        "train",
        run,
        help="train or fine-tune the colorizer on your own pictures or videos",
        description="Train (or, with --init, fine-tune) the guided colorizer on a folder of color "
        "pictures and/or videos; writes safetensors weights and a resumable checkpoint beside.",
    )
    parser.add_argument("--images", metavar="DIR", help="folder of color pictures (searched recursively)")
    parser.add_argument("--videos", metavar="DIR", help="folder of color videos (frames are sampled)")
    parser.add_argument(
        "--val", metavar="DIR", help="folder of validation pictures (default: 8 training ones)"
    )
    parser.add_argument("--out", required=True, metavar="FILE", help="weights to write (.safetensors)")
    parser.add_argument("--resume", action="store_true", help="continue from FILE.checkpoint")
    parser.add_argument(
        "--init",
        metavar="FILE",
        help="start from these weights (fine-tuning); with --size or --base another network "
        "takes over every layer of the same shape",
    )
    parser.add_argument("--size", choices=("fast", "large"), help="network size (default: fast, or --init's)")
    parser.add_argument(
        "--base",
        help="the answer the network corrects: levin, smoother or pull-push (default: levin, or --init's)",
    )
    parser.add_argument("--steps", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--crop", type=int, default=128, help="training crop size in pixels")
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument(
        "--loss",
        default="psnr",
        help="psnr: minus the mean of each picture's PSNR, the measure reported (default); mse: "
        "the squared error pooled over the batch, which barely sees a picture with a small error",
    )
    parser.add_argument(
        "--no-hints",
        type=float,
        default=0.1,
        metavar="SHARE",
        help="share of training samples without any hint, which teach the colors to guess "
        "unguided (default: %(default)s)",
    )
    parser.add_argument(
        "--smallest-crop",
        type=float,
        default=0.35,
        metavar="SHARE",
        help="crops are square, from this share of a picture's short side to all of it, "
        "resized to --crop (default: %(default)s)",
    )
    parser.add_argument(
        "--most-hints",
        type=int,
        default=100,
        metavar="N",
        help="the other samples get from 1 to below N hints, log-uniform: a smaller N weights "
        "training toward pictures with few hints (default: %(default)s)",
    )
    parser.add_argument(
        "--recolor",
        type=float,
        default=0.5,
        metavar="SHARE",
        help="share of the samples with hints whose colors are rotated in hue and scaled in "
        "chroma, so that the hints alone say them: more follows hints, less keeps the "
        "priors (default: %(default)s)",
    )
    parser.add_argument(
        "--scan",
        type=float,
        default=0.0,
        metavar="SHARE",
        help="share of the samples whose L shows a worn print's scan: exposure, grain, dust, a "
        "scratch, blur and compression, each in half of them (default: %(default)s)",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=0,
        help="random seed: another seed trains another ensemble member",
    )
    add_device(parser)


def _check(args: argparse.Namespace) -> None:
    """Refuse bad options before anything is read.

    Raises:
        UsageError: naming the option.
    """
    from vscolorize.core.models import BASES
    from vscolorize.core.training import LOSSES

    if not args.images and not args.videos:
        raise UsageError("train: give --images DIR and/or --videos DIR")
    for name in ("steps", "batch", "crop", "most_hints"):
        if getattr(args, name) < 1:
            raise UsageError(f"train: {flag(name)} must be at least 1")
    for name, value, known in (("base", args.base, BASES), ("loss", args.loss, LOSSES)):
        if value is not None and value not in known:
            raise UsageError(f"train: --{name} must be one of {', '.join(known)}, not {value!r}")
    if not 0 < args.smallest_crop <= 1:
        raise UsageError(f"train: --smallest-crop is a share above 0, at most 1, not {args.smallest_crop}")
    for name in ("no_hints", "recolor", "scan"):
        if not 0 <= getattr(args, name) <= 1:
            raise UsageError(f"train: {flag(name)} is a share from 0 to 1, not {getattr(args, name)}")
    if not Path(args.out).parent.is_dir():
        raise UsageError(f"train: --out: folder {Path(args.out).parent} does not exist")


def run(args: argparse.Namespace) -> int:
    from vscolorize.core.errors import named
    from vscolorize.core.models import FAST, LARGE, load_model
    from vscolorize.core.pipeline import resolve_device
    from vscolorize.core.training import TrainOptions, load_pictures, train

    _check(args)
    with named("train"):
        device = resolve_device(args.device)
    pictures = load_pictures(
        Path(args.images) if args.images else None, Path(args.videos) if args.videos else None
    )
    validation = load_pictures(Path(args.val)) if args.val else None
    options = TrainOptions(
        steps=args.steps,
        batch=args.batch,
        crop=args.crop,
        smallest_crop=args.smallest_crop,
        lr=args.lr,
        seed=args.seed,
        loss=args.loss,
        no_hints=args.no_hints,
        most_hints=args.most_hints,
        recolor=args.recolor,
        scan=args.scan,
    )
    init = Path(args.init) if args.init else None
    if init is not None and args.size is None:
        config = load_model(init).config
    else:
        config = LARGE if args.size == "large" else FAST
    if args.base is not None:
        config = replace(config, base=args.base)
    out = Path(args.out)
    scores = train(
        pictures,
        out,
        config=config,
        options=options,
        device=device,
        resume=args.resume,
        init=init,
        validation=validation,
    )
    table = "  ".join(f"{count}: {psnr:.2f}" for count, psnr in scores.items())
    sys.stdout.write(f"wrote {out}; validation PSNR (dB) by hint count: {table}\n")
    return 0
