"""``vscolorize image``: one picture colorized into an 8-bit sRGB picture of the same size."""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

from .common import Commands, UsageError, add_command, add_settings, settings_from

log = logging.getLogger("vscolorize")


def register(commands: Commands) -> None:
    parser = add_command(
        commands,
        "image",
        run,
        help="colorize one picture",
        description="Colorize one picture (a color picture is reduced to its lightness first) "
        "and write an 8-bit sRGB picture of the same size.",
        input="the picture to colorize",
        output=True,
        hints="a *.hints.json file (its frame 0 applies)",
    )
    add_settings(parser)


def run(args: argparse.Namespace) -> int:
    from vscolorize.core import pipeline
    from vscolorize.core.hints import load_hints
    from vscolorize.core.images import read_image, write_image

    settings = settings_from(args)
    if Path(args.output).resolve() == Path(args.input).resolve():
        raise UsageError(f"{args.output}: the output would overwrite the input picture")
    hints = load_hints(args.hints) if args.hints else None
    picture = read_image(args.input)
    start = time.perf_counter()
    rgb = pipeline.colorize_image(picture, hints, settings=settings)
    log.info("colorized %s in %.2f s", args.input, time.perf_counter() - start)
    write_image(args.output, rgb)
    return 0
