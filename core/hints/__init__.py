"""Color hints: the ``*.hints.json`` v1 format and painting hints into maps.

- :mod:`.model`: the data (:class:`Color`, :class:`Point`, :class:`Stroke`, :class:`Keyframe`,
  :class:`Hints`) and :func:`hint_strength`.
- :mod:`.io`: the file format (:func:`parse_hints`, :func:`load_hints`, :func:`save_hints`,
  :func:`resolve_hints`) with its one-line errors, and :func:`check_frames` (hints against a clip).
- :mod:`.raster`: painting (:func:`densify_path`, :func:`paint_hints`, :func:`rasterize`).

Everything public is importable from here, ``from vscolorize.core.hints import Hints, load_hints``.
"""

from __future__ import annotations

from . import io, model, raster
from .io import *  # noqa: F403  (each module's __all__ is this package's)
from .model import *  # noqa: F403
from .raster import *  # noqa: F403

__all__ = list(model.__all__)
__all__ += io.__all__
__all__ += raster.__all__
