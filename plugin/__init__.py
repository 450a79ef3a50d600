"""vscolorize: artist-guided colorization of black-and-white video, as a VapourSynth plugin.

The VapourSynth-facing API lives here; the engine (color science, hints, models) is
``vscolorize.core`` and imports neither VapourSynth nor Qt.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("vscolorize")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"

__all__ = ["__version__"]
