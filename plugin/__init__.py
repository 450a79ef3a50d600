"""vscolorize: artist-guided colorization of black-and-white video, as a VapourSynth plugin.

``vscolorize.colorize(clip, hints=...)`` is the VapourSynth node. The engine (color science, hints,
models) is ``vscolorize.core`` and imports neither VapourSynth nor Qt; so that it stays that way,
this package loads VapourSynth only when ``colorize`` is first used.
"""

from __future__ import annotations

import gc
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

try:
    __version__ = version("vscolorize")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"

# The engine's import brings torch's: about 300,000 objects that live as long as the process.
# Python's cyclic garbage collector would walk them all while they are made, three times in full
# (0.2 s of a first frame's 3 s), and again in every full collection after. So the collector
# waits for the import, and what exists then moves to its permanent generation (gc.freeze), where
# no collection looks again: a cycle among those objects that later becomes garbage is kept.
# A host that turned the collector off keeps it off, and nothing is frozen.
_collecting = gc.isenabled()
gc.disable()
try:
    from vscolorize.core.pipeline import DEFAULT_METHOD

    if _collecting:
        gc.freeze()
finally:
    if _collecting:
        gc.enable()

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
