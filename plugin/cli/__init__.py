"""The ``vscolorize`` command line: one module per command, each registering its options and what
it runs.

User errors (a missing file, bad hints, a bad option) exit with code 2 and one line on stderr that
starts ``vscolorize: error:``; internal failures exit 1 (set VSCOLORIZE_DEBUG=1 for a traceback).
"""

from __future__ import annotations

import logging
import os
import sys
import traceback
from collections.abc import Sequence

from vscolorize.core.errors import VscolorizeError

from . import analyze, demo, export, image, paint, render, train
from .common import Parser

__all__ = ["main"]

log = logging.getLogger("vscolorize")

EXIT_USER_ERROR = 2
EXIT_INTERNAL_ERROR = 1
EXIT_INTERRUPTED = 130

_COMMANDS = (image, train, render, analyze, paint, demo, export)  # in the order --help lists them


def build_parser() -> Parser:
    """The parser of every command; each command's parse result holds its ``run``."""
    from vscolorize import __version__

    parser = Parser(
        prog="vscolorize",
        description="Artist-guided colorization of black-and-white pictures and video.",
    )
    parser.add_argument("--version", action="version", version=f"vscolorize {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log what happens")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for command in _COMMANDS:
        command.register(commands)
    return parser


def _error(message: str) -> None:
    """The one line a user error gets (stdout stays clean: vspipe may own it)."""
    sys.stderr.write(f"vscolorize: error: {message}\n")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    logging.basicConfig(format="vscolorize: %(levelname)s: %(message)s", stream=sys.stderr)
    try:
        args = build_parser().parse_args(argv)
        log.setLevel(logging.INFO if args.verbose else logging.WARNING)
        return int(args.run(args))
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
