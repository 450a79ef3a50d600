"""The ``vscolorize`` command line.

User errors (a missing file, bad hints, a bad option) exit with code 2 and one line on stderr that
starts ``vscolorize: error:``; internal failures exit 1 (set VSCOLORIZE_DEBUG=1 for a traceback).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, NoReturn

from vscolorize.core.engine import DEFAULT_METHOD, METHODS
from vscolorize.core.errors import VscolorizeError
from vscolorize.core.postprocess import ENSEMBLE_MODES
from vscolorize.core.temporal import DEFAULT_TEMPORAL

__all__ = ["main"]

log = logging.getLogger("vscolorize")

EXIT_USER_ERROR = 2
EXIT_INTERNAL_ERROR = 1
EXIT_INTERRUPTED = 130


class UsageError(VscolorizeError):
    """A bad command line."""


class _Parser(argparse.ArgumentParser):
    """argparse that reports mistakes as one ``vscolorize: error:`` line (no usage dump)."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see '{self.prog} --help')")


def _add_device(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--device",
        default="auto",
        help="where the model runs: auto (CUDA when present), cpu, cuda or cuda:N",
    )


def _add_engine_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--method",
        choices=METHODS,
        default=DEFAULT_METHOD,
        help=f"model: the learned colorizer; optimization: Levin et al. 2004, needs hints "
        f"(default: {DEFAULT_METHOD})",
    )
    parser.add_argument(
        "--model",
        default="auto",
        help="auto (large on CUDA when installed, else fast), fast, large, or a weights file "
        "that 'vscolorize train' wrote",
    )
    parser.add_argument(
        "--postprocess",
        nargs="+",
        default=[],
        metavar="STEP",
        help="clean-ups: segment_fill (each segment filled with its dominant color: SEEDS "
        "superpixels; segment_fill:slic or :felzenszwalb for other segmentations)",
    )
    parser.add_argument(
        "--ensemble",
        type=int,
        default=1,
        metavar="N",
        help="average N predictions (method model): the model as is, mirrored, at a second "
        "scale and both, then the next shipped variant likewise (default: 1)",
    )
    parser.add_argument(
        "--ensemble-mode",
        choices=ENSEMBLE_MODES,
        default="mean",
        help="how the ensemble's predictions are combined (default: mean)",
    )
    _add_device(parser)


