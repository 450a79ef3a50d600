"""``vscolorize demo``: the main job on the bundled sample, with the results printed."""

from __future__ import annotations

import argparse
import sys

from .common import Commands, add_command, add_device, progress_bar, settings_from


def register(commands: Commands) -> None:
    parser = add_command(
        commands,
        "demo",
        run,
        help="colorize a bundled sample with bundled hints",
        description="Colorize a sample picture from scikit-image, and a clip that pans over it, "
        "from bundled hints; write the results and side-by-side strips, and print their speed "
        "and PSNR.",
    )
    parser.add_argument("-o", "--output", default="vscolorize-demo", help="folder for the results (created)")
    add_device(parser)


def run(args: argparse.Namespace) -> int:
    from vscolorize.demo import run_demo

    result = run_demo(args.output, settings=settings_from(args), progress=progress_bar("demo clip"))
    sys.stdout.write(result.summary() + "\n")
    return 0
