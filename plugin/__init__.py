"""vscolorize: artist-guided colorization of black-and-white video, as a VapourSynth plugin.

``vscolorize.colorize(clip, hints=...)`` is the VapourSynth node. The engine (color science, hints,
models) is ``vscolorize.core`` and imports neither VapourSynth nor Qt; so that it stays that way,
this package loads VapourSynth only when ``colorize`` is first used.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

try:
    __version__ = version("vscolorize")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"

from vscolorize.core.pipeline import DEFAULT_METHOD

if TYPE_CHECKING:
    from .analyze import suggest_keyframes
    from .node import colorize
    from .painting import paint
    from .tracks import propagated_hints

__all__ = ["DEFAULT_METHOD", "__version__", "colorize", "paint", "propagated_hints", "suggest_keyframes"]


def __getattr__(name: str) -> Any:
    if name == "colorize":
        from .node import colorize

        return colorize
    if name == "paint":  # the paint window (Qt) is loaded only when it opens
        from .painting import paint

        return paint
    if name == "propagated_hints":
        from .tracks import propagated_hints

        return propagated_hints
    if name == "suggest_keyframes":
        from .analyze import suggest_keyframes

        return suggest_keyframes
    raise AttributeError(f"module 'vscolorize' has no attribute {name!r}")
