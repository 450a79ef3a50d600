from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest

from vscolorize.core.memo import Memo


def test_least_recently_used_values_go_first() -> None:
    memo: Memo[int, str] = Memo(keep=2)
    memo.get(1, lambda: "one")
    memo.get(2, lambda: "two")
    assert memo.get(1, lambda: "again") == "one"  # a use: 2 is now the oldest
    memo.get(3, lambda: "three")
    assert memo.peek(2) is None and memo.peek(1) == "one" and len(memo) == 2


def test_get_makes_a_value_once_whatever_the_threads() -> None:
    memo: Memo[int, int] = Memo(keep=4)
    made: list[int] = []

    def slow() -> int:
        made.append(1)
        time.sleep(0.2)
        return 42

    threads = [threading.Thread(target=memo.get, args=(7, slow)) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert made == [1] and memo.peek(7) == 42


def _making(
    way: Callable[[int, Callable[[], str]], str], key: int, value: str
) -> tuple[threading.Thread, threading.Event]:
    """A thread inside ``way(key, make)`` (a Memo's get or compute), its make blocked until the
    event returned is set; then it makes ``value``."""
    started, release = threading.Event(), threading.Event()

    def blocked() -> str:
        started.set()
        release.wait(5)
        return value

    maker = threading.Thread(target=way, args=(key, blocked))
    maker.start()
    started.wait(5)
    return maker, release


def test_compute_never_waits_and_the_first_value_stays() -> None:
    memo: Memo[int, str] = Memo(keep=4)
    maker, release = _making(memo.compute, 1, "late")
    assert memo.compute(1, lambda: "early") == "early"  # did not wait for the other thread
    release.set()
    maker.join()
    assert memo.peek(1) == "early"


def test_a_failed_make_is_not_kept_and_frees_the_waiters() -> None:
    memo: Memo[int, int] = Memo(keep=2)

    def broken() -> int:
        raise RuntimeError("no")

    with pytest.raises(RuntimeError):
        memo.get(1, broken)
    assert memo.get(1, lambda: 5) == 5
    with pytest.raises(ValueError, match="keep"):
        Memo(keep=0)


def test_put_keeps_the_first_value_and_counts_as_a_use() -> None:
    memo: Memo[str, int] = Memo(keep=2)
    assert memo.put("a", 1) == 1
    assert memo.put("a", 2) == 1  # the first stays
    memo.put("b", 3)
    assert memo.peek("a") == 1  # a use: b is now the oldest
    memo.put("c", 4)
    assert memo.peek("b") is None and len(memo) == 2


def test_weighed_values_are_bounded_by_their_total_weight() -> None:
    memo: Memo[str, bytes] = Memo(keep=10, weigh=len)
    memo.put("a", b"1234")
    memo.put("b", b"1234")
    assert len(memo) == 2
    memo.put("c", b"123")  # 11 > 10: the least recently used goes
    assert memo.peek("a") is None and memo.peek("b") == b"1234" and memo.peek("c") == b"123"
    memo.put("d", b"x" * 50)  # heavier than the bound: it alone stays
    assert len(memo) == 1 and memo.peek("d") is not None
    memo.put("e", b"12")
    assert memo.peek("d") is None and len(memo) == 1
    assert memo.get("f", lambda: b"1") == b"1" and len(memo) == 2  # get and compute weigh too
    lone: Memo[str, bytes] = Memo(keep=0, weigh=len)  # keeps the last value only
    lone.put("a", b"1")
    lone.compute("b", lambda: b"2")
    assert lone.peek("a") is None and lone.peek("b") == b"2"
    with pytest.raises(ValueError, match="keep must be at least 0"):
        Memo(keep=-1, weigh=len)


def test_start_makes_what_nobody_has_started_and_never_waits() -> None:
    memo: Memo[int, str] = Memo(keep=4)
    maker, release = _making(memo.get, 1, "theirs")
    began = time.perf_counter()
    assert not memo.missing(1) and memo.missing(2)
    assert memo.start(1, lambda: "mine") is False  # being made: left to the other thread
    assert time.perf_counter() - began < 1
    assert memo.start(2, lambda: "mine") is True and memo.peek(2) == "mine"
    assert memo.start(2, lambda: "again") is False and memo.peek(2) == "mine"
    release.set()
    maker.join()
    assert memo.get(1, lambda: "late") == "theirs"
