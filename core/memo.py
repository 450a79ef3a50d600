"""Small thread-safe caches for values that are pure functions of their keys.

VapourSynth computes frames on several threads at once, and neighboring frames need the same
values (a prediction, the motion between two frames, a shot's carried hints). :class:`Memo` keeps
them, the least recently used dropped past ``keep``, so memory stays bounded however long the
clip.

Two ways to fill it, and the difference matters. :meth:`Memo.get` makes a value once: the other
threads that ask meanwhile wait for it. That is right for pure computation only. A value whose
making asks VapourSynth for frames must use :meth:`Memo.compute`, which never waits: a worker
thread blocked on our event holds one of VapourSynth's threads, and the maker's frame request may
need exactly that thread (VapourSynth lends a thread to a worker that requests a frame, not to
one that waits on us). Computing such a value twice now and then costs little; a deadlock costs
the render.
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

    def compute(self, key: K, make: Callable[[], T]) -> T:
        """The value of ``key``, made by ``make()`` if it is not here, without waiting for any
        other thread (two may make it at once: the first stored wins)."""
        found = self.peek(key)
        if found is not None:
            return found
        value = make()
        with self._lock:
            if key in self._values:
                return self._values[key]
            self._values[key] = value
            while len(self._values) > self._keep:
                self._values.popitem(last=False)
        return value

    def get(self, key: K, make: Callable[[], T]) -> T:
        """The value of ``key``, made by ``make()`` if it is not here (once, whatever the number
        of threads asking). ``make`` must not request VapourSynth frames (see the module's doc)."""
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