def _build_parser() -> _Parser:
    parser = _Parser(
        prog="vscolorize",
        description="Artist-guided colorization of black-and-white pictures and video.",
    )
    from vscolorize import __version__

    parser.add_argument("--version", action="version", version=f"vscolorize {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log what happens")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    image = commands.add_parser(
        "image",
        help="colorize one picture",
        description="Colorize one picture (a color picture is reduced to its lightness first) "
        "and write an 8-bit sRGB picture of the same size.",
    )
    image.add_argument("input", metavar="INPUT", help="the picture to colorize")
    image.add_argument("-o", "--output", required=True, help="where to write the result")
    image.add_argument("--hints", metavar="FILE", help="a *.hints.json file (its frame 0 applies)")
    _add_engine_options(image)

    train = commands.add_parser(
        "train",
        help="train or fine-tune the colorizer on your own pictures or videos",
        description="Train (or, with --init, fine-tune) the guided colorizer on a folder of color "
        "pictures and/or videos; writes safetensors weights and a resumable checkpoint beside.",
    )
    train.add_argument("--images", metavar="DIR", help="folder of color pictures (searched recursively)")
    train.add_argument("--videos", metavar="DIR", help="folder of color videos (frames are sampled)")
    train.add_argument(
        "--val", metavar="DIR", help="folder of validation pictures (default: 8 training ones)"
    )
    train.add_argument("--out", required=True, metavar="FILE", help="weights to write (.safetensors)")
    train.add_argument("--resume", action="store_true", help="continue from FILE.checkpoint")
    train.add_argument(
        "--init",
        metavar="FILE",
        help="start from these weights (fine-tuning); with --size or --base another network "
        "takes over every layer of the same shape",
    )
    train.add_argument("--size", choices=("fast", "large"), help="network size (default: fast, or --init's)")
    train.add_argument(
        "--base",
        help="the answer the network corrects: levin, smoother or pull-push (default: levin, or --init's)",
    )
    train.add_argument("--steps", type=int, default=20_000)
    train.add_argument("--batch", type=int, default=16)
    train.add_argument("--crop", type=int, default=128, help="training crop size in pixels")
    train.add_argument("--lr", type=float, default=1e-3)
    train.add_argument(
        "--loss",
        default="psnr",
        help="psnr: minus the mean of each picture's PSNR, the measure (default); mse: MSE "
        "pooled over the batch (runs 3 and 4)",
    )
    train.add_argument(
        "--no-hints",
        type=float,
        default=0.1,
        metavar="SHARE",
        help="share of training samples without any hint, which teach the colors to guess "
        "unguided (default: %(default)s)",
    )
    train.add_argument(
        "--smallest-crop",
        type=float,
        default=0.35,
        metavar="SHARE",
        help="crops are square, from this share of a picture's short side to all of it, "
        "resized to --crop (default: %(default)s)",
    )
    train.add_argument(
        "--most-hints",
        type=int,
        default=100,
        metavar="N",
        help="the other samples get from 1 to below N hints, log-uniform: a smaller N weights "
        "training toward pictures with few hints (default: %(default)s)",
    )
    train.add_argument(
        "--recolor",
        type=float,
        default=0.5,
        metavar="SHARE",
        help="share of the samples with hints whose colors are rotated in hue and scaled in "
        "chroma, so that the hints alone say them: more follows hints, less keeps the "
        "priors (default: %(default)s)",
    )
    train.add_argument(
        "--seed",
        type=int,
        default=0,
        help="random seed: another seed trains another ensemble member",
    )
    _add_device(train)

    render = commands.add_parser(
        "render",
        help="colorize a video file",
        description="Colorize a video (any format FFmpeg reads) and encode it with H.264 or "
        "FFV1, keeping its audio. The output appears only once the render has finished.",
    )
    render.add_argument("input", metavar="INPUT", help="the video to colorize")
    render.add_argument("-o", "--output", required=True, help="where to write the result")
    render.add_argument("--hints", metavar="FILE", help="a *.hints.json file")
    _add_engine_options(render)
    render.add_argument(
        "--codec",
        choices=("h264", "ffv1"),
        default="h264",
        help="h264: x264 CRF 16, 4:2:0, plays everywhere (default); ffv1: lossless 16-bit RGB",
    )
    render.add_argument(
        "--start",
        type=int,
        default=0,
        metavar="N",
        help="first frame to write (default: 0). The whole clip is colorized and then cut, so "
        "the frames are those of a full render and the hints keep the clip's frame numbers",
    )
    render.add_argument(
        "--end",
        type=int,
        metavar="N",
        help="last frame to write, included, as in vspipe (default: the clip's last). The "
        "audio is cut to the same frames and re-encoded (AAC in .mp4/.mov, FLAC in .mkv, PCM "
        "in .avi); a variable-frame-rate input loses its audio, with a warning",
    )
    render.add_argument("--force", action="store_true", help="replace OUTPUT if it exists")
    cluster = render.add_argument_group(
        "distributed render",
        "Split the render into chunks of whole shots computed by the workers of a Dask cluster, "
        "then join them losslessly: the same frames as a plain render. Workers read INPUT and "
        "--hints themselves at the same paths. Run the same command again to render only what "
        "an interrupted or failed render left unfinished.",
    )
    cluster.add_argument(
        "--cluster",
        metavar="ADDR",
        help="local:N (N worker processes on this machine), or the address of a running Dask "
        "scheduler: tcp://HOST:8786 or tls://HOST:8786",
    )
    cluster.add_argument(
        "--chunk-frames",
        type=int,
        default=None,
        metavar="N",
        help="chunks hold whole shots up to N frames; longer shots are split (default: 1000)",
    )
    cluster.add_argument(
        "--retries",
        type=int,
        default=None,
        metavar="N",
        help="tries again a chunk that failed, N times (default: 2)",
    )
    cluster.add_argument(
        "--chunks",
        metavar="DIR",
        help="where chunks go: a folder every worker sees at the same path (default: a hidden "
        "folder beside OUTPUT)",
    )
    cluster.add_argument(
        "--keep-chunks",
        action="store_true",
        help="keep the chunks after the join: a render with edited hints then renders again "
        "only the chunks of the edited shots",
    )
    render.add_argument(
        "--no-propagate",
        dest="propagate",
        action="store_false",
        help="color each keyframe from its own hints only (no optical flow)",
    )
    render.add_argument(
        "--temporal",
        type=int,
        default=DEFAULT_TEMPORAL,
        metavar="N",
        help="average colors over N frames on each side along optical flow "
        f"(0: off; default {DEFAULT_TEMPORAL})",
    )

    analyze = commands.add_parser(
        "analyze",
        help="measure a video's motion ahead of time and list its shots",
        description="Read a video once and fill the motion store (optical flow, occlusions, scene "
        "cuts; $VSCOLORIZE_CACHE/motion, limited to $VSCOLORIZE_CACHE_SIZE, default 20G) so that "
        "renders, previews and the paint window find it measured; then print the shots found. "
        "Optional: colorizing measures what it needs as it goes, with the same result.",
    )
    analyze.add_argument("input", metavar="INPUT", help="the video to analyze")
    analyze.add_argument("--start", type=int, default=0, metavar="N", help="first frame")
    analyze.add_argument("--end", type=int, metavar="N", help="last frame, included")

    paint = commands.add_parser(
        "paint",
        help="paint hints on a clip's keyframes",
        description="Open the paint window on a video or a picture to paint hints on keyframes, "
        "with a live colorized preview. Ctrl+S saves to --hints; work is autosaved beside it.",
    )
    paint.add_argument("input", metavar="INPUT", help="the video or picture to paint on")
    paint.add_argument("--hints", metavar="FILE", help="the *.hints.json to edit (created on save)")
    _add_engine_options(paint)  # the preview's colorizer

    demo = commands.add_parser(
        "demo",
        help="colorize a bundled sample with bundled hints",
        description="Colorize a sample picture from scikit-image with bundled hints and write "
        "the result and a side-by-side strip.",
    )
    demo.add_argument("-o", "--output", default="vscolorize-demo", help="folder for the results (created)")
    _add_device(demo)
    return parser


