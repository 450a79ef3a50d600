"""``vscolorize analyze``: a video's motion measured ahead of time, and its shots listed."""

from __future__ import annotations

import argparse
import sys
import time

from .common import Commands, UsageError, add_command, progress_bar


def register(commands: Commands) -> None:
    parser = add_command(
        commands,
        "analyze",
        run,
        help="measure a video's motion ahead of time and list its shots",
        description="Read a video once and fill the motion store (optical flow, occlusions, scene "
        "cuts; $VSCOLORIZE_CACHE/motion, limited to $VSCOLORIZE_CACHE_SIZE, default 20G) so that "
        "renders, previews and the paint window find it measured; then print the shots found. "
        "Optional: colorizing measures what it needs as it goes, with the same result.",
        input="the video to analyze",
    )
    parser.add_argument("--start", type=int, default=0, metavar="N", help="first frame")
    parser.add_argument("--end", type=int, metavar="N", help="last frame, included")


def run(args: argparse.Namespace) -> int:
    from vscolorize.analyze import analyze
    from vscolorize.sources import open_video

    clip = open_video(args.input)
    last = clip.num_frames - 1 if args.end is None else args.end
    if not 0 <= args.start <= last < clip.num_frames:
        raise UsageError(
            f"analyze: --start {args.start} --end {last}: frames must lie within "
            f"0-{clip.num_frames - 1}, start before end"
        )
    began = time.perf_counter()
    result = analyze(clip, first=args.start, last=last, progress=progress_bar("analyzing"))
    fps = clip.fps.numerator / clip.fps.denominator if clip.fps.numerator else None
    seconds = time.perf_counter() - began
    sys.stdout.write(
        f"{result.summary(fps)}\n{len(result.shots)} shots in frames {args.start}-{last}; "
        f"{result.measured} pairs of frames measured in {seconds:.1f} s\n"
    )
    return 0
