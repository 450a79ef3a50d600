"""What the commands share: a parser that reports mistakes in one line, the colorizing options and
the one :class:`~vscolorize.core.pipeline.Settings` they describe, and progress bars."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator
from typing import Any, NoReturn

from vscolorize.core.errors import VscolorizeError, named
from vscolorize.core.pipeline import BACKENDS, DEFAULT_METHOD, METHODS, Settings
from vscolorize.core.postprocess import ENSEMBLE_MODES
from vscolorize.core.temporal import DEFAULT_TEMPORAL

__all__ = [
    "Commands",
    "Parser",
    "UsageError",
    "add_command",
    "add_device",
    "add_settings",
    "flag",
    "progress_bar",
    "settings_from",
]


class UsageError(VscolorizeError):
    """A bad command line."""


class Parser(argparse.ArgumentParser):
    """argparse that reports mistakes as one ``vscolorize: error:`` line (no usage dump); the
    commands' parsers are of this class too."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see '{self.prog} --help')")


type Commands = argparse._SubParsersAction[Parser]  # what each command registers itself in

# the Settings fields a command line may give (the options below store them under these names)
_SETTINGS = (
    "method",
    "model",
    "device",
    "propagate",
    "temporal",
    "postprocess",
    "ensemble",
    "ensemble_mode",
    "backend",
)


def add_command(
    commands: Commands,
    name: str,
    run: Callable[[argparse.Namespace], int],
    *,
    help: str,
    description: str,
    input: str | None = None,
    output: bool = False,
    hints: str | None = None,
) -> Parser:
    """The parser of the command ``name``, which ``run`` carries out.

    Args:
        help, description: what the command does, in the commands' list and in its own help.
        input: what INPUT, the command's first argument, is (None: it has none).
        output: whether it takes ``-o OUTPUT``, the file it writes.
        hints: what ``--hints FILE`` is to it (None: it takes none).
    """
    parser = commands.add_parser(name, help=help, description=description)
    if input is not None:
        parser.add_argument("input", metavar="INPUT", help=input)
    if output:
        parser.add_argument("-o", "--output", required=True, help="where to write the result")
    if hints is not None:
        parser.add_argument("--hints", metavar="FILE", help=hints)
    parser.set_defaults(run=run)
    return parser


def flag(name: str) -> str:
    """The option that stores ``name``: ``most_hints`` -> ``--most-hints``."""
    return "--" + name.replace("_", "-")


def add_device(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--device",
        default="auto",
        help="where the model runs: auto (CUDA when present), cpu, cuda or cuda:N",
    )


def add_settings(parser: argparse.ArgumentParser, *, video: bool = False) -> None:
    """The options of how pictures are colorized; with ``video``, also those of how colors
    travel from frame to frame."""
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
        help="clean-ups: segment_fill (near-equal colors flattened, color edges kept); "
        "segment_fill:seeds, :slic or :felzenszwalb also fill each superpixel's stray colors",
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
    add_device(parser)
    if not video:
        return
    parser.add_argument(
        "--no-propagate",
        dest="propagate",
        action="store_false",
        help="color each keyframe from its own hints only (no optical flow)",
    )
    parser.add_argument(
        "--temporal",
        type=int,
        default=DEFAULT_TEMPORAL,
        metavar="N",
        help="average colors over N frames on each side along optical flow "
        f"(0: off; default {DEFAULT_TEMPORAL})",
    )
    parser.add_argument(
        "--backend",
        choices=BACKENDS,
        default="torch",
        help="what runs the network (method model): torch, or vs-mlrt's VapourSynth plugin ort "
        "(ONNX Runtime), ov (OpenVINO), trt (TensorRT) or ncnn (pip install "
        "vapoursynth-mlrt-NAME; default: torch)",
    )


def settings_from(args: argparse.Namespace) -> Settings:
    """The one Settings that a command's options describe (what it lacks keeps the default).

    Raises:
        SettingError, DeviceError: a bad setting, named after the command.
    """
    given = {name: getattr(args, name) for name in _SETTINGS if hasattr(args, name)}
    with named(args.command):  # (Settings makes the list of --postprocess steps a tuple)
        return Settings(**given)


def progress_bar(label: str) -> Callable[[Iterator[Any], int], Iterator[Any]]:
    """A progress bar on stderr (frames, fps, time left) around a frame iterator."""

    def bar(frames: Iterator[Any], total: int) -> Iterator[Any]:
        from tqdm import tqdm

        return iter(tqdm(frames, total=total, unit="frame", desc=label, file=sys.stderr))

    return bar