def _run_image(args: argparse.Namespace) -> int:
    from vscolorize.core.engine import colorize_image
    from vscolorize.core.hints import load_hints
    from vscolorize.core.images import read_image, write_image

    if Path(args.output).resolve() == Path(args.input).resolve():
        raise UsageError(f"{args.output}: the output would overwrite the input picture")
    hints = load_hints(args.hints) if args.hints else None
    picture = read_image(args.input)
    if hints is None and args.method == "optimization":
        log.warning("no --hints given: the optimization method leaves the picture gray")
    start = time.perf_counter()
    rgb = colorize_image(
        picture,
        hints,
        method=args.method,
        device=args.device,
        model=args.model,
        postprocess=args.postprocess,
        ensemble=args.ensemble,
        ensemble_mode=args.ensemble_mode,
    )
    log.info("colorized %s in %.2f s", args.input, time.perf_counter() - start)
    write_image(args.output, rgb)
    return 0


def _progress_bar(label: str) -> Callable[[Iterator[Any], int], Iterator[Any]]:
    """A progress bar on stderr (frames, fps, time left) around a frame iterator."""

    def bar(frames: Iterator[Any], total: int) -> Iterator[Any]:
        from tqdm import tqdm

        return iter(tqdm(frames, total=total, unit="frame", desc=label, file=sys.stderr))

    return bar


