"""``vscolorize analyze``: a video's motion measured ahead of time, its shots listed and, with
hints, the frames where the next keyframes pay most."""

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
        help="measure a video's motion ahead of time, list its shots and suggest keyframes",
        description="Read a video once and fill the motion store (optical flow, occlusions, scene "
        "cuts; $VSCOLORIZE_CACHE/motion, limited to $VSCOLORIZE_CACHE_SIZE, default 20G) so that "
        "renders, previews and the paint window find it measured; then print the shots found and, "
        "with --hints, the frames of each shot where a new keyframe pays most: where the "
        "keyframes' hints reach least (something new comes into view), or, in a shot without a "
        "keyframe, the frame that sees most of it. Measuring is optional: colorizing measures "
        "what it needs as it goes, with the same result.",
        input="the video to analyze",
        hints="a *.hints.json file: suggest keyframes for it (only its keyframes within --start/--end count)",
    )
    parser.add_argument("--start", type=int, default=0, metavar="N", help="first frame")
    parser.add_argument("--end", type=int, metavar="N", help="last frame, included")
    parser.add_argument(
        "--per-shot",
        type=int,
        default=1,
        metavar="N",
        help="with --hints: suggest up to N keyframes per shot, best first (default: 1)",
    )


def run(args: argparse.Namespace) -> int:
    from vscolorize.analyze import analyze
    from vscolorize.core.errors import named
    from vscolorize.core.pipeline import check_keyframes
    from vscolorize.sources import open_video

    clip = open_video(args.input)
    last = clip.num_frames - 1 if args.end is None else args.end
    if not 0 <= args.start <= last < clip.num_frames:
        raise UsageError(
            f"analyze: --start {args.start} --end {last}: frames must lie within "
            f"0-{clip.num_frames - 1}, start before end"
        )
    hints, per_shot = None, 0
    if args.hints is not None:
        with named("analyze"):  # before the clip is read: a bad file costs nothing
            hints = check_keyframes(args.hints, clip.num_frames)
            if args.per_shot < 1:
                raise UsageError(f"--per-shot must be at least 1, not {args.per_shot}")
        per_shot = args.per_shot
    began = time.perf_counter()
    result = analyze(
        clip, first=args.start, last=last, progress=progress_bar("analyzing"), hints=hints, per_shot=per_shot
    )
    fps = clip.fps.numerator / clip.fps.denominator if clip.fps.numerator else None
    seconds = time.perf_counter() - began
    suggested = f"; {len(result.suggestions)} keyframes suggested" if hints is not None else ""
    sys.stdout.write(
        f"{result.summary(fps)}\n{len(result.shots)} shots in frames {args.start}-{last}; "
        f"{result.measured} pairs of frames measured in {seconds:.1f} s{suggested}\n"
    )
    return 0
