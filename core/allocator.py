"""The C allocator's settings for the per-frame path: freed memory kept for the next frame.

A frame allocates and frees the same large arrays every time: the Levin base's fronts (a few MB
each, :mod:`vscolorize.core.gridlu`), the network's feature maps, the temporal filter's warped
neighbors. glibc's malloc gives a freed block at the top of its heap back to the operating system
once more than its trim threshold (by default twice the largest block it has freed so far that
was mapped on its own, so a few MB) lies free there, and the next frame's arrays fault the same
pages in again, one page at a time, each zeroed by the kernel. At 80x140 a base solve took
20-26 ms that way and 15-18 ms with the settings below (one core, same process, alternating);
a 240-frame film through vspipe on two threads ran 3-5 % faster.

:func:`keep_freed_memory` fixes the two thresholds once per process: blocks below 32 MB come
from the heap (glibc's own ceiling for the threshold it adapts), and up to 64 MB may lie free at
a heap's top before it is given back; and a heap grows by 16 MB more than it needs at a time
(glibc's top pad, 128 KB by default): 0.46 million page faults in a 240-frame render instead
of 0.56-0.70 million with the thresholds alone, and 1.2-1.6 million with neither. A process's
memory then stays near its peak instead of breathing with every frame, as it does for any long
render. Only glibc has ``mallopt``; on other
C libraries, or where the user set glibc's own (``MALLOC_MMAP_THRESHOLD_``,
``MALLOC_TRIM_THRESHOLD_``, ``MALLOC_TOP_PAD_`` or ``GLIBC_TUNABLES``), nothing changes.
"""

from __future__ import annotations

import ctypes
import logging
import os
import platform
import threading

__all__ = ["MMAP_THRESHOLD", "TOP_PAD", "TRIM_THRESHOLD", "keep_freed_memory"]

log = logging.getLogger(__name__)

MMAP_THRESHOLD = 32 << 20
TRIM_THRESHOLD = 64 << 20
TOP_PAD = 16 << 20
# mallopt's parameter numbers (malloc.h)
_M_TRIM_THRESHOLD = -1
_M_TOP_PAD = -2
_M_MMAP_THRESHOLD = -3
_USER_SETTINGS = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_", "GLIBC_TUNABLES")

_lock = threading.Lock()
_done: bool | None = None  # None: not tried yet; else whether the thresholds were set


def keep_freed_memory() -> bool:
    """Set glibc's mmap and trim thresholds and its top pad (see the module's text), once per process.

    Returns:
        Whether they are set by this module (now or before): False on a C library other than
        glibc, or where the user's environment sets them.
    """
    global _done
    with _lock:
        if _done is None:
            _done = _set_thresholds()
        return _done


def _set_thresholds() -> bool:
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return False
    if any(name in os.environ for name in _USER_SETTINGS):
        log.debug("allocator: the environment sets malloc's thresholds; left as they are")
        return False
    mallopt = ctypes.CDLL(None).mallopt
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    settings = (
        (_M_MMAP_THRESHOLD, MMAP_THRESHOLD),
        (_M_TRIM_THRESHOLD, TRIM_THRESHOLD),
        (_M_TOP_PAD, TOP_PAD),
    )
    return all(mallopt(parameter, value) == 1 for parameter, value in settings)  # 1: done
