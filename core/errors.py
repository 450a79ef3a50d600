"""Exceptions of vscolorize: one class per kind of failure.

Each also inherits the matching built-in, so ``except ValueError`` keeps working for callers that do
not know vscolorize. Messages are one line and name what is wrong (a function, a parameter, a file
and JSON path); the command line prints them as they are.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

__all__ = [
    "ClipError",
    "DeviceError",
    "HintError",
    "ImageError",
    "ModelUnavailableError",
    "RenderError",
    "SettingError",
    "VscolorizeError",
    "named",
]


class VscolorizeError(Exception):
    """Base class of every error vscolorize raises on purpose (a user's mistake, not a bug)."""


class HintError(VscolorizeError, ValueError):
    """A hints file or hints object is malformed; the message names the file and JSON path."""


class ClipError(VscolorizeError, ValueError):
    """A clip cannot be colorized (not a clip, or a format or size that is not supported)."""


class ImageError(VscolorizeError, ValueError):
    """A picture cannot be read, written or used (wrong shape, range, dtype or file)."""


class SettingError(VscolorizeError, ValueError):
    """A setting (method, post-processing step, ensemble size...) is unknown or out of range."""


class RenderError(VscolorizeError):
    """A video cannot be read or encoded (a missing or unreadable input, the encoder failed)."""


class DeviceError(VscolorizeError, RuntimeError):
    """A requested compute device is unknown or not available on this machine."""


class ModelUnavailableError(VscolorizeError, RuntimeError):
    """The learned model was asked for but no weights for it are installed."""


class BackendUnavailableError(VscolorizeError, RuntimeError):
    """The runtime a backend needs (a vs-mlrt plugin, TensorRT's trtexec) is not installed."""


@contextmanager
def named(caller: str) -> Iterator[None]:
    """Put ``caller`` (a public function's name) in front of the message of any vscolorize error
    raised inside, once: the code below a public function raises plain messages, and the function
    that the user called says its name, as ``colorize: temporal must be ...``."""
    try:
        yield
    except VscolorizeError as e:
        raise type(e)(f"{caller}: {e}") from None
