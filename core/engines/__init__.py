"""Colorizers behind one protocol, found by name in a registry.

An engine turns a frame's L* and hints into a*b* at a working size of its own choosing; the
pipeline (``vscolorize.core.pipeline``) does everything else: the clean-ups, the temporal filter,
the upsampling to full size guided by L*, and the conversion to sRGB. Adding a colorizer is adding
a module here and registering its factory; nothing else branches on the method.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Protocol

import numpy as np

from ..errors import SettingError
from ..hints import Keyframe
from .members import Member

if TYPE_CHECKING:
    from ..pipeline import Settings

__all__ = ["DEFAULT_METHOD", "ENGINES", "METHODS", "Engine", "EngineFactory", "create_engine", "register"]


class Engine(Protocol):
    """A colorizer: a frame's L* and hints -> a*b* at its working size.

    ``predict`` is a pure function of its arguments and safe to call from several threads at once.
    """

    #: how many distinct networks can make ensemble members (1: the engine itself)
    variants: int

    def predict(
        self, lightness: np.ndarray, keyframe: Keyframe | None, members: Sequence[Member]
    ) -> np.ndarray:
        """(H, W) L* in [0, 100] and the frame's hints -> (N, h, w, 2) float32 a*b*, one per member
        (see :func:`vscolorize.core.engines.members.plan_members`), at the engine's working size."""
        ...


EngineFactory = Callable[["Settings", str], Engine]
ENGINES: dict[str, EngineFactory] = {}


def register(name: str, factory: EngineFactory) -> None:
    """Make ``method=name`` build its engine with ``factory(settings, device)``."""
    ENGINES[name] = factory


def create_engine(settings: Settings, device: str) -> Engine:
    """The engine ``settings.method`` names, on ``device`` (a resolved torch device name).

    Raises:
        SettingError, ModelUnavailableError: an unknown method, or the engine cannot be made.
    """
    factory = ENGINES.get(settings.method)
    if factory is None:
        raise SettingError(f"method must be one of {METHODS}, not {settings.method!r}")
    return factory(settings, device)


from . import classical, learned  # noqa: E402, F401  (each registers itself)

METHODS: tuple[str, ...] = tuple(sorted(ENGINES))
DEFAULT_METHOD = "model"
