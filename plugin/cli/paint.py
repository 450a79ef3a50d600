"""``vscolorize paint``: the paint window on a video or a picture, its preview colorizing with the
settings the command line gives."""

from __future__ import annotations

import argparse

from .common import Commands, add_command, add_settings, settings_from


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

    # refuses a missing display, broken hints and a keyframe past the end, each before a long
    # video is opened, and with the lines render gives
    paint(args.input, args.hints, settings=settings_from(args))
    return 0
