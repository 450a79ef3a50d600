"""``vscolorize paint``: the paint window on a video or a picture, its preview colorizing with the
settings the command line gives."""

from __future__ import annotations

import argparse
import os
import sys

from .common import Commands, UsageError, add_command, add_settings, settings_from


def register(commands: Commands) -> None:
    parser = add_command(
        commands,
        "paint",
        run,
        help="paint hints on a clip's keyframes",
        description="Open the paint window on a video or a picture to paint hints on keyframes, "
        "with a live colorized preview. Ctrl+S saves to --hints; work is autosaved beside it.",
        input="the video or picture to paint on",
        hints="the *.hints.json to edit (created on save)",
    )
    add_settings(parser)  # the preview's colorizer


def run(args: argparse.Namespace) -> int:
    from vscolorize import paint

    settings = settings_from(args)
    headless = sys.platform.startswith("linux") and not any(
        os.environ.get(k) for k in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")
    )
    if headless:  # said before a long video is opened
        raise UsageError("paint: no display (set DISPLAY, or QT_QPA_PLATFORM=offscreen)")
    # refuses broken hints before it opens the video, and a keyframe past its end as render does
    paint(args.input, args.hints, settings=settings)
    return 0