def _run_render(args: argparse.Namespace) -> int:
    from vscolorize.render import RenderSettings, render

    settings = RenderSettings(
        method=args.method,
        model=args.model,
        device=args.device,
        propagate=args.propagate,
        temporal=args.temporal,
        postprocess=tuple(args.postprocess),
        ensemble=args.ensemble,
        ensemble_mode=args.ensemble_mode,
        codec=args.codec,
    )
    if args.cluster is not None:
        return _run_distributed(args, settings)
    for option in ("chunk_frames", "retries", "chunks"):
        if getattr(args, option) is not None:
            raise UsageError(f"render: --{option.replace('_', '-')} needs --cluster")
    if args.keep_chunks:
        raise UsageError("render: --keep-chunks needs --cluster")
    result = render(
        args.input,
        args.output,
        hints=args.hints,
        method=args.method,
        model=args.model,
        device=args.device,
        propagate=args.propagate,
        temporal=args.temporal,
        postprocess=args.postprocess,
        ensemble=args.ensemble,
        ensemble_mode=args.ensemble_mode,
        start=args.start,
        end=args.end,
        codec=args.codec,
        force=args.force,
        progress=_progress_bar("colorizing"),
    )
    sys.stdout.write(
        f"wrote {result.output}: {result.frames} frames in {result.seconds:.1f} s ({result.fps:.1f} fps)\n"
    )
    return 0


def _run_distributed(args: argparse.Namespace, settings: Any) -> int:
    from tqdm import tqdm

    from vscolorize.chunks import CHUNK_FRAMES
    from vscolorize.distributed import render_distributed

    def bar(total: int, label: str) -> Any:
        return tqdm(total=total, unit="frame", desc=label, file=sys.stderr)

    # Dask narrates its cluster's life at INFO, and logs a closing worker's dropped connections
    # as errors; what matters reaches the user as our own messages
    logging.getLogger("distributed").setLevel(logging.INFO if args.verbose else logging.CRITICAL)

    result = render_distributed(
        args.input,
        args.output,
        cluster=args.cluster,
        hints=args.hints,
        settings=settings,
        start=args.start,
        end=args.end,
        chunk_frames=CHUNK_FRAMES if args.chunk_frames is None else args.chunk_frames,
        retries=2 if args.retries is None else args.retries,
        folder=args.chunks,
        keep_chunks=args.keep_chunks,
        force=args.force,
        progress=bar,
    )
    reused = result.chunks - result.rendered
    sys.stdout.write(
        f"wrote {result.output}: {result.frames} frames in {result.seconds:.1f} s "
        f"({result.fps:.1f} fps) on {result.workers} workers; {result.rendered} of "
        f"{result.chunks} chunks rendered" + (f", {reused} finished before\n" if reused else "\n")
    )
    return 0


def _run_analyze(args: argparse.Namespace) -> int:
    from vscolorize.analyze import analyze
    from vscolorize.render import open_video

    clip = open_video(args.input)
    last = clip.num_frames - 1 if args.end is None else args.end
    if not 0 <= args.start <= last < clip.num_frames:
        raise UsageError(
            f"analyze: --start {args.start} --end {last}: frames must lie within "
            f"0-{clip.num_frames - 1}, start before end"
        )
    began = time.perf_counter()
    result = analyze(clip, first=args.start, last=last, progress=_progress_bar("analyzing"))
    fps = clip.fps.numerator / clip.fps.denominator if clip.fps.numerator else None
    seconds = time.perf_counter() - began
    sys.stdout.write(
        f"{result.summary(fps)}\n{len(result.shots)} shots in frames {args.start}-{last}; "
        f"{result.measured} pairs of frames measured in {seconds:.1f} s\n"
    )
    return 0


