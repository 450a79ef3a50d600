"""Small thread-safe caches for values that are pure functions of their keys.

VapourSynth computes frames on several threads at once, and neighboring frames need the same
values (a prediction, the motion between two frames, a shot's carried hints). :class:`Memo`
computes each once: a value being made by one thread is waited for by the others, and the least
recently used values are dropped past ``keep``, so memory stays bounded however long the clip.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable

__all__ = ["Memo"]


class Memo[K: Hashable, T]:
    """At most ``keep`` values, least recently used dropped first."""

    def __init__(self, keep: int) -> None:
        if keep < 1:
            raise ValueError(f"Memo: keep must be at least 1, not {keep}")
        self._keep = keep
        self._values: OrderedDict[K, T] = OrderedDict()
        self._pending: dict[K, threading.Event] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        with self._lock:
            return len(self._values)

    def peek(self, key: K) -> T | None:
        """The value if it is here now (counts as a use), else None; never computes."""
        with self._lock:
            if key in self._values:
                self._values.move_to_end(key)
                return self._values[key]
        return None

    def get(self, key: K, make: Callable[[], T]) -> T:
        """The value of ``key``, made by ``make()`` if it is not here (once, whatever the number
        of threads asking)."""
        while True:
            with self._lock:
                if key in self._values:
                    self._values.move_to_end(key)
                    return self._values[key]
                pending = self._pending.get(key)
                if pending is None:
                    self._pending[key] = threading.Event()
                    break
            pending.wait()  # another thread is making it; then look again
        try:
            value = make()
            with self._lock:
                self._values[key] = value
                while len(self._values) > self._keep:
                    self._values.popitem(last=False)
        finally:
            with self._lock:
                self._pending.pop(key).set()
        return value
