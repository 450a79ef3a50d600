"""``vscolorize render``: a video file colorized and encoded, in this process or on a Dask cluster."""

from __future__ import annotations

import argparse
import logging
import sys
from typing import Any

from vscolorize.core.pipeline import Settings

from .common import Commands, UsageError, add_command, add_settings, flag, progress_bar, settings_from

# the options of a render on a cluster (None or False: not given)
_CLUSTER_ONLY = ("retries",)


def register(commands: Commands) -> None:
    parser = add_command(
        commands,
        "render",
        run,
        help="colorize a video file",
        description="Colorize a video (any format FFmpeg reads) and encode it with H.264 or "
        "FFV1, keeping its audio. The output appears only once the render has finished.",
        input="the video to colorize",
        output=True,
        hints="a *.hints.json file",
    )
    add_settings(parser, video=True)
    parser.add_argument(
        "--codec",
        choices=("h264", "ffv1"),
        default="h264",
        help="h264: x264 CRF 16, 4:2:0, plays everywhere (default); ffv1: lossless 16-bit RGB",
    )
    parser.add_argument(
        "--start",
        type=int,
        default=0,
        metavar="N",
        help="first frame to write (default: 0). The whole clip is colorized and then cut, so "
        "the frames are those of a full render and the hints keep the clip's frame numbers",
    )
    parser.add_argument(
        "--end",
        type=int,
        metavar="N",
        help="last frame to write, included, as in vspipe (default: the clip's last). The "
        "audio is cut to the same frames and re-encoded (AAC in .mp4/.mov, FLAC in .mkv, PCM "
        "in .avi); a variable-frame-rate input loses its audio, with a warning",
    )
    parser.add_argument("--force", action="store_true", help="replace OUTPUT if it exists")
    _add_cluster_options(parser)


def _add_cluster_options(parser: argparse.ArgumentParser) -> None:
    cluster = parser.add_argument_group(
        "distributed render",
        "A render is encoded in chunks of whole shots, joined by a stream copy; --cluster has "
        "the workers of a Dask cluster render them: the same file as a plain render. Workers "
        "read INPUT and --hints themselves at the same paths. Run the same command again to "
        "render only what an interrupted or failed render left unfinished.",
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
        help="where chunks go, with --cluster a folder every worker sees at the same path "
        "(default: a hidden folder beside OUTPUT)",
    )
    cluster.add_argument(
        "--keep-chunks",
        action="store_true",
        help="keep the chunks after the join: a render with edited hints then renders again "
        "only the chunks of the edited shots",
    )


def run(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    if args.cluster is not None:
        return _run_distributed(args, settings)
    for option in _CLUSTER_ONLY:
        if getattr(args, option) is not None and getattr(args, option) is not False:
            raise UsageError(f"render: {flag(option)} needs --cluster")
    from vscolorize.render import render

    result = render(
        args.input,
        args.output,
        hints=args.hints,
        settings=settings,
        start=args.start,
        end=args.end,
        codec=args.codec,
        force=args.force,
        progress=progress_bar("colorizing"),
        chunk_frames=args.chunk_frames,
        chunks=args.chunks,
        keep_chunks=args.keep_chunks,
    )
    sys.stdout.write(
        f"wrote {result.output}: {result.frames} frames in {result.seconds:.1f} s ({result.fps:.1f} fps)\n"
    )
    return 0


def _run_distributed(args: argparse.Namespace, settings: Settings) -> int:
    from tqdm import tqdm

    from vscolorize.distributed import CHUNK_FRAMES, render_distributed
    from vscolorize.render import RenderSettings

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
        settings=RenderSettings(settings, args.codec),
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
