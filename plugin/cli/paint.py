"""``vscolorize paint``: the paint window on a video or a picture, its preview colorizing with the
settings the command line gives."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from vscolorize.core.pipeline import Settings

from .common import Commands, UsageError, add_settings, settings_from


def register(commands: Commands) -> None:
    parser = commands.add_parser(
        "paint",
        help="paint hints on a clip's keyframes",
        description="Open the paint window on a video or a picture to paint hints on keyframes, "
        "with a live colorized preview. Ctrl+S saves to --hints; work is autosaved beside it.",
    )
    parser.add_argument("input", metavar="INPUT", help="the video or picture to paint on")
    parser.add_argument("--hints", metavar="FILE", help="the *.hints.json to edit (created on save)")
    add_settings(parser)  # the preview's colorizer
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from vscolorize.core.errors import named
    from vscolorize.core.hints import load_hints
    from vscolorize.core.pipeline import check_keyframes
    from vscolorize.sources import open_source

    settings = settings_from(args)
    headless = sys.platform.startswith("linux") and not any(
        os.environ.get(k) for k in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")
    )
    if headless:
        raise UsageError("paint: no display (set DISPLAY, or QT_QPA_PLATFORM=offscreen)")
    existing = args.hints is not None and Path(args.hints).is_file()
    if existing:
        load_hints(args.hints)  # a broken file is refused before any window opens
    # a PictureSource or a ClipSource, both with a frame count
    source = open_source(args.input)
    if existing:
        with named("colorize"):  # a keyframe past the clip's end is refused as render refuses it
            check_keyframes(args.hints, source.count)  # type: ignore[attr-defined]
    _open_window(source, args.hints, settings)
    return 0


def _open_window(source: object, hints: str | None, settings: Settings) -> None:
    """The paint window on ``source``, editing ``hints``, its preview colorizing as ``settings``
    say; returns when it closes."""
    from vscolorize.ui import paint

    paint(
        source,
        hints,
        method=settings.method,
        device=settings.device,
        model=settings.model,
        postprocess=settings.postprocess,
        ensemble=settings.ensemble,
        ensemble_mode=settings.ensemble_mode,
    )