def _run_paint(args: argparse.Namespace) -> int:
    headless = sys.platform.startswith("linux") and not any(
        os.environ.get(k) for k in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")
    )
    if headless:
        raise UsageError("paint: no display (set DISPLAY, or QT_QPA_PLATFORM=offscreen)")
    if args.hints and Path(args.hints).is_file():
        from vscolorize.core.hints import load_hints

        load_hints(args.hints)  # a broken file is refused before any window opens
    from vscolorize.sources import open_source
    from vscolorize.ui import paint

    source = open_source(args.input)
    if args.hints and Path(args.hints).is_file():
        from vscolorize.node import check_hints

        # a keyframe past the clip's end is refused as render refuses it (open_source gives
        # a PictureSource or a ClipSource, both with a frame count)
        check_hints(args.hints, source.count)  # type: ignore[attr-defined]
    paint(
        source,
        args.hints,
        method=args.method,
        model=args.model,
        device=args.device,
        postprocess=args.postprocess,
        ensemble=args.ensemble,
        ensemble_mode=args.ensemble_mode,
    )
    return 0


def _run_demo(args: argparse.Namespace) -> int:
    from vscolorize.demo import run_demo

    result = run_demo(args.output, device=args.device, progress=_progress_bar("demo clip"))
    sys.stdout.write(result.summary() + "\n")
    return 0


def _error(message: str) -> None:
    """The one line a user error gets (stdout stays clean: vspipe may own it)."""
    sys.stderr.write(f"vscolorize: error: {message}\n")


def _run_train(args: argparse.Namespace) -> int:
    from vscolorize.core.engine import resolve_device
    from vscolorize.core.models import BASES, FAST, LARGE, load_model
    from vscolorize.core.training import LOSSES, TrainOptions, load_pictures, train

    if not args.images and not args.videos:
        raise UsageError("train: give --images DIR and/or --videos DIR")
    for name in ("steps", "batch", "crop", "most_hints"):
        if getattr(args, name) < 1:
            raise UsageError(f"train: --{name.replace('_', '-')} must be at least 1")
    if args.base is not None and args.base not in BASES:
        raise UsageError(f"train: --base must be one of {', '.join(BASES)}, not {args.base!r}")
    if args.loss not in LOSSES:
        raise UsageError(f"train: --loss must be one of {', '.join(LOSSES)}, not {args.loss!r}")
    if not 0 < args.smallest_crop <= 1:
        raise UsageError(f"train: --smallest-crop is a share above 0, at most 1, not {args.smallest_crop}")
    for name in ("no_hints", "recolor"):
        if not 0 <= getattr(args, name) <= 1:
            option = "--" + name.replace("_", "-")
            raise UsageError(f"train: {option} is a share from 0 to 1, not {getattr(args, name)}")
    out = Path(args.out)
    if not out.parent.is_dir():
        raise UsageError(f"train: --out: folder {out.parent} does not exist")
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
    )
    init = Path(args.init) if args.init else None
    if init is not None and args.size is None:
        config = load_model(init).config
    else:
        config = LARGE if args.size == "large" else FAST
    if args.base is not None:
        config = replace(config, base=args.base)
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


_COMMANDS = {
    "image": _run_image,
    "render": _run_render,
    "analyze": _run_analyze,
    "paint": _run_paint,
    "demo": _run_demo,
    "train": _run_train,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    logging.basicConfig(format="vscolorize: %(levelname)s: %(message)s", stream=sys.stderr)
    try:
        args = _build_parser().parse_args(argv)
        log.setLevel(logging.INFO if args.verbose else logging.WARNING)
        return _COMMANDS[args.command](args)
    except VscolorizeError as e:
        _error(str(e))
        return EXIT_USER_ERROR
    except OSError as e:  # a file the user named cannot be written or read
        where = f"{e.filename}: " if e.filename else ""
        _error(f"{where}{e.strerror or e}")
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        sys.stderr.write("vscolorize: interrupted\n")
        return EXIT_INTERRUPTED
    except Exception as e:
        if os.environ.get("VSCOLORIZE_DEBUG"):
            traceback.print_exc()
        sys.stderr.write(
            f"vscolorize: internal error: {type(e).__name__}: {e} "
            "(please report it; VSCOLORIZE_DEBUG=1 shows the traceback)\n"
        )
        return EXIT_INTERNAL_ERROR


if __name__ == "__main__":
    sys.exit(main())
