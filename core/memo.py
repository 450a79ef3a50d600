"""Small thread-safe caches for values that are pure functions of their keys.

VapourSynth computes frames on several threads at once, and neighboring frames need the same
values (a prediction, the motion between two frames, a shot's carried hints). :class:`Memo` keeps
them, the least recently used dropped past ``keep`` values (or ``keep`` bytes, with ``weigh``), so
memory stays bounded however long the clip. Bounded caches of the package are Memos (motion pairs
kept in memory, cut decisions, picture digests, checked store files), not hand-made dicts.

A value made elsewhere goes in with :meth:`Memo.put`. Two ways to make one, and the difference
matters. :meth:`Memo.get` makes a value once: the other threads that ask meanwhile wait for it.
That is right for pure computation only. A value whose making asks VapourSynth for frames must
use :meth:`Memo.compute`, which never waits: a worker thread blocked on our event holds one of
VapourSynth's threads, and the maker's frame request may need exactly that thread (VapourSynth
lends a thread to a worker that requests a frame, not to one that waits on us). Computing such a
value twice now and then costs little; a deadlock costs the render.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable

__all__ = ["Memo"]


class Memo[K: Hashable, T]:
    """At most ``keep`` values, least recently used dropped first.

    With ``weigh``, ``keep`` bounds the values' total weight instead of their number (bytes, for
    example: ``weigh=lambda a: a.nbytes``), and may be 0; the value stored last always stays,
    whatever its weight.
    """

    def __init__(self, keep: int, *, weigh: Callable[[T], int] | None = None) -> None:
        if keep < (0 if weigh is not None else 1):
            least = "0 with weigh" if weigh is not None else "1"
            raise ValueError(f"Memo: keep must be at least {least}, not {keep}")
        self._keep = keep
        self._weigh = weigh
        self._values: OrderedDict[K, T] = OrderedDict()
        self._weights: dict[K, int] = {}  # with ``weigh`` only
        self._total = 0  # the values' weight (their number without ``weigh``)
        self._pending: dict[K, threading.Event] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        with self._lock:
            return len(self._values)

    def _used(self, key: K) -> T:
        """The value of a key that is here, now the most recently used; the lock must be held."""
        self._values.move_to_end(key)
        return self._values[key]

    def _keep_value(self, key: K, value: T) -> T:
        """Store ``value`` unless ``key`` has one already (the first stays), drop the least
        recently used past the bound, and return what ``key`` holds; the lock must be held."""
        if key in self._values:
            return self._values[key]
        self._values[key] = value
        if self._weigh is None:
            self._total += 1
        else:
            self._weights[key] = self._weigh(value)
            self._total += self._weights[key]
        while self._total > self._keep and len(self._values) > 1:
            old, _ = self._values.popitem(last=False)
            self._total -= self._weights.pop(old, 1)
        return value

    def peek(self, key: K) -> T | None:
        """The value if it is here now (counts as a use), else None; never computes."""
        with self._lock:
            return self._used(key) if key in self._values else None

    def missing(self, key: K) -> bool:
        """Whether ``key`` has no value and no thread is making one (a snapshot: it may change
        at once)."""
        with self._lock:
            return key not in self._values and key not in self._pending

    def put(self, key: K, value: T) -> T:
        """Keep ``value`` (made elsewhere) under ``key``, unless a value is there already: the
        first stored stays, as with :meth:`compute`. Returns the value kept."""
        with self._lock:
            return self._keep_value(key, value)

    def compute(self, key: K, make: Callable[[], T]) -> T:
        """The value of ``key``, made by ``make()`` if it is not here, without waiting for any
        other thread (two may make it at once: the first stored wins)."""
        found = self.peek(key)
        if found is not None:
            return found
        return self.put(key, make())

    def start(self, key: K, make: Callable[[], T]) -> bool:
        """Make the value of ``key`` by ``make()`` unless it is here or another thread is making
        it; never waits (for threads that share out several values: each takes those nobody has
        started, then :meth:`get` waits for the rest). Returns whether this call made it. ``make``
        must not request VapourSynth frames (see the module's doc)."""
        with self._lock:
            if key in self._values or key in self._pending:
                return False
            self._pending[key] = threading.Event()
        self._finish(key, make)
        return True

    def get(self, key: K, make: Callable[[], T]) -> T:
        """The value of ``key``, made by ``make()`` if it is not here (once, whatever the number
        of threads asking). ``make`` must not request VapourSynth frames (see the module's doc)."""
        while True:
            with self._lock:
                if key in self._values:
                    return self._used(key)
                pending = self._pending.get(key)
                if pending is None:
                    self._pending[key] = threading.Event()
                    break
            pending.wait()  # another thread is making it; then look again
        return self._finish(key, make)

    def _finish(self, key: K, make: Callable[[], T]) -> T:
        """Make and keep the value of ``key``, which this thread has marked pending; whatever
        happens, the threads waiting for it are woken (and make it themselves on a failure)."""
        try:
            value = make()
            with self._lock:
                value = self._keep_value(key, value)  # or what compute() stored meanwhile
        finally:
            with self._lock:
                self._pending.pop(key).set()
        return value
